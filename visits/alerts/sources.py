"""Alerts from the schedule and the chart: unassigned visits, authorizations, requests, reactions, overrides, vitals."""

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.urls import reverse
from django.utils import timezone

from patients.models import Patient, PriorAuthorization
from visits.alerts.registry import (
    Alert,
    Severity,
    alert_source,
    board_url,
    days_text,
    in_how_long,
    key_of,
    sentence,
    severity_when,
    start_of_day,
    when_text,
)
from visits.models import RescheduleRequest, TherapyOrder, Visit

UNASSIGNED_WITHIN = timedelta(hours=72)
UNASSIGNED_URGENT_WITHIN = timedelta(hours=24)
AUTHORIZATION_ENDS_WITHIN_DAYS = 14
AUTHORIZATION_URGENT_DAYS = 3
AUTHORIZATION_FEW_VISITS_LEFT = 2
REQUEST_SOON_WITHIN = timedelta(hours=72)


# --- Sources ---------------------------------------------------------------------------------


def unassigned_visit_rows(*, now: datetime):
    """Scheduled visits without a nurse that start within the next 72 hours."""
    return (
        Visit.objects.filter(
            nurse__isnull=True,
            status=Visit.Status.SCHEDULED,
            planned_start__gte=now,
            planned_start__lt=now + UNASSIGNED_WITHIN,
        )
        .annotate(
            alert_severity=severity_when(Q(planned_start__lt=now + UNASSIGNED_URGENT_WITHIN)),
            alert_due=F("planned_start"),
            alert_key=key_of("unassigned_visit"),
        )
        .select_related("patient", "order__product")
        .order_by("planned_start", "pk")
    )


def unassigned_visit_alert(visit: Visit, *, now: datetime) -> Alert:
    return Alert(
        kind="unassigned_visit",
        severity=Severity(visit.alert_severity),
        title=f"No nurse for {visit.patient.full_name}",
        detail=(
            f"{visit.order.product.name}, cycle {visit.cycle_number} day {visit.day_number}: "
            f"{when_text(visit.planned_start, visit.patient.zone)} "
            f"({in_how_long(visit.planned_start - now)}), {visit.planned_minutes} min."
        ),
        url=board_url(visit),
        action_label="Assign on the board",
        due=visit.planned_start,
        about=visit,
    )


@alert_source(
    "unassigned_visit",
    label="Unassigned visits",
    rows=unassigned_visit_rows,
    build=unassigned_visit_alert,
    team="patient__team_id",
)
def unassigned_visits(*, now: datetime, since: datetime | None = None) -> list[Alert]:
    """Scheduled visits without a nurse that start within the next 72 hours; with ``since``, those that came within
    72 hours, or changed, after it."""
    visits = unassigned_visit_rows(now=now)
    if since is not None:
        visits = visits.filter(Q(planned_start__gte=since + UNASSIGNED_WITHIN) | Q(updated_at__gt=since))
    return [unassigned_visit_alert(visit, now=now) for visit in visits]


# Every local day lies within 14 hours of UTC (UTC-12 to UTC+14).
DAY_MARGIN = timedelta(hours=14)


def _day_start(day) -> ExpressionWrapper:
    """Midnight UTC of a date column, as a datetime the visits' ``planned_start`` can be compared with."""
    return ExpressionWrapper(Cast(day, DateTimeField()), output_field=DateTimeField())


class LocalMidnight(Func):
    """The first moment of a date column's day in the agency's zone (PostgreSQL), so that visits are counted on a
    plain ``planned_start`` range the (patient, planned_start) index serves, with no time zone work per visit."""

    output_field = DateTimeField()

    def as_postgresql(self, compiler, connection):
        zone = timezone.get_current_timezone_name()
        return self.as_sql(compiler, connection, template=f"(%(expressions)s::timestamp AT TIME ZONE '{zone}')")


