"""What a coordinator does right on the alert queue: close a request, record a follow-up call, send a message again."""

from django.db import transaction
from django.utils import timezone

from infusion_site.queueing import enqueue_on_commit
from patients.services import ServiceError
from visits.models import FollowUp, Notification, RescheduleRequest


def reschedule_request_resolve(*, request: RescheduleRequest, resolution: str, by) -> bool:
    """Close a patient's request with a note; False if someone else closed it first."""
    with transaction.atomic():
        closed = RescheduleRequest.objects.filter(pk=request.pk, resolved_at__isnull=True).update(
            resolved_at=timezone.now(), resolved_by=by, resolution=resolution
        )
    return closed == 1


def follow_up_record_call(*, follow_up: FollowUp, note: str, by) -> bool:
    """A coordinator called the patient who did not answer; False if someone recorded it first."""
    note = note.strip()
    if not note:
        raise ServiceError("Write what the patient said, e.g. “No symptoms; feeling well”.")
    with transaction.atomic():
        return (
            FollowUp.objects.filter(pk=follow_up.pk, called_at=None).update(
                called_at=timezone.now(), called_by=by, call_note=note[:2000]
            )
            == 1
        )


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
