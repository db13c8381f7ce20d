"""The sweep derives incrementally: a minute with nothing new costs a fixed handful of queries, whatever the agency
holds; what falls due or changes between sweeps is still found, a crashed sweep is made good by the next, and the
full run finds what the watermarks cannot see."""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from visits.models import Notification, NotificationPreference, SweepWatermark, Visit
from visits.notifications import due as reminders

NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def patient_visit(hours_from_now: float) -> Visit:
    """A portal patient reminded by email 48 and 24 hours ahead, with one visit ``hours_from_now`` away."""
    user = factories.patient_user()
    NotificationPreference.objects.create(user=user, reminder_hours=[48, 24], quiet_start=None, quiet_end=None)
    patient = factories.PatientFactory(user=user)
    order = factories.OrderFactory(patient=patient)
    start = dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours_from_now)
    return factories.VisitFactory(order=order, planned_start=start)


def reminder_keys(visit: Visit) -> list[str]:
    rows = Notification.objects.filter(kind=Notification.Kind.VISIT_REMINDER, about_id=visit.pk)
    return sorted(key.split(":")[3] for key in rows.values_list("key", flat=True))


def watermark(producer=Notification.Kind.VISIT_REMINDER) -> dt.datetime:
    return SweepWatermark.objects.get(producer=producer).derived_until


def catch_up_with_the_overlap(frozen_clock):
    """Rows saved just before a sweep are read again by the next (``due.OVERLAP``); after that one, they are old."""
    frozen_clock.shift(reminders.OVERLAP + dt.timedelta(minutes=1))
    reminders.create_due()
    frozen_clock.shift(dt.timedelta(minutes=1))


def queries_of_a_sweep_with_nothing_new(frozen_clock, visits: int) -> int:
    for _ in range(visits):
        patient_visit(47)
    reminders.create_due()
    catch_up_with_the_overlap(frozen_clock)
    before = Notification.objects.count()
    with CaptureQueriesContext(connection) as queries:
        assert reminders.create_due() == 0
    assert Notification.objects.count() == before
    return len(queries)


def test_a_sweep_with_nothing_new_makes_the_same_few_queries_at_3_and_40_reminders(cast, frozen_clock):
    few = queries_of_a_sweep_with_nothing_new(frozen_clock, 3)
    assert Notification.objects.filter(kind=Notification.Kind.VISIT_REMINDER).count() == 3

    frozen_clock.shift(dt.timedelta(hours=1))
    many = queries_of_a_sweep_with_nothing_new(frozen_clock, 37)
    assert Notification.objects.filter(kind=Notification.Kind.VISIT_REMINDER).count() == 40

    assert few == many
    assert many <= 40  # one or two per producer, and none grows with the rows


def test_a_reminder_lead_reached_between_sweeps_is_found(cast, frozen_clock):
    visit = patient_visit(49)
    reminders.create_due()
    assert reminder_keys(visit) == []
    assert watermark() == NOW

    frozen_clock.shift(dt.timedelta(hours=1, minutes=1))
    assert reminders.create_due() == 1
    assert reminder_keys(visit) == ["48h"]
    assert watermark() == NOW + dt.timedelta(hours=1, minutes=1)


def test_a_visit_moved_between_sweeps_is_found(cast, frozen_clock):
    visit = patient_visit(100)
    reminders.create_due()
    assert reminder_keys(visit) == []

    frozen_clock.shift(dt.timedelta(minutes=10))
    visit.planned_start = NOW + dt.timedelta(hours=30)
    visit.save()
    frozen_clock.shift(dt.timedelta(minutes=1))
    reminders.create_due()
    assert reminder_keys(visit) == ["48h"]


def test_a_sweep_that_failed_before_its_watermark_moved_is_made_good_by_the_next(cast, frozen_clock, monkeypatch):
    visit = patient_visit(49)
    reminders.create_due()

    frozen_clock.shift(dt.timedelta(hours=1, minutes=10))  # the 48-hour lead was reached 10 minutes ago

    def lost(**kwargs):
        raise ConnectionError("database went away")

    with monkeypatch.context() as patched:
        patched.setattr(reminders, "notifications_create", lost)
        with pytest.raises(ConnectionError):
            reminders.create_due()
    assert watermark() == NOW
    assert reminder_keys(visit) == []

    frozen_clock.shift(dt.timedelta(hours=2))
    reminders.create_due()
    assert reminder_keys(visit) == ["48h"]