def visits_used_subquery() -> Subquery:
    """The patient's live visits (not cancelled or missed) dated inside the authorization window.

    On PostgreSQL the window's local days are turned into a ``planned_start`` range; elsewhere the range is widened
    by the zones' margin and each visit's local day is tested on the few rows it leaves."""
    used = Visit.objects.active().filter(patient=OuterRef("patient"))
    if connection.vendor == "postgresql":
        used = used.filter(
            planned_start__gte=LocalMidnight(OuterRef("valid_from")),
            planned_start__lt=LocalMidnight(OuterRef("valid_to") + Value(timedelta(days=1))),
        )
    else:
        used = used.filter(
            planned_start__gte=_day_start(OuterRef("valid_from")) - Value(DAY_MARGIN),
            planned_start__lt=_day_start(OuterRef("valid_to")) + Value(timedelta(days=1) + DAY_MARGIN),
            planned_start__date__gte=OuterRef("valid_from"),
            planned_start__date__lte=OuterRef("valid_to"),
        )
    used = used.order_by().values("patient").annotate(n=Count("*")).values("n")  # from the index alone
    return Coalesce(Subquery(used, output_field=IntegerField()), Value(0))


def _authorizations_to_look_at(*, today) -> list[int]:
    """The live authorizations that may be ending or running out of visits: one pass over their visits, done once
    per read of the queue so that its count and its page only recount these few."""
    ends_by = today + timedelta(days=AUTHORIZATION_ENDS_WITHIN_DAYS)
    return list(
        PriorAuthorization.objects.filter(valid_to__gte=today)
        .annotate(visits_used=visits_used_subquery())
        .filter(Q(valid_to__lte=ends_by) | Q(visits_authorized__lte=F("visits_used") + AUTHORIZATION_FEW_VISITS_LEFT))
        .values_list("pk", flat=True)
    )


def authorization_rows(*, now: datetime):
    """Authorizations ending within 14 days (unless a later one is on file), or with 2 or fewer visits left."""
    today = timezone.localdate(now)
    ends_by = today + timedelta(days=AUTHORIZATION_ENDS_WITHIN_DAYS)
    renewed = PriorAuthorization.objects.filter(patient=OuterRef("patient"), valid_to__gt=OuterRef("valid_to"))
    ending = Q(valid_to__lte=ends_by, renewed=False)
    few_left = Q(visits_left__lte=AUTHORIZATION_FEW_VISITS_LEFT)
    # Ending soon and running out of visits are two facts: resolving one does not hide the other.
    fact = Case(
        When(ending & few_left, then=Value("ending-few_left")),
        When(ending, then=Value("ending")),
        default=Value("few_left"),
        output_field=CharField(),
    )
    urgent = Q(valid_to__lte=today + timedelta(days=AUTHORIZATION_URGENT_DAYS), renewed=False) | Q(visits_left__lte=0)
    return (
        PriorAuthorization.objects.filter(pk__in=_authorizations_to_look_at(today=today))
        .annotate(visits_used=visits_used_subquery(), renewed=Exists(renewed))
        .annotate(visits_left=ExpressionWrapper(F("visits_authorized") - F("visits_used"), output_field=IntegerField()))
        .filter(ending | few_left)
        .annotate(alert_severity=severity_when(urgent), alert_due=F("valid_to"))
        .annotate(alert_key=key_of("authorization", fact))
        .select_related("patient")
        .order_by("valid_to", "pk")
    )


def authorization_alert(authorization: PriorAuthorization, *, now: datetime) -> Alert:
    today = timezone.localdate(now)
    days_left = authorization.days_left(today)
    ends_soon = days_left <= AUTHORIZATION_ENDS_WITHIN_DAYS and not authorization.renewed
    few_left = authorization.visits_left <= AUTHORIZATION_FEW_VISITS_LEFT
    reasons = []
    if ends_soon:
        reasons.append(
            f"it ends {authorization.valid_to:%a} {authorization.valid_to.day} "
            f"{authorization.valid_to:%b %Y} ({days_text(days_left)})"
        )
    if few_left:
        left = authorization.visits_left
        reasons.append(
            f"{authorization.visits_used} of {authorization.visits_authorized} authorized visits are used or "
            f"planned: {'none' if left <= 0 else left} left" + (f", {-left} over" if left < 0 else "")
        )
    return Alert(
        kind="authorization",
        severity=Severity(authorization.alert_severity),
        title=f"Authorization {authorization.payer} #{authorization.number} for {authorization.patient.full_name}",
        detail=sentence(" and ".join(reasons)),
        url=reverse("patients:detail", args=[authorization.patient_id]) + "#authorizations",
        action_label="Open the patient",
        due=start_of_day(authorization.valid_to),
        about=authorization,
        fact="-".join(name for name, why in (("ending", ends_soon), ("few_left", few_left)) if why),
    )


