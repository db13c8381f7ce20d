"""What a coordinator does right on the alert queue: acknowledge or resolve any alert, close a request, record a
follow-up call, send a message again."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from infusion_site.queueing import enqueue_on_commit
from patients.services import ServiceError
from visits.alerts.registry import Alert
from visits.models import AlertHandling, FollowUp, Notification, RescheduleRequest

NOTE_MAX = 2000
TITLE_MAX = 300


# --- Any alert: acknowledged ("I am on it"), resolved with a note ------------------------------------------------


def _new_handling(*, key: str, kind: str, title: str, detail: str, patient, visit) -> AlertHandling:
    return AlertHandling(key=key, kind=kind, title=title[:TITLE_MAX], detail=detail, patient=patient, visit=visit)


def alert_acknowledge(*, alert: Alert, by) -> bool:
    """Mark an alert "I am on it": it stays on the queue, showing who and when. False if someone already
    acknowledged or resolved it (their mark is kept)."""
    patient, visit = alert.subject()
    handling = _new_handling(
        key=alert.key, kind=alert.kind, title=alert.title, detail=alert.detail, patient=patient, visit=visit
    )
    handling.state = AlertHandling.State.ACKNOWLEDGED
    handling.acknowledged_at = timezone.now()
    handling.acknowledged_by = by
    handling.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            handling.save()
    except IntegrityError:
        return False
    return True


def clean_note(note: str) -> str:
    note = (note or "").strip()
    if not note:
        raise ServiceError("Write what was done, e.g. “Called the nurse: patient assessed, no reaction”.")
    if "\x00" in note:
        raise ServiceError("The note has a character that cannot be saved; type it again.")
    if len(note) > NOTE_MAX:
        raise ServiceError(f"Keep the note under {NOTE_MAX} characters.")
    return note


def _resolve(*, key: str, kind: str, title: str, detail: str, patient, visit, note: str, by) -> bool:
    """Resolve under ``key``, from open or acknowledged; False if it was already resolved (its note is kept)."""
    note = clean_note(note)
    now = timezone.now()
    with transaction.atomic():
        updated = AlertHandling.objects.filter(key=key, state=AlertHandling.State.ACKNOWLEDGED).update(
            state=AlertHandling.State.RESOLVED, resolved_at=now, resolved_by=by, note=note
        )
        if updated:
            return True
        if AlertHandling.objects.filter(key=key).exists():
            return False
        handling = _new_handling(key=key, kind=kind, title=title, detail=detail, patient=patient, visit=visit)
        handling.state = AlertHandling.State.RESOLVED
        handling.resolved_at = now
        handling.resolved_by = by
        handling.note = note
        handling.full_clean(validate_unique=False)
        try:
            with transaction.atomic():
                handling.save()
        except IntegrityError:
            return False
    return True


def alert_resolve(*, alert: Alert, note: str, by) -> bool:
    """Resolve an alert with a note (who, when): it leaves the queue and stays in the visit's and patient's
    history. False if it was already resolved."""
    patient, visit = alert.subject()
    return _resolve(
        key=alert.key,
        kind=alert.kind,
        title=alert.title,
        detail=alert.detail,
        patient=patient,
        visit=visit,
        note=note,
        by=by,
    )


def handling_resolve(*, handling: AlertHandling, note: str, by) -> bool:
    """Resolve an alert taken on earlier that its source no longer raises; False if already resolved."""
    return _resolve(
        key=handling.key,
        kind=handling.kind,
        title=handling.title,
        detail=handling.detail,
        patient=handling.patient,
        visit=handling.visit,
        note=note,
        by=by,
    )


# --- Kinds resolved by their own form ------------------------------------------------------------------------------


def reschedule_request_resolve(*, request: RescheduleRequest, resolution: str, by) -> bool:
    """Close a patient's request with a note; False if someone else closed it first."""
    with transaction.atomic():
        closed = RescheduleRequest.objects.filter(pk=request.pk, resolved_at__isnull=True).update(
            resolved_at=timezone.now(), resolved_by=by, resolution=resolution
        )
        if closed == 1:
            visit = request.visit
            _resolve(
                key=f"reschedule_request-{request.pk}",
                kind="reschedule_request",
                title=f"{visit.patient.full_name} asked to move a visit",
                detail=f"Reason: {request.reason}",
                patient=visit.patient,
                visit=visit,
                note=resolution,
                by=by,
            )
    return closed == 1


def follow_up_record_call(*, follow_up: FollowUp, note: str, by) -> bool:
    """A coordinator called the patient who did not answer; False if someone recorded it first."""
    note = note.strip()
    if not note:
        raise ServiceError("Write what the patient said, e.g. “No symptoms; feeling well”.")
    with transaction.atomic():
        called = FollowUp.objects.filter(pk=follow_up.pk, called_at=None).update(
            called_at=timezone.now(), called_by=by, call_note=note[:2000]
        )
        if called == 1:
            visit = follow_up.visit
            _resolve(
                key=f"follow_up_call-{follow_up.pk}",
                kind="follow_up_call",
                title=f"Call {visit.patient.full_name}: follow-up not answered",
                detail=f"{follow_up.get_window_display()} the infusion; called.",
                patient=visit.patient,
                visit=visit,
                note=note,
                by=by,
            )
    return called == 1


def notification_retry(*, notification: Notification, by) -> Notification:
    """A coordinator sends a failed notification again (after fixing the address, say)."""
    updated = (
        Notification.objects.filter(pk=notification.pk)
        .exclude(failed_at=None)
        .update(failed_at=None, attempts=0, next_attempt_at=timezone.now(), queued_at=None, last_error="")
    )
    if updated:
        enqueue_on_commit("visits.tasks.deliver_notification", notification.pk)
    notification.refresh_from_db()
    return notification
