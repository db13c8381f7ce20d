"""Staffing the visits: a nurse's availability, the assignment checks, and every schedule change.

Each change writes a VisitEvent so the visit's history says who did what and why. Times are stored in UTC;
a nurse's working hours and day boundaries are read in the nurse's time zone, a visit's times are shown in the
patient's.
"""

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from infusion_site.roles import NURSE, role_of
from patients.models import validate_time_zone
from patients.services import ServiceError, care_team_add
from visits.models import Competency, NurseProfile, TimeOff, Visit, VisitEvent, WorkingHours


class SchedulingError(ServiceError):
    """A schedule change the domain refuses; the message is for the coordinator."""


class AssignmentBlocked(SchedulingError):
    """The nurse is not free for the visit; the coordinator may override with a reason."""

    def __init__(self, conflicts: list["Conflict"]):
        self.conflicts = list(conflicts)
        super().__init__(
            "This conflicts with the nurse's schedule: "
            + "; ".join(conflict.message for conflict in self.conflicts)
            + ". Give a reason to override."
        )


@dataclass(frozen=True)
class Conflict:
    code: str
    message: str

    OVERLAP = "overlap"
    OUTSIDE_HOURS = "outside_hours"
    TIME_OFF = "time_off"
    DAILY_MAXIMUM = "daily_maximum"
    COMPETENCY = "competency"

    def __str__(self) -> str:
        return self.message


# --- names and times in the coordinator's words ---------------------------------------------------------------


def nurse_name(nurse) -> str:
    return nurse.get_full_name() or nurse.username


def _first_name(nurse) -> str:
    return nurse.first_name or nurse.username


def _patient_short_name(patient) -> str:
    return f"{patient.first_name} {patient.last_name[:1]}.".strip() if patient.last_name else patient.first_name


def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"  # Tue 24 Nov


def _hm(moment: datetime | time) -> str:
    return moment.strftime("%H:%M")