@alert_source(
    "authorization",
    label="Prior authorizations",
    rows=authorization_rows,
    build=authorization_alert,
    team="patient__team_id",
)
def authorizations_running_out(*, now: datetime, since: datetime | None = None) -> list[Alert]:
    """Authorizations ending within 14 days (unless a later one is on file), or with 2 or fewer visits left; with
    ``since`` on the same day, only those of patients whose visits changed after it."""
    authorizations = authorization_rows(now=now)
    if since is not None and timezone.localdate(since) == timezone.localdate(now):
        authorizations = authorizations.filter(patient__in=Visit.objects.filter(updated_at__gt=since).values("patient"))
    return [authorization_alert(authorization, now=now) for authorization in authorizations]


# --- Visits no prior authorization covers ---------------------------------------------------------

NO_AUTHORIZATION_LOOKS_AHEAD = timedelta(days=28)
ZONE_MARGIN = DAY_MARGIN


def _utc_day(expression) -> TruncDate:
    return TruncDate(ExpressionWrapper(expression, output_field=DateTimeField()), tzinfo=UTC)


@alert_source("no_authorization", label="Visits with no prior authorization")
def visits_without_authorization(*, now: datetime) -> list[Alert]:
    """Visits of the next four weeks on a day no prior authorization of the patient covers, whatever its count
    (the orders page flags them when they are planned; this keeps them in front of the coordinator until one is
    on file). One alert per order. Four queries at most: the database keeps the visits no authorization covers around
    the visit's day in any time zone, as plain values; each is checked on its patient's own calendar day against the
    patient's authorizations; then the orders of those left are read."""
    today = timezone.localdate(now)
    covering = PriorAuthorization.objects.filter(
        patient=OuterRef("patient"), valid_from__lte=OuterRef("earliest_day"), valid_to__gte=OuterRef("latest_day")
    )
    candidates = list(
        Visit.objects.active()
        .filter(planned_start__gte=now, planned_start__lt=now + NO_AUTHORIZATION_LOOKS_AHEAD)
        .annotate(
            earliest_day=_utc_day(F("planned_start") - Value(ZONE_MARGIN)),
            latest_day=_utc_day(F("planned_start") + Value(ZONE_MARGIN)),
        )
        .filter(~Exists(covering))
        .order_by("order_id", "planned_start", "pk")
        .values_list("order_id", "patient_id", "planned_start")  # plain tuples: hundreds of rows at agency size
    )
    if not candidates:
        return []
    patients = Patient.objects.in_bulk({patient_id for _, patient_id, _ in candidates})
    windows: dict[int, list[tuple]] = {}
    for authorization in PriorAuthorization.objects.filter(patient_id__in=patients):
        windows.setdefault(authorization.patient_id, []).append((authorization.valid_from, authorization.valid_to))
    by_order: dict[int, tuple[Patient, list[datetime]]] = {}
    for order_id, patient_id, start in candidates:
        day = timezone.localtime(start, patients[patient_id].zone).date()
        if not any(first <= day <= last for first, last in windows.get(patient_id, [])):
            by_order.setdefault(order_id, (patients[patient_id], []))[1].append(start)
    orders = TherapyOrder.objects.select_related("product").in_bulk(by_order)
    alerts = []
    for order_id, (patient, starts) in by_order.items():
        order = orders[order_id]
        first, last = (timezone.localtime(start, patient.zone).date() for start in (starts[0], starts[-1]))
        days = (first - today).days
        count = len(starts)
        span = f"on {_day(first)}" if count == 1 else f"from {_day(first)} to {_day(last)}"
        alerts.append(
            Alert(
                kind="no_authorization",
                severity=Severity.URGENT if days <= AUTHORIZATION_URGENT_DAYS else Severity.SOON,
                title=f"No prior authorization for {patient.full_name}",
                detail=(
                    f"{count} {order.product.name} visit{'s' if count != 1 else ''} {span} "
                    f"(the first {days_text(days)}): no prior authorization on file covers "
                    f"{'that day' if count == 1 else 'those days'}. Record one, or ask the payer."
                ),
                url=reverse("patients:detail", args=[patient.pk]) + "#authorizations",
                action_label="Open the patient",
                due=starts[0],
                about=order,
            )
        )
    return alerts


