"""Reads for the coordinator's board and the availability page; they own the joins so query counts stay flat.

The board is a fixed number of queries whatever the days shown hold, and a page of it is bounded whatever the agency
holds: one team (or the coordinator's own teams) at a time, a page of nurse rows (with their profile, working hours
and the days' time off) and their visits (with patient, order and product, their schedule events for the override
marker and their open reschedule requests), and a page of the unassigned, soonest first. No select of every patient
or every nurse: patients are found by a search, nurses in the shared "Assign…" picker.
"""

import zoneinfo
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from infusion_site.roles import NURSE
from patients.models import Patient, Team
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


def nurse_named(*, nurse_id: int):
    """The active nurse with this id, or None (the board's ``nurse=`` filter)."""
    return active_nurses().filter(pk=nurse_id).first()


def patient_named(*, user, patient_id: int) -> Patient | None:
    """The patient with this id if the user may see them, or None (the board's ``patient=`` filter)."""
    return Patient.objects.visible_to(user).filter(pk=patient_id).only("pk", "first_name", "last_name").first()


PATIENT_MATCHES_SHOWN = 10


def patients_matching(*, user, query: str, limit: int = PATIENT_MATCHES_SHOWN) -> list[Patient]:
    """The board's patient search: a few patients by name, MRN or date of birth, never the whole registry."""
    if not query.strip():
        return []
    patients = Patient.objects.visible_to(user).search(query).select_related("team")
    return list(patients.order_by("last_name", "first_name", "pk")[:limit])


def teams_for_filter() -> list[Team]:
    """Every team, for the board's and the queue's team filter: an agency has tens of teams, not thousands."""
    return list(Team.objects.order_by("name"))


def own_team_ids(*, user) -> list[int]:
    """The teams a coordinator coordinates or a nurse works in."""
    return list(Team.objects.filter(members=user).order_by("name").values_list("pk", flat=True))


NURSES_PER_PICKER = 25


def nurses_for_picker(*, visit: Visit, query: str = "", every_team: bool = False) -> list:
    """The shared "Assign…" picker: the nurses of the visit's patient's team (everyone when the patient has no team
    or the coordinator asks for every team), matching the words typed, a page at most."""
    nurses = active_nurses().exclude(pk=visit.nurse_id) if visit.nurse_id else active_nurses()
    if visit.patient.team_id and not every_team:
        nurses = nurses.filter(teams=visit.patient.team_id)
    for word in query.split():
        nurses = nurses.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(username__icontains=word)
        )
    return list(nurses.distinct()[:NURSES_PER_PICKER])


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
    visits = Visit.objects.visible_to(user).select_related("patient__team", "order__product", "nurse")
    return _for_card(visits.prefetch_related(*_card_prefetches()).get(pk=pk))


def board_visit_day(*, user, pk: int) -> date:
    """The day (the patient's local date) a visit sits on the board; raises Visit.DoesNotExist outside scope."""
    return board_visit_place(user=user, pk=pk)[0]


def board_visit_place(*, user, pk: int) -> tuple[date, int | None, int | None]:
    """Where a visit sits on the board: its day (the patient's local date), its patient's team and its nurse.
    Raises Visit.DoesNotExist outside the user's scope."""
    visit = Visit.objects.visible_to(user).select_related("patient").get(pk=pk)
    return visit.local_start.date(), visit.patient.team_id, visit.nurse_id


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
    nurse_page: "PageInfo"
    unassigned_page: "PageInfo"

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
        """Every unassigned visit of the days shown, on every page (the column shows one page)."""
        return self.unassigned_page.total


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


# A page of the board holds at most this many nurse rows and, across them, about this many visit cards (a nurse's
# row is never split), plus a page of the unassigned: a page's size is bounded whatever the agency or team holds.
NURSES_PER_PAGE = 25
CARDS_PER_PAGE = 150
UNASSIGNED_PER_PAGE = 20


@dataclass(frozen=True)
class BoardScope:
    """What the board is asked to show, beyond its days: ``team_ids`` None means every team."""

    team_ids: list[int] | None = None
    nurse_id: int | None = None
    nurse_query: str = ""
    patient_id: int | None = None
    therapy: str = ""


@dataclass
class PageInfo:
    number: int
    count: int  # pages
    total: int  # nurses or visits, across every page

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.count

    @property
    def previous_number(self) -> int:
        return self.number - 1

    @property
    def next_number(self) -> int:
        return self.number + 1


def _page_number(asked: int | None, count: int) -> int:
    return min(max(asked or 1, 1), max(count, 1))


def _shown_visits(*, user, scope: BoardScope, starts: datetime, ends: datetime) -> QuerySet:
    visits = (
        Visit.objects.visible_to(user)
        .exclude(status=Visit.Status.CANCELLED)
        .filter(planned_start__gte=starts, planned_start__lt=ends)
    )
    if scope.team_ids is not None:
        visits = visits.filter(patient__team_id__in=scope.team_ids)
    if scope.patient_id is not None:
        visits = visits.filter(patient_id=scope.patient_id)
    if scope.therapy:
        visits = visits.filter(order__product__therapy=scope.therapy)
    return visits


