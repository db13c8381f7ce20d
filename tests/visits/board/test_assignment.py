"""Assignment checks and schedule changes (visits.board.services): each conflict found and said in words.

The overlap rule under test: a nurse needs MORE than the travel buffer between two visits, so a gap of exactly
the buffer (30 min) is a conflict and 31 minutes is not.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from patients.models import CareTeamMember
from tests import factories
from visits.board import services as scheduling
from visits.board.services import AssignmentBlocked, Conflict, SchedulingError, assignment_conflicts
from visits.models import Visit, VisitEvent

CHICAGO = ZoneInfo("America/Chicago")
# Monday 16 November 2026, 06:00 in Chicago; the week of Monday 23 November is next week.
NOW = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
EVERY_DAY = range(7)
WEEKDAYS = range(5)


# --- helpers (the board and availability tests use them too) ----------------------------------------------------


def at(day: int, hour: int, minute: int = 0, *, month: int = 11, year: int = 2026, zone=CHICAGO) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def available_nurse(
    first_name="Nora",
    *,
    days=EVERY_DAY,
    hours=(time(8), time(17)),
    competencies=("ivig",),
    max_visits=3,
    buffer=30,
    zone="America/Chicago",
    **user_fields,
):
    nurse = factories.nurse(first_name=first_name, **user_fields)
    scheduling.nurse_availability_update(
        nurse=nurse,
        competencies=list(competencies),
        max_visits_per_day=max_visits,
        travel_buffer_minutes=buffer,
        time_zone=zone,
        week={weekday: hours for weekday in days},
    )
    return nurse


def visit_at(start: datetime, minutes: int = 240, *, nurse=None, patient=None, product="Octagam 10%", **fields):
    patient = patient or factories.PatientFactory(first_name="Maria", last_name="Alvarez")
    order = factories.OrderFactory(patient=patient, product=factories.product(product))
    return factories.VisitFactory(order=order, planned_start=start, planned_minutes=minutes, nurse=nurse, **fields)


def codes(conflicts) -> list[str]:
    return [conflict.code for conflict in conflicts]


def messages(conflicts) -> list[str]:
    return [conflict.message for conflict in conflicts]


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def coordinator(db):
    return factories.coordinator(username="coord")


@pytest.fixture
def nora(db):
    return available_nurse("Nora", last_name="Quinn", username="nora")


# --- the checks ----------------------------------------------------------------------------------------------------


def test_a_free_nurse_with_the_competency_inside_her_hours_has_no_conflicts(nora):
    assert assignment_conflicts(visit=visit_at(at(24, 9)), nurse=nora) == []


def test_an_overlapping_visit_is_a_conflict_naming_the_patient_and_times(nora):
    visit_at(at(24, 9), 240, nurse=nora)
    conflicts = assignment_conflicts(visit=visit_at(at(24, 11), 120, patient=factories.PatientFactory()), nurse=nora)
    assert codes(conflicts) == [Conflict.OVERLAP]
    assert messages(conflicts) == [
        "Overlaps Maria A.'s visit Tue 24 Nov 09:00–13:00 including the 30-minute travel buffer"
    ]


def test_starting_exactly_the_travel_buffer_after_another_visit_ends_is_a_conflict(nora):
    visit_at(at(24, 9), 240, nurse=nora)  # ends 13:00
    assert codes(assignment_conflicts(visit=visit_at(at(24, 13, 30), 120), nurse=nora)) == [Conflict.OVERLAP]


def test_starting_31_minutes_after_another_visit_ends_is_not_a_conflict(nora):
    visit_at(at(24, 9), 240, nurse=nora)
    assert assignment_conflicts(visit=visit_at(at(24, 13, 31), 120), nurse=nora) == []


def test_the_buffer_also_applies_before_the_next_visit(nora):
    visit_at(at(24, 13), 120, nurse=nora)
    assert codes(assignment_conflicts(visit=visit_at(at(24, 8, 30), 240), nurse=nora)) == [
        Conflict.OVERLAP
    ]  # ends 12:30
    assert assignment_conflicts(visit=visit_at(at(24, 8, 29), 240), nurse=nora) == []  # ends 12:29


def test_the_nurses_own_travel_buffer_is_used(db):
    nurse = available_nurse("Ines", buffer=60)
    visit_at(at(24, 9), 120, nurse=nurse)  # ends 11:00
    conflicts = assignment_conflicts(visit=visit_at(at(24, 11, 45), 60), nurse=nurse)
    assert codes(conflicts) == [Conflict.OVERLAP]
    assert "including the 60-minute travel buffer" in conflicts[0].message
    assert assignment_conflicts(visit=visit_at(at(24, 12, 1), 60), nurse=nurse) == []


def test_cancelled_and_missed_visits_do_not_block(nora):
    visit_at(at(24, 9), 240, nurse=nora, status=Visit.Status.CANCELLED)
    visit_at(at(24, 10), 120, nurse=nora, status=Visit.Status.MISSED)
    assert assignment_conflicts(visit=visit_at(at(24, 9, 30), 120), nurse=nora) == []


def test_a_visit_running_past_the_end_of_the_working_day_is_outside_working_hours(nora):
    conflicts = assignment_conflicts(visit=visit_at(at(23, 15), 240), nurse=nora)  # Monday 15:00–19:00
    assert codes(conflicts) == [Conflict.OUTSIDE_HOURS]
    assert messages(conflicts) == ["Outside Nora's working hours (Mon 08:00–17:00)"]


def test_a_visit_starting_before_the_working_day_is_outside_working_hours(nora):
    assert codes(assignment_conflicts(visit=visit_at(at(24, 7, 59), 60), nurse=nora)) == [Conflict.OUTSIDE_HOURS]
    assert assignment_conflicts(visit=visit_at(at(24, 8), 540), nurse=nora) == []  # exactly 08:00–17:00


def test_a_weekday_without_working_hours_counts_as_not_working(db):
    nurse = available_nurse("Nora", days=WEEKDAYS)
    conflicts = assignment_conflicts(visit=visit_at(at(29, 9)), nurse=nurse)  # Sunday
    assert messages(conflicts) == ["Outside Nora's working hours (Sun: not working)"]


def test_a_nurse_with_no_hours_recorded_is_not_working(db):
    nurse = factories.nurse(first_name="Noor")
    conflicts = assignment_conflicts(visit=visit_at(at(24, 9)), nurse=nurse)
    assert Conflict.OUTSIDE_HOURS in codes(conflicts)


def test_working_hours_are_read_in_the_nurses_time_zone(db):
    new_york_nurse = available_nurse("Nadia", zone="America/New_York")  # 08:00–17:00 New York = 07:00–16:00 Chicago
    early = visit_at(at(24, 7, 30), 180)
    assert assignment_conflicts(visit=early, nurse=new_york_nurse) == []
    late = visit_at(at(24, 13, 30), 180)  # ends 16:30 Chicago = 17:30 New York
    assert messages(assignment_conflicts(visit=late, nurse=new_york_nurse)) == [
        "Outside Nadia's working hours (Tue 08:00–17:00)"
    ]


def test_time_off_is_a_conflict_with_its_reason_and_dates(nora):
    scheduling.time_off_add(nurse=nora, starts_at=at(23, 0), ends_at=at(26, 0), reason="vacation")
    conflicts = assignment_conflicts(visit=visit_at(at(24, 9)), nurse=nora)
    assert codes(conflicts) == [Conflict.TIME_OFF]
    assert messages(conflicts) == ["Nora is off: vacation, 2026-11-23 to 2026-11-25"]


def test_time_off_ending_before_the_visit_does_not_block(nora):
    scheduling.time_off_add(nurse=nora, starts_at=at(23, 0), ends_at=at(26, 0), reason="vacation")
    assert assignment_conflicts(visit=visit_at(at(26, 9)), nurse=nora) == []


def test_part_of_a_day_off_shows_the_times(nora):
    scheduling.time_off_add(nurse=nora, starts_at=at(24, 12), ends_at=at(24, 17), reason="training")
    assert messages(assignment_conflicts(visit=visit_at(at(24, 9)), nurse=nora)) == [
        "Nora is off: training, 2026-11-24 12:00–17:00"
    ]


def test_the_daily_maximum_counts_the_nurses_other_visits_that_day(nora):
    for hour in (8, 10, 12):
        visit_at(at(24, hour), 60, nurse=nora)
    conflicts = assignment_conflicts(visit=visit_at(at(24, 14), 60), nurse=nora)
    assert codes(conflicts) == [Conflict.DAILY_MAXIMUM]
    assert messages(conflicts) == ["Nora already has 3 visits on Tue 24 Nov (maximum 3)"]


def test_below_the_daily_maximum_is_no_conflict(nora):
    for hour in (8, 10):
        visit_at(at(24, hour), 60, nurse=nora)
    assert assignment_conflicts(visit=visit_at(at(24, 14), 60), nurse=nora) == []


def test_the_daily_maximum_counts_days_in_the_nurses_time_zone(db):
    nurse = available_nurse("Nora", max_visits=1, hours=(time(0), time(23, 59)))
    visit_at(at(23, 20), 60, nurse=nurse)  # Monday 20:00 Chicago, already Tuesday 02:00 UTC
    assert Conflict.DAILY_MAXIMUM not in codes(assignment_conflicts(visit=visit_at(at(24, 9), 60), nurse=nurse))
    assert Conflict.DAILY_MAXIMUM in codes(assignment_conflicts(visit=visit_at(at(23, 9), 60), nurse=nurse))


def test_a_missing_competency_is_a_conflict(nora):
    conflicts = assignment_conflicts(visit=visit_at(at(24, 9), product="Rituxan"), nurse=nora)
    assert codes(conflicts) == [Conflict.COMPETENCY]
    assert messages(conflicts) == ["Nora lacks the Biologic infusions (rituximab, infliximab, abatacept) competency"]


def test_an_ivig_visit_needs_the_ivig_competency(db):
    nurse = available_nurse("Nora", competencies=("scig",))
    assert messages(assignment_conflicts(visit=visit_at(at(24, 9)), nurse=nurse)) == ["Nora lacks the IVIG competency"]


# --- assigning -------------------------------------------------------------------------------------------------------


def test_a_conflict_blocks_the_assignment_without_a_reason(nora, coordinator):
    visit = visit_at(at(24, 9), product="Rituxan")
    with pytest.raises(AssignmentBlocked) as blocked:
        scheduling.visit_assign(visit=visit, nurse=nora, by=coordinator)
    assert codes(blocked.value.conflicts) == [Conflict.COMPETENCY]
    visit.refresh_from_db()
    assert visit.nurse is None
    assert not VisitEvent.objects.filter(visit=visit).exists()
    assert not CareTeamMember.objects.filter(patient=visit.patient, nurse=nora).exists()


def test_a_blank_override_reason_still_blocks(nora, coordinator):
    visit = visit_at(at(24, 9), product="Rituxan")
    with pytest.raises(AssignmentBlocked):
        scheduling.visit_assign(visit=visit, nurse=nora, by=coordinator, override_reason="   ")


def test_an_override_reason_assigns_and_records_the_reason_and_the_conflicts(nora, coordinator):
    visit = visit_at(at(24, 9), product="Rituxan")
    scheduling.visit_assign(
        visit=visit, nurse=nora, by=coordinator, override_reason="Only nurse in the area; trained 2025"
    )
    visit.refresh_from_db()
    assert visit.nurse == nora
    events = list(VisitEvent.objects.filter(visit=visit))
    assert [event.kind for event in events] == [VisitEvent.Kind.OVERRIDE, VisitEvent.Kind.ASSIGNED]
    assert "Only nurse in the area; trained 2025" in events[0].detail
    assert "Nora lacks the Biologic infusions (rituximab, infliximab, abatacept) competency" in events[0].detail
    assert all(event.by == coordinator for event in events)


def test_an_assignment_without_conflicts_records_only_the_assignment(nora, coordinator):
    visit = visit_at(at(24, 9))
    scheduling.visit_assign(visit=visit, nurse=nora, by=coordinator)
    assert list(VisitEvent.objects.filter(visit=visit).values_list("kind", "detail")) == [
        (VisitEvent.Kind.ASSIGNED, "Assigned to Nora Quinn")
    ]


def test_assigning_puts_the_nurse_on_the_patients_care_team(nora, coordinator):
    visit = visit_at(at(24, 9))
    assert not CareTeamMember.objects.filter(patient=visit.patient, nurse=nora).exists()
    scheduling.visit_assign(visit=visit, nurse=nora, by=coordinator)
    assert CareTeamMember.objects.filter(patient=visit.patient, nurse=nora).exists()


def test_reassigning_names_both_nurses(nora, coordinator):
    other = available_nurse("Omar", last_name="Haddad")
    visit = visit_at(at(24, 9))
    scheduling.visit_assign(visit=visit, nurse=nora, by=coordinator)
    scheduling.visit_assign(visit=visit, nurse=other, by=coordinator)
    assert VisitEvent.objects.filter(visit=visit).last().detail == "Reassigned from Nora Quinn to Omar Haddad"


def test_assigning_the_same_nurse_again_is_refused(nora, coordinator):
    visit = visit_at(at(24, 9), nurse=nora)
    with pytest.raises(SchedulingError, match="already assigned"):
        scheduling.visit_assign(visit=visit, nurse=nora, by=coordinator)


def test_only_an_active_nurse_can_be_assigned(nora, coordinator):
    visit = visit_at(at(24, 9))
    with pytest.raises(SchedulingError, match="Only active nurses"):
        scheduling.visit_assign(visit=visit, nurse=coordinator, by=coordinator)
    nora.is_active = False
    nora.save()
    with pytest.raises(SchedulingError, match="Only active nurses"):
        scheduling.visit_assign(visit=visit, nurse=nora, by=coordinator)


DOCUMENTED = [Visit.Status.CHECKED_IN, Visit.Status.INFUSING, Visit.Status.COMPLETED, Visit.Status.SIGNED]


@pytest.mark.parametrize("status", DOCUMENTED)
def test_a_documented_visit_cannot_be_assigned_moved_or_cancelled(nora, coordinator, status):
    visit = visit_at(at(16, 3), status=status)  # this morning, already charted
    changes = [
        lambda: scheduling.visit_assign(visit=visit, nurse=nora, by=coordinator, override_reason="x"),
        lambda: scheduling.visit_reschedule(visit=visit, new_start=at(25, 9), by=coordinator, override_reason="x"),
        lambda: scheduling.visit_cancel(visit=visit, by=coordinator, reason="no longer needed"),
        lambda: scheduling.visit_mark_missed(visit=visit, by=coordinator, reason="not home"),
    ]
    for change in changes:
        with pytest.raises(SchedulingError, match="already documented"):
            change()
    visit.refresh_from_db()
    assert (visit.status, visit.nurse, visit.planned_start) == (status, None, at(16, 3))
    assert not VisitEvent.objects.filter(visit=visit).exists()


def test_a_cancelled_visit_cannot_be_assigned(nora, coordinator):
    visit = visit_at(at(24, 9), status=Visit.Status.CANCELLED)
    with pytest.raises(SchedulingError, match="was cancelled"):
        scheduling.visit_assign(visit=visit, nurse=nora, by=coordinator)


def test_unassigning_removes_the_nurse_and_records_it(nora, coordinator):
    visit = visit_at(at(24, 9), nurse=nora)
    scheduling.visit_unassign(visit=visit, by=coordinator, reason="sick")
    visit.refresh_from_db()
    assert visit.nurse is None
    assert list(VisitEvent.objects.filter(visit=visit).values_list("kind", "detail")) == [
        (VisitEvent.Kind.UNASSIGNED, "Nora Quinn removed. Reason: sick")
    ]


def test_unassigning_a_visit_without_a_nurse_is_refused(coordinator):
    with pytest.raises(SchedulingError, match="No nurse"):
        scheduling.visit_unassign(visit=visit_at(at(24, 9)), by=coordinator)


# --- rescheduling, cancelling, missed ------------------------------------------------------------------------------


def test_rescheduling_moves_the_visit_and_records_from_and_to_in_the_patients_zone(coordinator):
    visit = visit_at(at(24, 9))
    scheduling.visit_reschedule(visit=visit, new_start=at(25, 10), by=coordinator, reason="patient asked")
    visit.refresh_from_db()
    assert visit.planned_start == at(25, 10)
    event = VisitEvent.objects.get(visit=visit)
    assert event.kind == VisitEvent.Kind.RESCHEDULED
    assert event.detail == (
        "Moved from Tue 24 Nov 2026 09:00 to Wed 25 Nov 2026 10:00 (America/Chicago). Reason: patient asked"
    )


def test_rescheduling_checks_the_assigned_nurse_again_and_blocks_on_a_conflict(nora, coordinator):
    visit = visit_at(at(24, 9), nurse=nora)
    with pytest.raises(AssignmentBlocked) as blocked:
        scheduling.visit_reschedule(visit=visit, new_start=at(24, 15), by=coordinator)  # until 19:00
    assert messages(blocked.value.conflicts) == ["Outside Nora's working hours (Tue 08:00–17:00)"]
    visit.refresh_from_db()
    assert visit.planned_start == at(24, 9)
    assert not VisitEvent.objects.filter(visit=visit).exists()


def test_rescheduling_with_an_override_reason_moves_and_records_the_override(nora, coordinator):
    visit = visit_at(at(24, 9), nurse=nora)
    scheduling.visit_reschedule(visit=visit, new_start=at(24, 15), by=coordinator, override_reason="Nora agreed")
    visit.refresh_from_db()
    assert visit.planned_start == at(24, 15)
    kinds = list(VisitEvent.objects.filter(visit=visit).values_list("kind", flat=True))
    assert kinds == [VisitEvent.Kind.OVERRIDE, VisitEvent.Kind.RESCHEDULED]
    assert "Nora agreed" in VisitEvent.objects.get(visit=visit, kind=VisitEvent.Kind.OVERRIDE).detail


def test_rescheduling_does_not_conflict_with_the_visits_own_old_time(nora, coordinator):
    visit = visit_at(at(24, 9), 240, nurse=nora)
    scheduling.visit_reschedule(visit=visit, new_start=at(24, 10), by=coordinator)
    visit.refresh_from_db()
    assert visit.planned_start == at(24, 10)


def test_rescheduling_into_the_past_is_refused(coordinator):
    visit = visit_at(at(24, 9))
    with pytest.raises(SchedulingError, match="already passed"):
        scheduling.visit_reschedule(visit=visit, new_start=NOW - timedelta(minutes=1), by=coordinator)


def test_cancelling_needs_a_reason(coordinator):
    visit = visit_at(at(24, 9))
    with pytest.raises(SchedulingError, match="reason"):
        scheduling.visit_cancel(visit=visit, by=coordinator, reason="  ")
    visit.refresh_from_db()
    assert visit.status == Visit.Status.SCHEDULED
    assert not VisitEvent.objects.filter(visit=visit).exists()


def test_cancelling_records_the_reason_on_the_visit_and_its_history(nora, coordinator):
    visit = visit_at(at(24, 9), nurse=nora)
    scheduling.visit_cancel(visit=visit, by=coordinator, reason="Hospitalised")
    visit.refresh_from_db()
    assert (visit.status, visit.status_reason) == (Visit.Status.CANCELLED, "Hospitalised")
    assert list(VisitEvent.objects.filter(visit=visit).values_list("kind", "detail", "by")) == [
        (VisitEvent.Kind.CANCELLED, "Hospitalised", coordinator.pk)
    ]
    # the nurse's time is free again
    assert assignment_conflicts(visit=visit_at(at(24, 9)), nurse=nora) == []


def test_a_future_visit_cannot_be_marked_missed(coordinator):
    visit = visit_at(at(24, 9))
    with pytest.raises(SchedulingError, match="passed"):
        scheduling.visit_mark_missed(visit=visit, by=coordinator, reason="not home")
    visit.refresh_from_db()
    assert visit.status == Visit.Status.SCHEDULED


def test_a_past_visit_is_marked_missed_with_its_reason(coordinator):
    visit = visit_at(NOW - timedelta(hours=3))
    scheduling.visit_mark_missed(visit=visit, by=coordinator, reason="Patient not home")
    visit.refresh_from_db()
    assert (visit.status, visit.status_reason) == (Visit.Status.MISSED, "Patient not home")
    assert VisitEvent.objects.get(visit=visit).kind == VisitEvent.Kind.MISSED


def test_marking_missed_needs_a_reason(coordinator):
    visit = visit_at(NOW - timedelta(hours=3))
    with pytest.raises(SchedulingError, match="reason"):
        scheduling.visit_mark_missed(visit=visit, by=coordinator, reason="")