def _day(day) -> str:
    return f"{day:%a} {day.day} {day:%b}"


@alert_source("reschedule_request", label="Reschedule requests from patients")
def open_reschedule_requests(*, now: datetime) -> list[Alert]:
    """Patients' requests to move a visit that nobody has answered yet."""
    requests = RescheduleRequest.objects.filter(resolved_at__isnull=True).select_related(
        "visit__patient", "visit__order__product", "visit__nurse"
    )
    alerts = []
    for request in requests:
        visit = request.visit
        nurse = (visit.nurse.get_full_name() or visit.nurse.username) if visit.nurse else "no nurse yet"
        alerts.append(
            Alert(
                kind="reschedule_request",
                severity=Severity.SOON if visit.planned_start - now < REQUEST_SOON_WITHIN else Severity.INFO,
                title=f"{visit.patient.full_name} asks to move a visit",
                detail=(
                    f"{visit.order.product.name} on {when_text(visit.planned_start, visit.patient.zone)} "
                    f"({in_how_long(visit.planned_start - now)}), {nurse}."
                ),
                lines=[
                    f"Reason: {request.reason}",
                    f"Preferred: {request.preferred_dates}",
                    f"Asked {when_text(request.created_at, visit.patient.zone)}",
                ],
                url=board_url(visit),
                action_label="Move it on the board",
                due=visit.planned_start,
                about=request,
                form_template="visits/alerts/resolve_request_form.html",
                resolved_by_own_form=True,
            )
        )
    return alerts


# --- Severe reactions (visit chart) ------------------------------------------------------------------

SEVERE_REACTION_SHOWN_FOR = timedelta(days=7)
SEVERE_REACTION_URGENT_FOR = timedelta(hours=24)


@alert_source("severe_reaction", label="Severe reactions (grade 3 or more)")
def severe_reactions(*, now: datetime, since: datetime | None = None) -> list[Alert]:
    """DESIGN §3: a grade 3 or more reaction alerts the coordinator at once; it stays on the queue for a week."""
    from visits.chart.signoff.services import SEVERE_GRADE, SYMPTOMS
    from visits.models import Reaction  # the chart's models; imported here to keep this addition self-contained

    reactions = Reaction.objects.filter(
        grade__gte=SEVERE_GRADE, recorded_at__gte=now - SEVERE_REACTION_SHOWN_FOR
    ).select_related("visit__patient", "visit__order__product", "visit__nurse")
    if since is not None:
        reactions = reactions.filter(recorded_at__gt=since)
    alerts = []
    for reaction in reactions:
        visit = reaction.visit
        zone = visit.patient.zone
        nurse = (visit.nurse.get_full_name() or visit.nurse.username) if visit.nurse else "no nurse"
        symptoms = ", ".join(
            (reaction.other_symptom or "other") if key == "other" else SYMPTOMS.get(key, key).lower()
            for key in reaction.symptoms
        )
        lines = [f"Action: {reaction.get_action_display().lower()}."]
        if reaction.medications_given:
            lines.append(f"Given: {reaction.medications_given}")
        if reaction.physician_notified_at:
            lines.append(f"Physician notified {when_text(reaction.physician_notified_at, zone)}.")
        if reaction.outcome:
            lines.append(f"Outcome: {reaction.outcome}")
        alerts.append(
            Alert(
                kind="severe_reaction",
                severity=Severity.URGENT if now - reaction.recorded_at < SEVERE_REACTION_URGENT_FOR else Severity.SOON,
                title=f"Grade {reaction.grade} reaction: {visit.patient.full_name}",
                detail=(
                    f"{visit.order.product.name}, cycle {visit.cycle_number} day {visit.day_number}; "
                    f"onset {when_text(reaction.onset_at, zone)}: {symptoms}. Nurse: {nurse}."
                ),
                lines=lines,
                url=reverse("visits:chart", args=[visit.pk]) + "#section-reactions",
                action_label="Open the chart",
                due=reaction.onset_at,
                about=reaction,
            )
        )
    return alerts