def _zone_of(profile: NurseProfile) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(profile.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _local_midnight(day: date, zone: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def _time_off_span(time_off: TimeOff, zone: zoneinfo.ZoneInfo) -> str:
    """2026-11-23 to 2026-11-25 for whole days (ending at midnight), with the times otherwise."""
    starts = timezone.localtime(time_off.starts_at, zone)
    ends = timezone.localtime(time_off.ends_at, zone)
    whole_days = starts.time() == time.min and ends.time() == time.min
    if whole_days:
        last_day = ends.date() - timedelta(days=1)
        return f"{starts:%Y-%m-%d}" if last_day == starts.date() else f"{starts:%Y-%m-%d} to {last_day:%Y-%m-%d}"
    if starts.date() == ends.date():
        return f"{starts:%Y-%m-%d} {_hm(starts)}–{_hm(ends)}"
    return f"{starts:%Y-%m-%d} {_hm(starts)} to {ends:%Y-%m-%d} {_hm(ends)}"


# --- availability ----------------------------------------------------------------------------------------------


def _save(instance):
    instance.full_clean()
    instance.save()
    return instance


def _require_nurse(nurse) -> None:
    if nurse is None or not nurse.is_active or role_of(nurse) != NURSE:
        raise SchedulingError("Only active nurses can be scheduled.")


def nurse_profile_or_default(*, nurse) -> NurseProfile:
    """The nurse's profile, or an unsaved one with the defaults (30-minute buffer, 3 visits a day)."""
    return NurseProfile.objects.filter(nurse=nurse).first() or NurseProfile(nurse=nurse)


@transaction.atomic
def nurse_profile_get_or_create(*, nurse) -> NurseProfile:
    _require_nurse(nurse)
    profile, _ = NurseProfile.objects.get_or_create(nurse=nurse)
    return profile


@transaction.atomic
def nurse_profile_update(
    *, nurse, competencies: list[str], max_visits_per_day: int, travel_buffer_minutes: int, time_zone: str
) -> NurseProfile:
    unknown = sorted(set(competencies) - set(Competency.values))
    if unknown:
        raise SchedulingError(f"Unknown competency: {', '.join(unknown)}.")
    try:
        validate_time_zone(time_zone)
    except ValidationError as error:
        raise SchedulingError(error.messages[0]) from error
    profile = nurse_profile_get_or_create(nurse=nurse)
    profile.competencies = sorted(set(competencies))
    profile.max_visits_per_day = max_visits_per_day
    profile.travel_buffer_minutes = travel_buffer_minutes
    profile.time_zone = time_zone
    return _save(profile)


@transaction.atomic
def working_hours_set(*, nurse, weekday: int, starts: time | None, ends: time | None) -> WorkingHours | None:
    """Set one weekday's shift in the nurse's time zone; no start and end means the nurse is off that day."""
    _require_nurse(nurse)
    if starts is None and ends is None:
        WorkingHours.objects.filter(nurse=nurse, weekday=weekday).delete()
        return None
    if starts is None or ends is None:
        raise SchedulingError("Give both the start and the end of the working day, or neither.")
    if ends <= starts:
        raise SchedulingError("The working day must end after it starts.")
    hours = WorkingHours.objects.filter(nurse=nurse, weekday=weekday).first() or WorkingHours(
        nurse=nurse, weekday=weekday
    )
    hours.starts, hours.ends = starts, ends
    return _save(hours)


@transaction.atomic
def working_week_set(*, nurse, week: Mapping[int, tuple[time, time] | None]) -> None:
    """Set every weekday (0 = Monday) at once: a (starts, ends) pair, or None for a day off."""
    for weekday in WorkingHours.Weekday.values:
        shift = week.get(weekday)
        starts, ends = shift if shift else (None, None)
        working_hours_set(nurse=nurse, weekday=weekday, starts=starts, ends=ends)


@transaction.atomic
def nurse_availability_update(
    *,
    nurse,
    competencies: list[str],
    max_visits_per_day: int,
    travel_buffer_minutes: int,
    time_zone: str,
    week: Mapping[int, tuple[time, time] | None],
) -> NurseProfile:
    """The availability page saves the profile and the week together, or nothing."""
    profile = nurse_profile_update(
        nurse=nurse,
        competencies=competencies,
        max_visits_per_day=max_visits_per_day,
        travel_buffer_minutes=travel_buffer_minutes,
        time_zone=time_zone,
    )
    working_week_set(nurse=nurse, week=week)
    return profile


@transaction.atomic
def time_off_add(*, nurse, starts_at: datetime, ends_at: datetime, reason: str = "") -> TimeOff:
    _require_nurse(nurse)
    if ends_at <= starts_at:
        raise SchedulingError("The time off must end after it starts.")
    return _save(TimeOff(nurse=nurse, starts_at=starts_at, ends_at=ends_at, reason=reason.strip()))


@transaction.atomic
def time_off_remove(*, time_off: TimeOff) -> None:
    time_off.delete()


# --- the assignment checks ---------------------------------------------------------------------------------------


def assignment_conflicts(*, visit: Visit, nurse, planned_start: datetime | None = None) -> list[Conflict]:
    """Everything that makes ``nurse`` a poor choice for ``visit`` (at ``planned_start`` if it is being moved).

    Overlap rule: the nurse needs MORE than the travel buffer between two visits. A visit that starts exactly
    ``travel_buffer_minutes`` after another ends is a conflict; one minute more is not.
    """
    profile = nurse_profile_or_default(nurse=nurse)
    zone = _zone_of(profile)
    name = _first_name(nurse)
    start = planned_start or visit.planned_start
    end = start + timedelta(minutes=visit.planned_minutes)
    buffer = timedelta(minutes=profile.travel_buffer_minutes)
    others = Visit.objects.active().filter(nurse=nurse).exclude(pk=visit.pk)
    conflicts = []

    longest_visit = timedelta(minutes=720)  # Visit.planned_minutes is at most 720
    nearby = others.filter(planned_start__lte=end + buffer, planned_start__gte=start - buffer - longest_visit)
    for other in nearby.select_related("patient"):
        if other.planned_start <= end + buffer and start <= other.planned_end + buffer:
            other_start, other_end = other.local_start, other.local_end
            conflicts.append(
                Conflict(
                    Conflict.OVERLAP,
                    f"Overlaps {_patient_short_name(other.patient)}'s visit {_day(other_start.date())} "
                    f"{_hm(other_start)}–{_hm(other_end)} including the "
                    f"{profile.travel_buffer_minutes}-minute travel buffer",
                )
            )

    local_start, local_end = timezone.localtime(start, zone), timezone.localtime(end, zone)
    weekday = local_start.weekday()
    weekday_short = f"{local_start:%a}"
    shift = WorkingHours.objects.filter(nurse=nurse, weekday=weekday).first()
    if shift is None:
        conflicts.append(
            Conflict(Conflict.OUTSIDE_HOURS, f"Outside {name}'s working hours ({weekday_short}: not working)")
        )
    elif local_end.date() != local_start.date() or local_start.time() < shift.starts or local_end.time() > shift.ends:
        conflicts.append(
            Conflict(
                Conflict.OUTSIDE_HOURS,
                f"Outside {name}'s working hours ({weekday_short} {_hm(shift.starts)}–{_hm(shift.ends)})",
            )
        )

    for time_off in TimeOff.objects.filter(nurse=nurse, starts_at__lt=end, ends_at__gt=start):
        reason = f"{time_off.reason}, " if time_off.reason else ""
        conflicts.append(Conflict(Conflict.TIME_OFF, f"{name} is off: {reason}{_time_off_span(time_off, zone)}"))

    day = local_start.date()
    same_day = others.filter(
        planned_start__gte=_local_midnight(day, zone), planned_start__lt=_local_midnight(day + timedelta(days=1), zone)
    ).count()
    if same_day >= profile.max_visits_per_day:
        visits = "visit" if same_day == 1 else "visits"
        conflicts.append(
            Conflict(
                Conflict.DAILY_MAXIMUM,
                f"{name} already has {same_day} {visits} on {_day(day)} (maximum {profile.max_visits_per_day})",
            )
        )

    required = visit.order.product.required_competency
    if required not in profile.competencies:
        conflicts.append(Conflict(Conflict.COMPETENCY, f"{name} lacks the {Competency(required).label} competency"))
    return conflicts


# --- schedule changes --------------------------------------------------------------------------------------------


def _lock(visit: Visit) -> None:
    """Lock the visit's row and read it again, so two coordinators cannot change it at once."""
    list(Visit.objects.select_for_update().filter(pk=visit.pk).values_list("pk", flat=True))
    visit.refresh_from_db()


def _lock_nurse(nurse) -> NurseProfile:
    """Assignments to one nurse are checked one at a time (the profile row is the lock)."""
    profile, _ = NurseProfile.objects.get_or_create(nurse=nurse)
    return NurseProfile.objects.select_for_update().get(pk=profile.pk)


def _require_scheduled(visit: Visit, doing: str) -> None:
    if visit.status == Visit.Status.SCHEDULED:
        return
    if visit.status == Visit.Status.CANCELLED:
        raise SchedulingError(f"This visit was cancelled; it cannot be {doing}.")
    if visit.status == Visit.Status.MISSED:
        raise SchedulingError(f"This visit was marked missed; it cannot be {doing}.")
    raise SchedulingError(
        f"This visit is already documented ({visit.get_status_display().lower()}); it cannot be {doing}."
    )


def _event(visit: Visit, kind: str, by, detail: str) -> VisitEvent:
    event = VisitEvent(visit=visit, kind=kind, by=by, detail=detail)
    # VisitEvent.by is nullable for changes made by the system (by=None) but not blank=True, so skip it then.
    event.full_clean(exclude=["by"] if by is None else None)
    event.save()
    return event


def _override_detail(reason: str, conflicts: list[Conflict]) -> str:
    return f"Reason: {reason}\nConflicts:\n" + "\n".join(f"- {conflict.message}" for conflict in conflicts)


def _local_label(moment: datetime, zone) -> str:
    local = timezone.localtime(moment, zone)
    return f"{_day(local.date())} {local.year} {_hm(local)}"


def _check_or_override(*, conflicts: list[Conflict], override_reason: str, visit: Visit, by) -> None:
    if not conflicts:
        return
    if not override_reason:
        raise AssignmentBlocked(conflicts)
    _event(visit, VisitEvent.Kind.OVERRIDE, by, _override_detail(override_reason, conflicts))


@transaction.atomic
def visit_assign(*, visit: Visit, nurse, by, override_reason: str = "") -> Visit:
    """Assign (or reassign) a nurse. Conflicts block unless ``override_reason`` says why to go ahead."""
    _lock(visit)
    _require_scheduled(visit, "assigned")
    _require_nurse(nurse)
    if visit.nurse_id == nurse.pk:
        raise SchedulingError(f"{nurse_name(nurse)} is already assigned to this visit.")
    _lock_nurse(nurse)
    override_reason = override_reason.strip()
    conflicts = assignment_conflicts(visit=visit, nurse=nurse)
    if conflicts and not override_reason:
        raise AssignmentBlocked(conflicts)
    previous = visit.nurse
    visit.nurse = nurse
    _save(visit)
    _check_or_override(conflicts=conflicts, override_reason=override_reason, visit=visit, by=by)
    detail = (
        f"Reassigned from {nurse_name(previous)} to {nurse_name(nurse)}"
        if previous
        else f"Assigned to {nurse_name(nurse)}"
    )
    _event(visit, VisitEvent.Kind.ASSIGNED, by, detail)
    care_team_add(patient=visit.patient, nurse=nurse)
    return visit


# The checks a change makes before it writes; the board also asks them before it asks "are you sure?", so a
# coordinator is never asked to confirm something that would then be refused.


def check_can_unassign(*, visit: Visit) -> None:
    _require_scheduled(visit, "unassigned")
    if visit.nurse_id is None:
        raise SchedulingError("No nurse is assigned to this visit.")


def check_can_cancel(*, visit: Visit) -> None:
    _require_scheduled(visit, "cancelled")


def check_can_mark_missed(*, visit: Visit) -> None:
    _require_scheduled(visit, "marked missed")
    if visit.planned_start > timezone.now():
        raise SchedulingError("Only a visit whose planned time has passed can be marked missed.")


@transaction.atomic
def visit_unassign(*, visit: Visit, by, reason: str = "") -> Visit:
    _lock(visit)
    check_can_unassign(visit=visit)
    previous = visit.nurse
    visit.nurse = None
    _save(visit)
    reason = reason.strip()
    _event(
        visit,
        VisitEvent.Kind.UNASSIGNED,
        by,
        f"{nurse_name(previous)} removed" + (f". Reason: {reason}" if reason else ""),
    )
    return visit


@transaction.atomic
def visit_reschedule(*, visit: Visit, new_start: datetime, by, reason: str = "", override_reason: str = "") -> Visit:
    """Move a visit; the assigned nurse is checked again at the new time, as when assigning."""
    _lock(visit)
    _require_scheduled(visit, "moved")
    if timezone.is_naive(new_start):
        raise SchedulingError("The new time needs a time zone.")
    if new_start <= timezone.now():
        raise SchedulingError("The new time has already passed; choose a time in the future.")
    if new_start == visit.planned_start:
        raise SchedulingError("The visit is already planned at that time.")
    override_reason = override_reason.strip()
    if visit.nurse is not None:
        _lock_nurse(visit.nurse)
        conflicts = assignment_conflicts(visit=visit, nurse=visit.nurse, planned_start=new_start)
        if conflicts and not override_reason:
            raise AssignmentBlocked(conflicts)
    else:
        conflicts = []
    zone = visit.patient.zone
    previous = visit.planned_start
    visit.planned_start = new_start
    _save(visit)
    _check_or_override(conflicts=conflicts, override_reason=override_reason, visit=visit, by=by)
    reason = reason.strip()
    detail = f"Moved from {_local_label(previous, zone)} to {_local_label(new_start, zone)} ({zone.key})"
    _event(visit, VisitEvent.Kind.RESCHEDULED, by, detail + (f". Reason: {reason}" if reason else ""))
    return visit


@transaction.atomic
def visit_cancel(*, visit: Visit, by, reason: str) -> Visit:
    reason = reason.strip()
    if not reason:
        raise SchedulingError("Give a reason for cancelling the visit.")
    _lock(visit)
    check_can_cancel(visit=visit)
    visit.status = Visit.Status.CANCELLED
    visit.status_reason = reason
    _save(visit)
    _event(visit, VisitEvent.Kind.CANCELLED, by, reason)
    return visit


@transaction.atomic
def visit_mark_missed(*, visit: Visit, by, reason: str) -> Visit:
    """A visit whose planned start has passed without a check-in."""
    reason = reason.strip()
    if not reason:
        raise SchedulingError("Give a reason why the visit was missed.")
    _lock(visit)
    check_can_mark_missed(visit=visit)
    visit.status = Visit.Status.MISSED
    visit.status_reason = reason
    _save(visit)
    _event(visit, VisitEvent.Kind.MISSED, by, reason)
    return visit
