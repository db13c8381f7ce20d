"""Alert sources the background jobs feed: overdue charts, labs due, follow-ups and failed deliveries.

Registered on the same queue as the others (``visits.alerts.sources``); the notification sweeps also
tell coordinators about them by email or in the app (``visits.notifications.due``).
"""

from datetime import UTC, datetime, timedelta

from django.db.models import (
    CharField,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from patients.models import CREATININE_VALID_DAYS, LabResult
from visits.alerts.registry import (
    Alert,
    Severity,
    alert_source,
    board_url,
    days_text,
    key_of,
    severity_when,
    when_text,
)
from visits.models import (
    FollowUp,
    Notification,
    Reaction,
    Therapy,
    Visit,
    VisitVerification,
    visit_changed_since,
)

# --- When a visit ended ---------------------------------------------------------------------------

OPEN_CHART_STATUSES = (
    Visit.Status.CHECKED_IN,
    Visit.Status.INFUSING,
    Visit.Status.OBSERVING,
    Visit.Status.COMPLETED,
)


def visit_ended_at(visit: Visit) -> datetime:
    """Check-out if recorded, else the end of the infusion plus observation, else the planned end."""
    verification = getattr(visit, "verification", None)
    if verification is not None and verification.checked_out_at:
        return verification.checked_out_at
    return visit.planned_end


def _name(user) -> str:
    return (user.get_full_name() or user.username) if user else "no nurse"


# --- Charts not signed ------------------------------------------------------------------------------

CHART_NURSE_AFTER = timedelta(hours=2)
CHART_COORDINATOR_AFTER = timedelta(hours=6)
CHART_LOOKS_BACK = timedelta(days=7)


def unsigned_visits(*, now: datetime, after: timedelta, since: datetime | None = None) -> list[tuple[Visit, datetime]]:
    """Visits with a nurse, ended at least ``after`` ago (within the last week) and not signed; with ``since``, only
    those that reached that age, or changed, after it (the notification sweep)."""
    visits = (
        Visit.objects.filter(
            Q(status__in=OPEN_CHART_STATUSES) | Q(status=Visit.Status.SCHEDULED, nurse__isnull=False),
            planned_start__gte=now - CHART_LOOKS_BACK,
            planned_start__lt=now,
        )
        .select_related("patient", "order__product", "nurse")
        .prefetch_related("verifications")
        .order_by("planned_start", "pk")
    )
    if since is not None:
        # Exactly those that reached ``after`` since: a stretch of planned starts would hand back thousands.
        reached = Q(ended_at__gt=since - after)
        visits = visits.annotate(ended_at=ended_at_expression()).filter(reached | visit_changed_since(since))
    found = []
    for visit in visits:
        ended = visit_ended_at(visit)
        if ended <= now - after:
            found.append((visit, ended))
    return found


def ended_at_expression():
    """``visit_ended_at`` in SQL: the live check-in's check-out if recorded, else the planned end."""
    checked_out = VisitVerification.objects.filter(visit=OuterRef("pk"), voided_at=None).values("checked_out_at")[:1]
    minutes = ExpressionWrapper(F("planned_minutes"), output_field=IntegerField())  # SQLite multiplies only these
    planned_length = ExpressionWrapper(minutes * Value(timedelta(minutes=1)), output_field=DurationField())
    planned_end = ExpressionWrapper(F("planned_start") + planned_length, output_field=DateTimeField())
    return Coalesce(Subquery(checked_out, output_field=DateTimeField()), planned_end)


def unsigned_chart_rows(*, now: datetime):
    """Visits with a nurse, ended at least 6 hours ago (within the last week) and not signed."""
    return (
        Visit.objects.filter(
            Q(status__in=OPEN_CHART_STATUSES) | Q(status=Visit.Status.SCHEDULED, nurse__isnull=False),
            planned_start__gte=now - CHART_LOOKS_BACK,
            planned_start__lt=now,
        )
        .annotate(alert_due=ended_at_expression())
        .filter(alert_due__lte=now - CHART_COORDINATOR_AFTER)
        .annotate(alert_severity=severity_when(None), alert_key=key_of("unsigned_chart"))
        .select_related("patient", "order__product", "nurse")
        .order_by("alert_due", "pk")
    )


def unsigned_chart_alert(visit: Visit, *, now: datetime) -> Alert:
    not_started = visit.status == Visit.Status.SCHEDULED
    ended = visit.alert_due
    return Alert(
        kind="unsigned_chart",
        severity=Severity.SOON,
        title=f"Chart not signed: {visit.patient.full_name}",
        detail=(
            f"{visit.order.product.name} visit {'planned to end' if not_started else 'ended'} "
            f"{when_text(ended, visit.patient.zone)}; {_name(visit.nurse)}. "
            + ("Never checked in: document it or mark it missed." if not_started else "")
        ).strip(),
        url=board_url(visit) if not_started else reverse("visits:chart", args=[visit.pk]),
        action_label="Open the board" if not_started else "Open the chart",
        due=ended,
        about=visit,
    )


@alert_source(
    "unsigned_chart",
    label="Charts not signed 6 hours after the visit",
    rows=unsigned_chart_rows,
    build=unsigned_chart_alert,
    team="patient__team_id",
)
def unsigned_charts(*, now: datetime, since: datetime | None = None) -> list[Alert]:
    """With ``since``, only those that reached 6 hours, or changed, after it (the notification sweep)."""
    visits = unsigned_chart_rows(now=now)
    if since is not None:
        visits = visits.filter(Q(alert_due__gt=since - CHART_COORDINATOR_AFTER) | visit_changed_since(since))
    return [unsigned_chart_alert(visit, now=now) for visit in visits]


# --- Creatinine due before the next IVIG cycle --------------------------------------------------------

# Two weeks' notice, as for authorizations: time to draw blood at a visit or a lab before the cycle starts.
CREATININE_LOOKS_AHEAD = timedelta(days=14)


def _current_from(now: datetime):
    """A creatinine collected on or after this day is still valid for every visit of the next 14 days."""
    last_day = (now.astimezone(UTC) + CREATININE_LOOKS_AHEAD + timedelta(hours=14)).date()  # UTC+14 is furthest ahead
    return last_day - timedelta(days=CREATININE_VALID_DAYS)


def creatinine_due_visits(*, now: datetime, since: datetime | None = None) -> list[Visit]:
    """Each patient's first IVIG cycle start within 14 days whose latest creatinine will be over 3 months old; with
    ``since``, only for patients with such a visit that came within 14 days, or changed, after it."""
    latest = (
        LabResult.objects.filter(patient=OuterRef("patient"), test=LabResult.Test.CREATININE)
        .order_by("-collected_on")
        .values("collected_on")[:1]
    )
    visits = (
        Visit.objects.filter(
            order__product__therapy=Therapy.IVIG,
            status=Visit.Status.SCHEDULED,
            day_number=1,
            planned_start__gte=now,
            planned_start__lt=now + CREATININE_LOOKS_AHEAD,
        )
        .annotate(creatinine_on=Subquery(latest))
        # A result still within 3 months on the last day a visit of the window can fall on (in any zone) is current
        # for every visit: only the others are read, then checked on the patient's own calendar.
        .filter(Q(creatinine_on__isnull=True) | Q(creatinine_on__lt=_current_from(now)))
        .select_related("patient", "order__product")
        .order_by("planned_start", "pk")
    )
    if since is not None:
        news = visits.filter(Q(planned_start__gte=since + CREATININE_LOOKS_AHEAD) | Q(updated_at__gt=since))
        visits = visits.filter(patient__in=news.values("patient"))
    first: dict[int, Visit] = {}
    for visit in visits:
        if visit.patient_id in first:
            continue
        needed_from = visit.local_start.date() - timedelta(days=CREATININE_VALID_DAYS)
        if visit.creatinine_on is None or visit.creatinine_on < needed_from:
            first[visit.patient_id] = visit
    return list(first.values())


@alert_source("creatinine_due", label="Creatinine due before the next IVIG cycle")
def creatinine_due(*, now: datetime, since: datetime | None = None) -> list[Alert]:
    today = timezone.localdate(now)
    alerts = []
    for visit in creatinine_due_visits(now=now, since=since):
        days = (visit.local_start.date() - today).days
        last = f"last result {visit.creatinine_on:%d %b %Y}" if visit.creatinine_on else "no result on file"
        alerts.append(
            Alert(
                kind="creatinine_due",
                severity=Severity.URGENT if days <= 3 else Severity.SOON,
                title=f"Creatinine due: {visit.patient.full_name}",
                detail=(
                    f"IVIG cycle {visit.cycle_number} starts {when_text(visit.planned_start, visit.patient.zone)} "
                    f"({days_text(days)}); {last}. A result within 3 months is a hard stop before IVIG."
                ),
                url=reverse("patients:detail", args=[visit.patient_id]) + "#labs",
                action_label="Record a result",
                due=visit.planned_start,
                about=visit,
            )
        )
    return alerts


# --- Follow-up after IVIG: unanswered questions, delayed reactions --------------------------------------

FOLLOW_UP_ANSWER_WITHIN = timedelta(hours=24)
FOLLOW_UP_CALL_SHOWN_FOR = timedelta(days=10)
DELAYED_REACTION_SHOWN_FOR = timedelta(days=7)


def follow_ups_needing_a_call(*, now: datetime):
    return (
        FollowUp.objects.filter(
            answered_at=None,
            called_at=None,
            due_at__lte=now - FOLLOW_UP_ANSWER_WITHIN,
            due_at__gte=now - FOLLOW_UP_CALL_SHOWN_FOR,
        )
        .select_related("visit__patient", "visit__order__product")
        .order_by("due_at", "pk")
    )


@alert_source("follow_up_call", label="Follow-up calls (questions not answered in 24 hours)")
def follow_up_calls(*, now: datetime, since: datetime | None = None) -> list[Alert]:
    follow_ups = follow_ups_needing_a_call(now=now)
    if since is not None:
        follow_ups = follow_ups.filter(Q(due_at__gt=since - FOLLOW_UP_ANSWER_WITHIN) | Q(created_at__gt=since))
    alerts = []
    for follow_up in follow_ups:
        visit = follow_up.visit
        phone = visit.patient.phone or "no phone on file"
        alerts.append(
            Alert(
                kind="follow_up_call",
                severity=Severity.SOON,
                title=f"Call {visit.patient.full_name}: follow-up not answered",
                detail=(
                    f"{follow_up.get_window_display()} the {visit.order.product.name} infusion of "
                    f"{when_text(visit.planned_start, visit.patient.zone)}; asked "
                    f"{when_text(follow_up.due_at, visit.patient.zone)}. Phone: {phone}."
                ),
                url=reverse("patients:detail", args=[visit.patient_id]),
                action_label="Open the patient",
                due=follow_up.due_at + FOLLOW_UP_ANSWER_WITHIN,
                about=follow_up,
                form_template="visits/alerts/follow_up_call_form.html",
                resolved_by_own_form=True,
            )
        )
    return alerts


@alert_source("delayed_reaction", label="Delayed reactions reported after IVIG")
def delayed_reactions(*, now: datetime, since: datetime | None = None) -> list[Alert]:
    reactions = (
        Reaction.objects.filter(is_delayed=True, recorded_at__gte=now - DELAYED_REACTION_SHOWN_FOR)
        .filter(Q(recorded_at__gt=since) if since is not None else Q())
        .select_related("visit__patient", "visit__order__product", "visit__nurse")
        .prefetch_related("visit__vials")
        .order_by("recorded_at", "pk")
    )
    alerts = []
    for reaction in reactions:
        visit = reaction.visit
        lots = ", ".join(sorted({vial.lot_number for vial in visit.vials.all()})) or "no lots recorded"
        urgent = "emergency" in reaction.outcome.lower()
        alerts.append(
            Alert(
                kind="delayed_reaction",
                severity=Severity.URGENT if urgent else Severity.SOON,
                title=f"Delayed reaction reported: {visit.patient.full_name}",
                detail=(
                    f"After {visit.order.product.name} on {when_text(visit.planned_start, visit.patient.zone)}: "
                    f"{reaction.other_symptom}."
                ),
                lines=[line for line in (f"Lots: {lots}", reaction.outcome, reaction.medications_given) if line],
                url=reverse("visits:print", args=[visit.pk]),
                action_label="Open the visit record",
                due=reaction.recorded_at,
                about=reaction,
            )
        )
    return alerts


# --- Notifications that could not be delivered ------------------------------------------------------------

FAILED_SHOWN_FOR = timedelta(days=14)


class EpochSeconds(Func):
    """Whole seconds since 1970 of a datetime column, as text: ``str(int(moment.timestamp()))`` in SQL."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection):
        return self.as_sql(compiler, connection, template="FLOOR(EXTRACT(EPOCH FROM %(expressions)s))::bigint::text")

    def as_sqlite(self, compiler, connection):
        return self.as_sql(compiler, connection, template="CAST(strftime('%%%%s', %(expressions)s) AS TEXT)")


def failed_notifications(*, now: datetime):
    return (
        Notification.objects.filter(failed_at__gte=now - FAILED_SHOWN_FOR)
        .annotate(
            alert_severity=severity_when(None, otherwise=Severity.INFO),
            alert_due=F("failed_at"),
            alert_key=key_of("notification_failed", EpochSeconds("failed_at")),
        )
        .select_related("recipient__patient_record")
        .order_by("failed_at", "pk")
    )


def undelivered_notification_alert(notification: Notification, *, now: datetime) -> Alert:
    recipient = notification.recipient
    patient = getattr(recipient, "patient_record", None)
    who = patient.full_name if patient else _name(recipient)
    return Alert(
        kind="notification_failed",
        severity=Severity.INFO,
        title=f"Not delivered: {notification.get_kind_display().lower()} to {who}",
        detail=f"By {notification.get_channel_display().lower()}: {notification.last_error}",
        url=reverse("patients:detail", args=[patient.pk]) if patient else f"mailto:{recipient.email}",
        action_label="Check the contact details" if patient else "Contact them",
        due=notification.failed_at,
        about=notification,
        form_template="visits/alerts/notification_retry_form.html",
        # Sent again and failed again is a new failure.
        fact=str(int(notification.failed_at.timestamp())),
    )


@alert_source(
    "notification_failed",
    label="Messages that could not be delivered",
    rows=failed_notifications,
    build=undelivered_notification_alert,
)
def undelivered_notifications(*, now: datetime) -> list[Alert]:
    return [undelivered_notification_alert(notification, now=now) for notification in failed_notifications(now=now)]