# --- Check-in exceptions (electronic visit verification) ----------------------------------------------

CHECKIN_EXCEPTION_SHOWN_FOR = timedelta(days=14)


@alert_source("checkin_exception", label="Check-in exceptions (location not verified, outside the visit's window)")
def checkin_exceptions(*, now: datetime, since: datetime | None = None) -> list[Alert]:
    """DESIGN §3: a check-in or check-out beyond the allowed radius, or without a location, and a check-in outside
    the visit's window (with the nurse's reason), go to the coordinator's exception queue. There is no "reviewed"
    mark yet, so an exception stays for two weeks. A voided (undone) check-in is no longer the visit's record and
    leaves the queue."""
    from visits.chart.checkin.services import location_not_verified_reason
    from visits.models import VisitVerification  # the chart's models; imported here to keep this addition apart

    verifications = VisitVerification.objects.filter(
        Q(check_in_verified=False)
        | Q(checked_out_at__isnull=False, check_out_verified=False)
        | ~Q(window_override_reason=""),
        checked_in_at__gte=now - CHECKIN_EXCEPTION_SHOWN_FOR,
        voided_at__isnull=True,
    ).select_related("visit__patient", "visit__order__product", "nurse")
    if since is not None:
        verifications = verifications.filter(updated_at__gt=since)
    alerts = []
    for verification in verifications:
        visit = verification.visit
        reasons = []
        if not verification.check_in_verified:
            reasons.append(location_not_verified_reason(verification))
        if verification.checked_out_at and not verification.check_out_verified:
            reasons.append(location_not_verified_reason(verification, out=True))
        location_problem = bool(reasons)
        if verification.window_override_reason:
            reasons.append(
                f"Checked in outside the visit's day window: {verification.window_override_reason.rstrip('. ')}"
            )
        what = "Location not verified" if location_problem else "Checked in outside the visit's window"
        if location_problem and verification.window_override_reason:
            what = "Location not verified, outside the visit's window"
        nurse = verification.nurse.get_full_name() or verification.nurse.username
        alerts.append(
            Alert(
                kind="checkin_exception",
                severity=Severity.INFO,
                title=f"{what}: {visit.patient.full_name}",
                detail=(
                    f"{verification.service}, checked in {when_text(verification.checked_in_at, visit.patient.zone)} "
                    f"by {nurse}. " + ". ".join(reasons) + "."
                ),
                url=reverse("visits:chart", args=[visit.pk]) + "#section-checkin",
                action_label="Open the chart",
                due=verification.checked_in_at,
                about=verification,
                # A check-out found unverified after the check-in was handled is a new exception.
                fact="-".join(
                    name
                    for name, why in (
                        ("in", not verification.check_in_verified),
                        ("out", bool(verification.checked_out_at and not verification.check_out_verified)),
                        ("window", bool(verification.window_override_reason)),
                    )
                    if why
                ),
            )
        )
    return alerts


# --- Hard-stop overrides (pre-infusion checklist) ------------------------------------------------------

HARD_STOP_OVERRIDE_SHOWN_FOR = timedelta(days=7)
HARD_STOP_OVERRIDE_URGENT_FOR = timedelta(hours=24)


