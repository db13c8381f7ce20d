"""Reads for the coordinator's board and the availability page; they own the joins so query counts stay flat.

The board is a fixed number of queries whatever the days shown hold: the nurses (with their profile, working hours
and the days' time off), the days' visits (with patient, order and product, their schedule events for the override
marker and their open reschedule requests), and the patients for the filter.
"""

import zoneinfo
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from infusion_site.roles import NURSE
from patients.models import Patient
from visits.models import NurseProfile, RescheduleRequest, TimeOff, Visit, VisitEvent, WorkingHours

# The board's views: how many days each shows. Day and 3 days fit a 1024 px tablet; the week needs a wide screen.
VIEW_DAYS = {"day": 1, "3day": 3, "week": 7}


def week_monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _window(first_day: date, day_count: int) -> tuple[datetime, datetime]:
    """Wide enough in UTC to hold the days in every time zone (UTC−12 to UTC+14); trimmed by local date later."""
    return datetime.combine(first_day - timedelta(days=1), time.min, tzinfo=UTC), datetime.combine(
        first_day + timedelta(days=day_count + 1), time.min, tzinfo=UTC
    )


def active_nurses() -> QuerySet:
    """Every active user in the Nurse group, by name."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=NURSE)
        .order_by("first_name", "last_name", "username")
    )


def nurses_for_days(*, first_day: date, day_count: int = 7) -> list:
    """The nurses with what the board shows about the days shown, in three queries."""
    starts, ends = _window(first_day, day_count)
    return list(
        active_nurses()
        .select_related("nurse_profile")
        .prefetch_related(
            Prefetch("working_hours", queryset=WorkingHours.objects.order_by("weekday")),
            Prefetch(
                "time_off",
                queryset=TimeOff.objects.filter(starts_at__lt=ends, ends_at__gt=starts).order_by("starts_at"),
            ),
        )
    )


def patient_choices(*, user) -> list[tuple[int, str]]:
    patients = Patient.objects.visible_to(user).order_by("last_name", "first_name", "pk")
    return [(pk, f"{last}, {first}") for pk, last, first in patients.values_list("pk", "last_name", "first_name")]


def duration_label(minutes: int) -> str:
    """240 → "4 h", 210 → "3 h 30 min", 45 → "45 min"."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


@dataclass(frozen=True)
class OverrideNote:
    """A conflict the coordinator went ahead with anyway: why, what it was, who and when."""

    reason: str
    conflicts: list[str]
    by: str
    at: datetime


# Events that change who does the visit or when; an override holds until the next one of these that is not its own.
_STAFFING_EVENTS = [
    VisitEvent.Kind.OVERRIDE,
    VisitEvent.Kind.ASSIGNED,
    VisitEvent.Kind.UNASSIGNED,
    VisitEvent.Kind.RESCHEDULED,
]


def _override_note(event: VisitEvent) -> OverrideNote:
    """Read back services._override_detail: "Reason: …" then "Conflicts:" and a "- …" line per conflict."""
    reason, conflicts = "", []
    for line in event.detail.splitlines():
        if line.startswith("Reason: ") and not reason:
            reason = line.removeprefix("Reason: ").strip()
        elif line.startswith("- "):
            conflicts.append(line.removeprefix("- ").strip())
    by = (event.by.get_full_name() or event.by.username) if event.by else "the system"
    return OverrideNote(reason=reason, conflicts=conflicts, by=by, at=event.at)


def current_override(events: list[VisitEvent]) -> OverrideNote | None:
    """The override still in force, from the visit's staffing events oldest first.

    services write an override just before the assignment or move it allowed; any later assignment, removal or
    move that came without an override of its own ends it (the conflict was about another nurse or time).
    """
    current, companion_due = None, False
    for event in events:
        if event.kind == VisitEvent.Kind.OVERRIDE:
            current, companion_due = event, True
        elif companion_due:
            companion_due = False
        else:
            current = None
    return _override_note(current) if current else None


def _card_prefetches() -> list[Prefetch]:
    return [
        Prefetch(
            "events",
            queryset=VisitEvent.objects.filter(kind__in=_STAFFING_EVENTS).select_related("by").order_by("at", "pk"),
            to_attr="staffing_events",
        ),
        Prefetch(
            "reschedule_requests",
            queryset=RescheduleRequest.objects.filter(resolved_at__isnull=True).order_by("created_at"),
            to_attr="open_reschedule_requests",
        ),
    ]


def _for_card(visit: Visit) -> Visit:
    visit.duration_label = duration_label(visit.planned_minutes)
    zone = visit.patient.zone  # the card shows the patient's local times
    override = current_override(getattr(visit, "staffing_events", []))
    visit.override = replace(override, at=timezone.localtime(override.at, zone)) if override else None
    requests = getattr(visit, "open_reschedule_requests", [])
    visit.reschedule_request = requests[0] if requests else None
    visit.reschedule_asked_at = timezone.localtime(requests[0].created_at, zone) if requests else None
    return visit


def board_visit(*, user, pk: int) -> Visit:
    """One visit as its card shows it; raises Visit.DoesNotExist outside the user's scope."""
    visits = Visit.objects.visible_to(user).select_related("patient", "order__product", "nurse")
    return _for_card(visits.prefetch_related(*_card_prefetches()).get(pk=pk))


def board_visit_day(*, user, pk: int) -> date:
    """The day (the patient's local date) a visit sits on the board; raises Visit.DoesNotExist outside scope."""
    return Visit.objects.visible_to(user).select_related("patient").get(pk=pk).local_start.date()