def test_the_full_run_finds_a_change_that_saved_no_row(cast, frozen_clock):
    visit = patient_visit(100)
    reminders.create_due()
    catch_up_with_the_overlap(frozen_clock)

    Visit.objects.filter(pk=visit.pk).update(planned_start=NOW + dt.timedelta(hours=30))  # updated_at untouched
    reminders.create_due()
    assert reminder_keys(visit) == []

    reminders.create_due(full=True)
    assert reminder_keys(visit) == ["48h"]
    mark = SweepWatermark.objects.get(producer=Notification.Kind.VISIT_REMINDER)
    assert mark.full_at == mark.derived_until == NOW + reminders.OVERLAP + dt.timedelta(minutes=2)


def test_a_now_before_the_watermark_derives_everything(cast):
    visit = patient_visit(30)
    reminders.create_due(now=NOW + dt.timedelta(days=2))  # the visit is over by then
    assert reminder_keys(visit) == []

    reminders.create_due(now=NOW)
    assert reminder_keys(visit) == ["48h"]
    assert watermark() == NOW + dt.timedelta(days=2)  # never moved back


def test_the_nurse_agenda_goes_out_when_6_pm_strikes_between_sweeps(cast, frozen_clock):
    visit = patient_visit(26)  # Saturday noon in New York, the nurse's zone (settings.TIME_ZONE)
    visit.nurse = cast.assigned_nurse
    visit.save()
    reminders.create_due()
    six_pm_new_york = dt.datetime(2026, 11, 20, 23, 0, tzinfo=dt.UTC)
    frozen_clock.move_to(six_pm_new_york - dt.timedelta(minutes=1))
    reminders.create_due()
    assert not Notification.objects.filter(kind=Notification.Kind.NURSE_AGENDA).exists()

    frozen_clock.move_to(six_pm_new_york + dt.timedelta(minutes=1))
    reminders.create_due()
    agenda = Notification.objects.filter(kind=Notification.Kind.NURSE_AGENDA, recipient=cast.assigned_nurse)
    assert {row.key.rsplit(":", 1)[0] for row in agenda} == {f"agenda:{cast.assigned_nurse.pk}:2026-11-21"}


def test_the_management_command_sweeps_incrementally_or_in_full(cast, frozen_clock):
    visit = patient_visit(47)
    out = StringIO()
    call_command("sweep_notifications", stdout=out)
    assert out.getvalue().startswith("Incremental sweep: ")
    assert reminder_keys(visit) == ["48h"]

    frozen_clock.shift(dt.timedelta(minutes=5))
    out = StringIO()
    call_command("sweep_notifications", "--full", stdout=out)
    assert "Full sweep: 0 new notification rows" in out.getvalue()
    assert SweepWatermark.objects.get(producer=Notification.Kind.VISIT_REMINDER).full_at == NOW + dt.timedelta(
        minutes=5
    )


def test_the_day_10_questions_open_when_an_old_cycle_is_completed_between_sweeps(cast, frozen_clock):
    from visits.models import FollowUp

    # Planned 10 days 13 hours ago for 4 hours: its day-10 questions fell due 9 hours ago, long before the last
    # sweep, but the visit was only completed now (a late chart), so it is found as a changed cycle.
    visit = factories.VisitFactory(
        planned_start=NOW - dt.timedelta(days=10, hours=13), planned_minutes=240, status=Visit.Status.INFUSING
    )
    reminders.create_due()
    assert not FollowUp.objects.filter(visit=visit).exists()

    frozen_clock.shift(reminders.OVERLAP * 3)
    visit.status = Visit.Status.COMPLETED
    visit.save()
    frozen_clock.shift(dt.timedelta(minutes=1))
    reminders.create_due()
    follow_up = FollowUp.objects.get(visit=visit)
    assert (follow_up.window, follow_up.due_at) == (FollowUp.Window.LATE, NOW - dt.timedelta(hours=9))