def _row_nurses(*, scope: BoardScope, shown: QuerySet) -> QuerySet:
    """Who has a row: the team's active nurses and any active nurse given one of the team's visits shown."""
    nurses = active_nurses()
    if scope.team_ids is not None:
        staffing = shown.filter(nurse__isnull=False).values("nurse_id")
        nurses = nurses.filter(Q(teams__in=scope.team_ids) | Q(pk__in=staffing))
    if scope.nurse_id is not None:
        nurses = nurses.filter(pk=scope.nurse_id)
    for word in scope.nurse_query.split():
        nurses = nurses.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(username__icontains=word)
        )
    return nurses.distinct()


def _split_pages(counts: list[tuple[int, int]]) -> list[list[int]]:
    """Consecutive nurses (id, cards) into pages of at most NURSES_PER_PAGE rows and about CARDS_PER_PAGE cards."""
    pages, current, cards = [], [], 0
    for nurse_id, shown in counts:
        if current and (len(current) == NURSES_PER_PAGE or cards + shown > CARDS_PER_PAGE):
            pages.append(current)
            current, cards = [], 0
        current.append(nurse_id)
        cards += shown
    if current:
        pages.append(current)
    return pages


def _cards_of_nurse(shown: QuerySet) -> QuerySet:
    """How many of the shown visits a row's nurse has: per nurse, a range of the (nurse, planned_start) index over
    the days shown, rather than a join of every nurse's every visit."""
    return (
        shown.filter(nurse_id=OuterRef("pk")).order_by().values("nurse_id").annotate(cards=Count("pk")).values("cards")
    )


def _card_visits(visits: QuerySet) -> QuerySet:
    return (
        visits.select_related("patient", "order__product", "nurse")
        .prefetch_related(*_card_prefetches())
        .order_by("planned_start", "pk")
    )


def build_board(
    *,
    user,
    first_day: date,
    day_count: int = 7,
    scope: BoardScope = BoardScope(),
    page: int | None = None,
    unassigned_page: int | None = None,
    focus_nurse_id: int | None = None,
) -> Board:
    """``day_count`` days from ``first_day``: a page of nurse rows and a page of the unassigned, soonest first.

    A visit sits on the day of its planned start in the patient's time zone. Filtering by nurse keeps the
    unassigned visits, which are the ones a coordinator would give that nurse. A fixed number of queries: the rows'
    card counts (one aggregate), the page's nurses (three), their visits (three), the unassigned (four).
    """
    days = [first_day + timedelta(days=offset) for offset in range(day_count)]
    starts, ends = _window(first_day, day_count)
    shown = _shown_visits(user=user, scope=scope, starts=starts, ends=ends)

    counts = list(
        _row_nurses(scope=scope, shown=shown)
        .annotate(cards=Coalesce(Subquery(_cards_of_nurse(shown)), 0))
        .values_list("pk", "cards")
    )
    pages = _split_pages(counts)
    if page is None and focus_nurse_id is not None:  # open on the page holding the visit asked for
        page = next((index for index, ids in enumerate(pages, 1) if focus_nurse_id in ids), None)
    number = _page_number(page, len(pages))
    page_ids = pages[number - 1] if pages else []
    nurses = (
        active_nurses()
        .filter(pk__in=page_ids)
        .select_related("nurse_profile")
        .prefetch_related(
            Prefetch("working_hours", queryset=WorkingHours.objects.order_by("weekday")),
            Prefetch(
                "time_off",
                queryset=TimeOff.objects.filter(starts_at__lt=ends, ends_at__gt=starts).order_by("starts_at"),
            ),
        )
    )
    rows = {nurse.pk: NurseRow(nurse, _profile_of(nurse), _empty_cells(nurse, days, True)) for nurse in nurses}
    rows = {pk: rows[pk] for pk in page_ids if pk in rows}  # the pages' order: by name

    open_visits = shown.filter(nurse__isnull=True)
    open_total = open_visits.count()
    open_pages = max((open_total + UNASSIGNED_PER_PAGE - 1) // UNASSIGNED_PER_PAGE, 1)
    open_number = _page_number(unassigned_page, open_pages)
    offset = (open_number - 1) * UNASSIGNED_PER_PAGE
    open_ids = list(  # soonest first: the most urgent to staff
        open_visits.order_by("planned_start", "pk").values_list("pk", flat=True)[offset : offset + UNASSIGNED_PER_PAGE]
    )

    # The page's cards in one query (with their two prefetches): its nurses' visits and its unassigned.
    cards = Q(nurse_id__in=page_ids) | Q(pk__in=open_ids)
    is_last_page = number == max(len(pages), 1)
    if is_last_page and scope.nurse_id is None and not scope.nurse_query:
        # Visits still given to someone no longer an active nurse: shown (and flagged) after every nurse.
        cards |= Q(nurse__isnull=False) & ~Q(nurse__in=active_nurses())
    unassigned: dict[date, list[Visit]] = {}
    for visit in _card_visits(shown.filter(cards)):
        _for_card(visit)
        day = visit.local_start.date()
        if not first_day <= day <= days[-1]:
            continue  # in the wide UTC window but outside the days shown where the patient lives
        if visit.nurse_id is None:
            unassigned.setdefault(day, []).append(visit)
            continue
        row = rows.get(visit.nurse_id)
        if row is None:
            row = rows[visit.nurse_id] = NurseRow(visit.nurse, None, _empty_cells(visit.nurse, days, False), False)
        row.cells[(day - first_day).days].visits.append(visit)
    return Board(
        days=days,
        rows=list(rows.values()),
        unassigned=sorted(unassigned.items()),
        nurse_page=PageInfo(number, max(len(pages), 1), len(counts)),
        unassigned_page=PageInfo(open_number, open_pages, open_total),
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
