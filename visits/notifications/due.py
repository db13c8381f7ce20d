"""What is due to be told, to whom: each kind is one function ``f(*, now, since=None) -> list[Due]``.

``create_due()`` runs them and inserts the rows (``services.notifications``); running it again,
or from two beats at once, inserts nothing new because every ``Due`` has a unique key. Texts
going by email or SMS say only what the recipient needs to act and link into the app; names and
clinical detail stay behind the login (``app_body``).

Each producer keeps a watermark (``SweepWatermark``): given ``since``, it derives only what fell due
after it (a lead time reached, a visit that ended) or whose rows were saved after it, and it derives
those in full, so what it finds is what a full run would find for them. The unique key, not the
watermark, is what keeps a notice from going out twice. ``create_due(full=True)`` derives everything,
as the daily run and ``manage.py sweep_notifications --full`` do: it also catches what changed
without saving a row the usual way (a queryset ``update()``, an authorization entered, a new
portal account).
"""

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from visits.alerts import background as alerts_background
from visits.alerts import emergency_sources
from visits.alerts import sources as alerts
from visits.alerts.registry import Alert
from visits.models import (
    REMINDER_LEAD_CHOICES,
    FollowUp,
    Notification,
    NurseProfile,
    SweepWatermark,
    Visit,
    VisitEvent,
)
from visits.notifications import followups
from visits.notifications.services import Due, coordinators, notifications_create, preference_for

Kind = Notification.Kind
PRODUCERS: dict[str, Callable[..., list[Due]]] = {}

AGENDA_FROM = time(18, 0)  # the nurse's agenda for tomorrow goes out from 6 pm their time
CHANGES_LOOK_BACK = timedelta(hours=24)
NURSE_TOLD_OF_CHANGES_WITHIN = timedelta(days=7)
# Longer than any transaction that saves a row a producer reads: a row saved at 10:00 but committed at 10:02 is
# still inside the next sweep's stretch.
OVERLAP = timedelta(minutes=5)
# A producer that has not run for this long (or whose watermark is ahead of ``now``: the clock moved back) derives
# everything again.
FULL_AFTER_GAP = timedelta(days=1)
FOLLOW_UP_QUESTIONS = "follow_up_questions"


def producer(kind: str):
    def register(function):
        PRODUCERS[kind] = function
        return function

    return register


def create_due(*, now: datetime | None = None, kinds=None, full: bool = False) -> int:
    """Derive what became due since each producer last ran (everything, with ``full``) and insert its rows; return
    how many rows were new."""
    now = now or timezone.now()
    marks = dict(SweepWatermark.objects.values_list("producer", "derived_until"))

    def since(producer: str) -> datetime | None:
        mark = marks.get(producer)
        if full or mark is None or not mark <= now <= mark + FULL_AFTER_GAP:
            return None
        return mark - OVERLAP

    followups.follow_ups_create_due(now=now, since=since(FOLLOW_UP_QUESTIONS))
    withdraw_stale_reminders(now=now)
    chosen = [kind for kind in PRODUCERS if kinds is None or kind in kinds]
    dues = [due for kind in chosen for due in PRODUCERS[kind](now=now, since=since(kind))]
    created = notifications_create(dues=dues, now=now)
    _advance([FOLLOW_UP_QUESTIONS, *chosen], known=marks, now=now, full=full)
    return created


def _advance(producers: list[str], *, known: dict, now: datetime, full: bool) -> None:
    """Only after the rows are in: a sweep that fails before this is done again from the old watermark."""
    fields = {"derived_until": now, **({"full_at": now} if full else {})}
    # Two sweeps at once: the later ``now`` wins, the watermark never moves back.
    SweepWatermark.objects.filter(producer__in=producers, derived_until__lte=now).update(**fields)
    missing = [SweepWatermark(producer=producer, **fields) for producer in producers if producer not in known]
    if missing:
        SweepWatermark.objects.bulk_create(missing, ignore_conflicts=True)