@alert_source("hard_stop_override", label="Hard stops overridden before an infusion")
def hard_stop_overrides(*, now: datetime, since: datetime | None = None) -> list[Alert]:
    """DESIGN §3: a hard stop overridden by the nurse (with a reason) alerts the coordinator; one alert per
    override, urgent for a day, kept for a week (there is no "reviewed" mark)."""
    from visits.chart.checklist.services import HARD_STOP_OVERRIDE_PREFIX
    from visits.models import VisitEvent  # imported here to keep this addition self-contained

    events = VisitEvent.objects.filter(
        kind=VisitEvent.Kind.OVERRIDE,
        detail__startswith=HARD_STOP_OVERRIDE_PREFIX,
        at__gte=now - HARD_STOP_OVERRIDE_SHOWN_FOR,
    ).select_related("visit__patient", "visit__order__product", "by")
    if since is not None:
        events = events.filter(at__gt=since)
    alerts = []
    for event in events:
        visit = event.visit
        nurse = (event.by.get_full_name() or event.by.username) if event.by else "a nurse"
        what, _, rest = event.detail.partition("\n")
        alerts.append(
            Alert(
                kind="hard_stop_override",
                severity=Severity.URGENT if now - event.at < HARD_STOP_OVERRIDE_URGENT_FOR else Severity.SOON,
                title=f"{what.removeprefix(HARD_STOP_OVERRIDE_PREFIX + ': ').rstrip('.')} overridden: "
                f"{visit.patient.full_name}",
                detail=(
                    f"{visit.order.product.name}, cycle {visit.cycle_number} day {visit.day_number}; overridden by "
                    f"{nurse} {when_text(event.at, visit.patient.zone)}."
                ),
                lines=[line for line in rest.splitlines() if line.strip()],
                url=reverse("visits:chart", args=[visit.pk]) + "#section-checklist",
                action_label="Open the chart",
                due=event.at,
                about=event,
            )
        )
    return alerts


# --- Flagged vital signs (visit chart) -----------------------------------------------------------------

VITALS_FLAG_SHOWN_FOR = timedelta(hours=24)


@alert_source("vitals_flag", label="Vital signs past the action thresholds")
def flagged_vital_signs(*, now: datetime) -> list[Alert]:
    """DESIGN §3: a set of vital signs past the action thresholds is saved, flagged, and shown on the coordinator's
    queue; one alert per visit (its latest flagged set), kept for a day, urgent while the visit is still going on."""
    from visits.models import VitalSigns  # the chart's models; imported here to keep this addition self-contained

    flagged = (
        VitalSigns.objects.filter(taken_at__gte=now - VITALS_FLAG_SHOWN_FOR)
        .exclude(flags=[])
        .select_related("visit__patient", "visit__order__product", "visit__nurse")
        .order_by("visit_id", "-taken_at", "-pk")
    )
    latest: dict[int, tuple[object, int]] = {}
    for row in flagged:
        if not row.flags:
            continue
        first, count = latest.get(row.visit_id, (row, 0))
        latest[row.visit_id] = (first, count + 1)
    alerts = []
    for row, count in latest.values():
        visit = row.visit
        zone = visit.patient.zone
        nurse = (visit.nurse.get_full_name() or visit.nurse.username) if visit.nurse else "no nurse"
        going_on = visit.status in (Visit.Status.CHECKED_IN, Visit.Status.INFUSING, Visit.Status.OBSERVING)
        alerts.append(
            Alert(
                kind="vitals_flag",
                severity=Severity.URGENT if going_on else Severity.SOON,
                title=f"Vital signs flagged: {visit.patient.full_name}",
                detail=(
                    f"{visit.order.product.name}, cycle {visit.cycle_number} day {visit.day_number}; "
                    f"{row.get_phase_display().lower()} set at {when_text(row.taken_at, zone)}"
                    f"{f' ({count} flagged sets in the last 24 hours)' if count > 1 else ''}. Nurse: {nurse}."
                ),
                lines=list(row.flags),
                url=reverse("visits:chart", args=[visit.pk]) + "#section-vitals",
                action_label="Open the chart",
                due=row.taken_at,
                about=row,
            )
        )
    return alerts