@dataclass
class DayCell:
    day: date
    visits: list = field(default_factory=list)
    shift: WorkingHours | None = None
    time_off: list = field(default_factory=list)

    @property
    def is_working(self) -> bool:
        return self.shift is not None and not self.time_off


@dataclass
class NurseRow:
    nurse: object
    profile: NurseProfile | None
    cells: list[DayCell]
    is_listed: bool = True  # False: no longer an active nurse, shown because visits are still assigned

    @property
    def visit_count(self) -> int:
        return sum(len(cell.visits) for cell in self.cells)


@dataclass
class Board:
    days: list[date]
    rows: list[NurseRow]
    unassigned: list[tuple[date, list[Visit]]]

    @property
    def first_day(self) -> date:
        return self.days[0]

    @property
    def last_day(self) -> date:
        return self.days[-1]

    @property
    def monday(self) -> date:
        return week_monday(self.first_day)

    @property
    def sunday(self) -> date:
        return self.days[-1]

    @property
    def previous_start(self) -> date:
        return self.first_day - timedelta(days=len(self.days))

    @property
    def next_start(self) -> date:
        return self.first_day + timedelta(days=len(self.days))

    @property
    def unassigned_count(self) -> int:
        return sum(len(visits) for _, visits in self.unassigned)


def _profile_of(nurse) -> NurseProfile | None:
    try:
        return nurse.nurse_profile
    except NurseProfile.DoesNotExist:
        return None


def _zone(profile: NurseProfile | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(profile.time_zone if profile else settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _empty_cells(nurse, days: list[date], prefetched: bool) -> list[DayCell]:
    cells = [DayCell(day=day) for day in days]
    if not prefetched:
        return cells
    profile = _profile_of(nurse)
    zone = _zone(profile)
    shifts = {shift.weekday: shift for shift in nurse.working_hours.all()}
    for cell in cells:
        cell.shift = shifts.get(cell.day.weekday())
        day_starts = datetime.combine(cell.day, time.min, tzinfo=zone)
        day_ends = datetime.combine(cell.day + timedelta(days=1), time.min, tzinfo=zone)
        cell.time_off = [off for off in nurse.time_off.all() if off.starts_at < day_ends and off.ends_at > day_starts]
    return cells


def build_board(
    *,
    user,
    first_day: date,
    day_count: int = 7,
    nurses: list,
    nurse_id: int | None = None,
    patient_id: int | None = None,
    therapy: str = "",
) -> Board:
    """``day_count`` days from ``first_day``: a row per nurse (``nurses`` from nurses_for_days) and the unassigned.

    A visit sits on the day of its planned start in the patient's time zone. Filtering by nurse keeps the
    unassigned visits, which are the ones a coordinator would give that nurse.
    """
    days = [first_day + timedelta(days=offset) for offset in range(day_count)]
    starts, ends = _window(first_day, day_count)
    visits = (
        Visit.objects.visible_to(user)
        .exclude(status=Visit.Status.CANCELLED)
        .filter(planned_start__gte=starts, planned_start__lt=ends)
        .select_related("patient", "order__product", "nurse")
        .prefetch_related(*_card_prefetches())
        .order_by("planned_start", "pk")
    )
    if nurse_id is not None:
        visits = visits.filter(Q(nurse_id=nurse_id) | Q(nurse__isnull=True))
    if patient_id is not None:
        visits = visits.filter(patient_id=patient_id)
    if therapy:
        visits = visits.filter(order__product__therapy=therapy)

    shown_nurses = [nurse for nurse in nurses if nurse_id is None or nurse.pk == nurse_id]
    rows = {nurse.pk: NurseRow(nurse, _profile_of(nurse), _empty_cells(nurse, days, True)) for nurse in shown_nurses}
    unassigned = {day: [] for day in days}
    for visit in visits:
        _for_card(visit)
        day = visit.local_start.date()
        if day not in unassigned:
            continue  # in the wide UTC window but outside the days shown where the patient lives
        if visit.nurse is None:
            unassigned[day].append(visit)
            continue
        row = rows.get(visit.nurse_id)
        if row is None:  # assigned to someone no longer listed as an active nurse: still shown, and flagged
            row = rows[visit.nurse_id] = NurseRow(visit.nurse, None, _empty_cells(visit.nurse, days, False), False)
        row.cells[(day - first_day).days].visits.append(visit)
    return Board(
        days=days,
        rows=list(rows.values()),
        unassigned=[(day, day_visits) for day, day_visits in unassigned.items() if day_visits],
    )


def nurse_for_availability(*, nurse_id: int):
    """An active nurse with their profile; raises DoesNotExist for anyone else."""
    return active_nurses().select_related("nurse_profile").get(pk=nurse_id)


def time_off_for_page(*, nurse) -> QuerySet:
    """Current and coming time off, and the last month's, newest last."""
    return TimeOff.objects.filter(nurse=nurse, ends_at__gte=timezone.now() - timedelta(days=30)).order_by("starts_at")


def assigned_visits_during(*, nurse, starts_at: datetime, ends_at: datetime) -> list[Visit]:
    """The nurse's scheduled visits that fall in a stretch of time off: the ones to reassign."""
    candidates = (
        Visit.objects.filter(nurse=nurse, status=Visit.Status.SCHEDULED, planned_start__lt=ends_at)
        .filter(planned_start__gte=starts_at - timedelta(minutes=720))  # Visit.planned_minutes is at most 720
        .select_related("patient")
    )
    return [visit for visit in candidates if visit.planned_end > starts_at]