def link(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def short_when(moment: datetime, zone) -> str:
    """For patients: the 12-hour clock of US households ("Sat 21 Nov at 5:00 am")."""
    local = timezone.localtime(moment, zone)
    hour = local.hour % 12 or 12
    return f"{local:%a} {local.day} {local:%b} at {hour}:{local.minute:02d} {'am' if local.hour < 12 else 'pm'}"


def staff_when(moment: datetime, zone) -> str:
    """For nurses and coordinators: the 24-hour clock the chart, the board and the alerts use ("Sat 21 Nov at
    05:00")."""
    local = timezone.localtime(moment, zone)
    return f"{local:%a} {local.day} {local:%b} at {local:%H:%M}"


def first_name(user) -> str:
    return user.first_name or user.get_full_name() or user.username


# --- Patients: reminders and changes -------------------------------------------------------------


def _patient_visits(queryset):
    return queryset.filter(patient__user__isnull=False, patient__user__is_active=True).select_related(
        "patient__user__notification_preference", "nurse"
    )


@producer(Kind.VISIT_REMINDER)
def visit_reminders(*, now: datetime, since: datetime | None = None) -> list[Due]:
    """One reminder per visit at the shortest lead time the patient chose that has been reached."""
    longest = timedelta(hours=max(hours for hours, _ in REMINDER_LEAD_CHOICES))
    visits = Visit.objects.filter(
        status=Visit.Status.SCHEDULED, planned_start__gt=now, planned_start__lte=now + longest
    )
    if since is not None:
        news = Q(updated_at__gt=since) | Q(patient__updated_at__gt=since)
        news |= Q(patient__user__notification_preference__updated_at__gt=since)
        for hours, _ in REMINDER_LEAD_CHOICES:
            lead = timedelta(hours=hours)
            news |= Q(planned_start__gt=since + lead, planned_start__lte=now + lead)
        visits = visits.filter(news)
    visits = _patient_visits(visits)
    dues = []
    for visit in visits:
        user = visit.patient.user
        reached = [
            h for h in preference_for(user).reminder_hours or [] if visit.planned_start - timedelta(hours=h) <= now
        ]
        if not reached:
            continue
        hours = min(reached)
        zone = visit.patient.zone
        nurse = f" Your nurse is {first_name(visit.nurse)}." if visit.nurse else ""
        when = short_when(visit.planned_start, zone)
        dues.append(
            Due(
                recipient=user,
                kind=Kind.VISIT_REMINDER,
                key=f"reminder:{visit.pk}:{int(visit.planned_start.timestamp())}:{hours}h",
                subject=f"Reminder: home nursing visit {when}",
                body=(
                    f"{settings.AGENCY_NAME}: your home nursing visit is {when} ({zone.key}); "
                    f"the nurse arrives within 30 minutes of that time.{nurse} "
                    f"To ask for another time: {link(reverse('portal:home'))}"
                ),
                due_at=visit.planned_start - timedelta(hours=hours),
                expires_at=visit.planned_start,
                url=reverse("portal:home"),
                about=visit,
                for_patient=True,
            )
        )
    return dues


def withdraw_stale_reminders(*, now: datetime) -> int:
    """A reminder waiting for quiet hours to end is withdrawn if its visit moved or was cancelled meanwhile."""
    still_true = Visit.objects.filter(
        pk=OuterRef("about_id"), planned_start=OuterRef("expires_at"), status=Visit.Status.SCHEDULED
    )
    return (
        Notification.objects.pending()
        .filter(kind=Kind.VISIT_REMINDER)
        .exclude(Exists(still_true))
        .update(withdrawn_at=now, last_error="The visit was moved or cancelled before this went out.")
    )


CHANGE_WORDS = {
    VisitEvent.Kind.RESCHEDULED: ("Your home nursing visit has moved", "is now {when}"),
    VisitEvent.Kind.CANCELLED: ("Your home nursing visit is cancelled", "planned for {when} is cancelled"),
    VisitEvent.Kind.ASSIGNED: ("A different nurse is coming", "on {when} will be with {nurse}"),
}


def _recent_changes(now: datetime, since: datetime | None):
    events = VisitEvent.objects.filter(
        kind__in=list(CHANGE_WORDS), at__gte=now - CHANGES_LOOK_BACK, visit__planned_start__gt=now
    ).select_related("visit__patient__user__notification_preference", "visit__nurse", "by")
    if since is not None:
        # The nurse hears of a change once the visit is within a week.
        events = events.filter(Q(at__gt=since) | Q(visit__planned_start__gt=since + NURSE_TOLD_OF_CHANGES_WITHIN))
    yield from events


@producer(Kind.VISIT_CHANGED)
def visit_changes(*, now: datetime, since: datetime | None = None) -> list[Due]:
    """Tell the patient, and the visit's nurse if someone else made the change."""
    dues = []
    for event in _recent_changes(now, since):
        visit = event.visit
        zone = visit.patient.zone
        when = short_when(visit.planned_start, zone)
        subject, phrase = CHANGE_WORDS[event.kind]
        user = visit.patient.user
        # A first assignment is not news to the patient; a change of nurse is.
        first_assignment = event.kind == VisitEvent.Kind.ASSIGNED and not event.detail.startswith("Reassigned")
        if user is not None and user.is_active and not first_assignment:
            nurse = first_name(visit.nurse) if visit.nurse else "a nurse we will confirm"
            dues.append(
                Due(
                    recipient=user,
                    kind=Kind.VISIT_CHANGED,
                    key=f"change:{event.pk}:patient",
                    subject=subject,
                    body=(
                        f"{settings.AGENCY_NAME}: your home nursing visit "
                        f"{phrase.format(when=f'{when} ({zone.key})', nurse=nurse)}. "
                        f"See your visits: {link(reverse('portal:home'))}"
                    ),
                    due_at=event.at,
                    url=reverse("portal:home"),
                    about=visit,
                    for_patient=True,
                )
            )
        if (
            visit.nurse is not None
            and visit.nurse != event.by
            and visit.planned_start < now + NURSE_TOLD_OF_CHANGES_WITHIN
        ):
            news = {
                VisitEvent.Kind.RESCHEDULED: f"A visit of yours has moved to {when}",
                VisitEvent.Kind.CANCELLED: f"Your visit of {when} is cancelled",
                VisitEvent.Kind.ASSIGNED: f"A visit on {when} is now yours",
            }[event.kind]
            dues.append(
                Due(
                    recipient=visit.nurse,
                    kind=Kind.VISIT_CHANGED,
                    key=f"change:{event.pk}:nurse:{visit.nurse_id}",
                    subject=news,
                    body=f"{news}. Open My day: {link(reverse('visits:today'))}",
                    app_body=f"{visit.patient.full_name}: {event.get_kind_display().lower()}. {event.detail}",
                    due_at=event.at,
                    url=reverse("visits:today"),
                    about=visit,
                )
            )
    return dues


# --- Nurses: tomorrow's agenda, charts to sign ---------------------------------------------------------


def _agenda_hour_passed(zones, since: datetime, now: datetime) -> bool:
    """Whether 6 pm struck in any of ``zones`` in (since, now]."""
    for zone in zones:
        day = timezone.localtime(since, zone).date()
        while day <= timezone.localtime(now, zone).date():
            if since < datetime.combine(day, AGENDA_FROM, tzinfo=zone) <= now:
                return True
            day += timedelta(days=1)
    return False


@producer(Kind.NURSE_AGENDA)
def nurse_agendas(*, now: datetime, since: datetime | None = None) -> list[Due]:
    """From 6 pm in the nurse's time zone: the visits of tomorrow, one message per nurse and day."""
    zones = {profile.nurse_id: profile.zone for profile in NurseProfile.objects.all()}
    default_zone = timezone.get_default_timezone()
    visits = (
        Visit.objects.filter(
            status=Visit.Status.SCHEDULED,
            nurse__isnull=False,
            nurse__is_active=True,
            planned_start__gt=now,
            planned_start__lt=now + timedelta(hours=36),
        )
        .select_related("nurse", "patient", "order__product")
        .order_by("planned_start", "pk")
    )
    if since is not None and not _agenda_hour_passed({*zones.values(), default_zone}, since, now):
        # An agenda lists all of the nurse's visits: derive it whole for each nurse with a visit saved since.
        visits = visits.filter(nurse__in=visits.filter(updated_at__gt=since).values("nurse"))
    by_nurse = defaultdict(list)
    for visit in visits:
        zone = zones.get(visit.nurse_id, default_zone)
        local_now = timezone.localtime(now, zone)
        tomorrow = local_now.date() + timedelta(days=1)
        if local_now.time() >= AGENDA_FROM and timezone.localtime(visit.planned_start, zone).date() == tomorrow:
            by_nurse[(visit.nurse, tomorrow, zone)].append(visit)
    dues = []
    for (nurse, day, zone), day_visits in by_nurse.items():
        first = day_visits[0]
        count = len(day_visits)
        lines = [
            f"{staff_when(visit.planned_start, zone).split(' at ')[1]}: {visit.patient.full_name}, "
            f"{visit.order.product.name}, {visit.planned_minutes} min"
            for visit in day_visits
        ]
        dues.append(
            Due(
                recipient=nurse,
                kind=Kind.NURSE_AGENDA,
                key=f"agenda:{nurse.pk}:{day.isoformat()}",
                subject=f"Tomorrow: {count} visit{'s' if count != 1 else ''}",
                body=(
                    f"You have {count} visit{'s' if count != 1 else ''} tomorrow, {day:%a} {day.day} {day:%b}; "
                    f"the first {staff_when(first.planned_start, zone)}. Details in My day: "
                    f"{link(reverse('visits:today'))}"
                ),
                app_body="\n".join(lines),
                due_at=datetime.combine(day - timedelta(days=1), AGENDA_FROM, tzinfo=zone),
                expires_at=first.planned_start,
                url=reverse("visits:today"),
                about=first,
            )
        )
    return dues


@producer(Kind.CHART_UNSIGNED)
def unsigned_charts(*, now: datetime, since: datetime | None = None) -> list[Due]:
    """2 hours after a visit ended without a signature, the nurse; after 6 hours, the coordinators too."""
    dues = []
    nurse_after = alerts_background.CHART_NURSE_AFTER
    for visit, ended in alerts_background.unsigned_visits(now=now, after=nurse_after, since=since):
        chart = reverse("visits:chart", args=[visit.pk])
        when = staff_when(ended, visit.patient.zone)
        if visit.nurse is not None:
            dues.append(
                Due(
                    recipient=visit.nurse,
                    kind=Kind.CHART_UNSIGNED,
                    key=f"unsigned:{visit.pk}:2h",
                    subject="A visit chart is waiting for your signature",
                    body=f"The chart of a visit that ended {when} is not signed yet: {link(chart)}",
                    app_body=f"{visit.patient.full_name}, {visit.order.product.name}: ended {when}, not signed.",
                    due_at=ended + alerts_background.CHART_NURSE_AFTER,
                    url=chart,
                    about=visit,
                )
            )
    late = alerts_background.unsigned_charts(now=now, since=since)
    dues += from_alerts(Kind.CHART_UNSIGNED, late, now=now, suffix="6h")
    return dues


# --- Coordinators: the alert queue, by email and in the app --------------------------------------------


def from_alerts(kind: str, found: list[Alert], *, now: datetime, suffix=None) -> list[Due]:
    """One notice per alert and coordinator; the email or text says what kind and where, not who.

    ``suffix(alert)`` (or a fixed string) extends the key, so a changed fact is announced again.
    """
    if not found:
        return []
    staff = list(coordinators().select_related("notification_preference"))
    label = Notification.Kind(kind).label
    dues = []
    for alert in found:
        url = alert.url if alert.url.startswith("/") else reverse("alerts:queue")
        extra = suffix(alert) if callable(suffix) else suffix
        for coordinator in staff:
            dues.append(
                Due(
                    recipient=coordinator,
                    kind=kind,
                    key=f"{alert.key}{':' + extra if extra else ''}:{coordinator.pk}",
                    subject=f"{alert.severity.label}: {label.lower()}",
                    body=(
                        f"{label} — {alert.severity.label.lower()}. "
                        f"Open the alert queue: {link(reverse('alerts:queue'))}"
                    ),
                    app_body=f"{alert.title}. {alert.detail}",
                    due_at=min(alert.due, now),
                    url=url,
                    about=alert.about if hasattr(alert.about, "_meta") else None,
                )
            )
    return dues


def _alert_producer(kind: str, source: Callable, suffix: Callable | None = None):
    def produce(*, now: datetime, since: datetime | None = None) -> list[Due]:
        return from_alerts(kind, source(now=now, since=since), now=now, suffix=suffix)

    produce.__name__ = f"notify_{kind}"
    PRODUCERS[kind] = produce


_alert_producer(Kind.SEVERE_REACTION, alerts.severe_reactions)
_alert_producer(Kind.HARD_STOP_OVERRIDE, alerts.hard_stop_overrides)
_alert_producer(Kind.CHECKIN_EXCEPTION, alerts.checkin_exceptions)
_alert_producer(Kind.EMERGENCY_ACCESS, emergency_sources.emergency_accesses)
_alert_producer(Kind.DELAYED_REACTION, alerts_background.delayed_reactions)
_alert_producer(Kind.FOLLOW_UP_CALL, alerts_background.follow_up_calls)
# A new notice when the visit moves (the unassigned visit is then a different one to staff).
_alert_producer(Kind.UNASSIGNED_VISIT, alerts.unassigned_visits, lambda a: str(int(a.about.planned_start.timestamp())))
# A new notice when the end date or the count of visits left changes.
_alert_producer(
    Kind.AUTHORIZATION,
    alerts.authorizations_running_out,
    lambda a: f"{a.about.valid_to.isoformat()}:{min(a.about.visits_left, 3)}",
)
_alert_producer(Kind.CREATININE_DUE, alerts_background.creatinine_due, lambda a: f"visit{a.about.pk}")


# --- Patients: the follow-up questions after IVIG ------------------------------------------------------


@producer(Kind.FOLLOW_UP)
def follow_up_invitations(*, now: datetime, since: datetime | None = None) -> list[Due]:
    open_follow_ups = FollowUp.objects.filter(
        answered_at=None,
        due_at__lte=now,
        due_at__gt=now - alerts_background.FOLLOW_UP_ANSWER_WITHIN,
        visit__patient__user__isnull=False,
        visit__patient__user__is_active=True,
    ).select_related("visit__patient__user__notification_preference")
    if since is not None:
        open_follow_ups = open_follow_ups.filter(Q(due_at__gt=since) | Q(created_at__gt=since))
    dues = []
    for follow_up in open_follow_ups:
        visit = follow_up.visit
        url = reverse("portal:follow_up", args=[follow_up.pk])
        day = timezone.localtime(visit.planned_start, visit.patient.zone)
        dues.append(
            Due(
                recipient=visit.patient.user,
                kind=Kind.FOLLOW_UP,
                key=f"follow_up:{follow_up.pk}",
                subject="How are you feeling since your infusion?",
                body=(
                    f"{settings.AGENCY_NAME}: please answer a few short questions about how you have felt since "
                    f"your infusion on {day:%a} {day.day} {day:%b}: {link(url)} "
                    f"If you have chest pain or trouble breathing, call 911 now."
                ),
                due_at=follow_up.due_at,
                expires_at=follow_up.due_at + alerts_background.FOLLOW_UP_ANSWER_WITHIN,
                url=url,
                about=follow_up,
                for_patient=True,
            )
        )
    return dues
