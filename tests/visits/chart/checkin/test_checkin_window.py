"""The check-in window: from 2 h before the planned start to midnight ending the visit's day, in the patient's zone.

The visit is planned for Wednesday 2 December 2026 at 10:00 in Chicago (CST all day, UTC−6): the window opens at
08:00 CST (14:00 UTC) and closes at 00:00 CST on 3 December (06:00 UTC), six hours after midnight UTC.
"""

import datetime as dt
import html
import math
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests import factories
from tests.conftest import client_for
from visits.alerts.selectors import collect_alerts
from visits.chart.checkin.services import (
    EARTH_RADIUS_M,
    check_in_window,
    visit_check_in,
)
from visits.models import Visit, VisitVerification

CHICAGO = ZoneInfo("America/Chicago")
HOME = (Decimal("39.781700"), Decimal("-89.650100"))  # PatientFactory's home
NEAR_HOME = (float(HOME[0]) + math.degrees(10 / EARTH_RADIUS_M), float(HOME[1]))  # 10 m north: verified


def chicago(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=CHICAGO)


PLANNED = chicago(2, 10)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(chicago(2, 9), tick=False) as traveller:
        yield traveller


@pytest.fixture
def visit(cast):
    cast.patient.time_zone = "America/Chicago"
    cast.patient.save()
    return factories.VisitFactory(
        order=factories.OrderFactory(patient=cast.patient),
        patient=cast.patient,
        nurse=cast.assigned_nurse,
        planned_start=PLANNED,
    )


@pytest.fixture
def published(monkeypatch):
    """(task name, args) of every task published after a commit."""
    sent = []

    def record(task, *args, **kwargs):
        sent.append((task.name, args))
        return True

    monkeypatch.setattr("infusion_site.queueing.publish", record)
    return sent


def check_in(visit, nurse, *, at, reason="", location=NEAR_HOME):
    latitude, longitude = location
    return visit_check_in(
        visit=visit,
        nurse=nurse,
        at=at,
        latitude=latitude,
        longitude=longitude,
        accuracy_m=None,
        window_override_reason=reason,
    )


def window_message(error: ValidationError) -> str:
    return " ".join(error.message_dict["window_override_reason"])


def assert_nothing_written(visit):
    assert VisitVerification.objects.filter(visit=visit).count() == 0
    visit.refresh_from_db()
    assert visit.status == Visit.Status.SCHEDULED


# --- The window ----------------------------------------------------------------------------------------------


def test_the_window_is_from_two_hours_before_to_midnight_in_the_patients_zone(visit):
    window = check_in_window(visit)

    assert window.opens_at == dt.datetime(2026, 12, 2, 14, 0, tzinfo=dt.UTC)
    assert window.closes_at == dt.datetime(2026, 12, 3, 6, 0, tzinfo=dt.UTC)


def test_check_in_at_the_windows_first_minute_is_accepted(visit, cast):
    verification = check_in(visit, cast.assigned_nurse, at=chicago(2, 8, 0))

    assert verification.checked_in_at == chicago(2, 8, 0)
    assert verification.window_override_reason == ""
    visit.refresh_from_db()
    assert visit.status == Visit.Status.CHECKED_IN


def test_check_in_one_minute_before_the_window_opens_is_refused_and_changes_nothing(visit, cast):
    with pytest.raises(ValidationError) as refused:
        check_in(visit, cast.assigned_nurse, at=chicago(2, 7, 59))

    assert window_message(refused.value) == (
        "This visit is planned for today at 10:00; check-in opens at 08:00. To check in anyway, give the reason."
    )
    assert_nothing_written(visit)


def test_check_in_at_2359_on_the_planned_day_is_accepted(visit, cast):
    verification = check_in(visit, cast.assigned_nurse, at=chicago(2, 23, 59))

    assert verification.window_override_reason == ""


def test_check_in_at_midnight_ending_the_planned_day_is_refused_and_changes_nothing(visit, cast):
    with pytest.raises(ValidationError) as refused:
        check_in(visit, cast.assigned_nurse, at=chicago(3, 0, 0))

    assert window_message(refused.value) == (
        "This visit was planned for yesterday, Wed 2 Dec, at 10:00; check-in closed at midnight. "
        "To check in anyway, give the reason."
    )
    assert_nothing_written(visit)


def test_the_day_ends_at_the_patients_midnight_not_utcs(visit, cast):
    """Midnight UTC is 18:00 in Chicago: still the visit's day there."""
    verification = check_in(visit, cast.assigned_nurse, at=dt.datetime(2026, 12, 3, 0, 0, tzinfo=dt.UTC))

    assert verification.window_override_reason == ""


def test_the_window_opens_the_setting_minutes_before_the_start(visit, cast, settings):
    settings.CHECKIN_OPENS_BEFORE_MIN = 30

    with pytest.raises(ValidationError, match="check-in opens at 09:30"):
        check_in(visit, cast.assigned_nurse, at=chicago(2, 9, 29))
    assert check_in(visit, cast.assigned_nurse, at=chicago(2, 9, 30)).window_override_reason == ""


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (chicago(1, 12), "This visit is planned for tomorrow at 10:00; check-in opens at 08:00 that day."),
        (dt.datetime(2026, 11, 25, 12, tzinfo=CHICAGO), "This visit is planned for Wed 2 Dec at 10:00; check-in opens"),
        (chicago(4, 9), "This visit was planned for Wed 2 Dec at 10:00; check-in closed at midnight at the end of"),
    ],
    ids=["the-day-before", "weeks-before", "two-days-after"],
)
def test_the_refusal_says_when_the_visit_is_and_when_check_in_opens_or_closed(visit, cast, at, message):
    with pytest.raises(ValidationError) as refused:
        check_in(visit, cast.assigned_nurse, at=at)

    assert window_message(refused.value).startswith(message)


def test_a_visit_planned_just_after_midnight_opens_the_evening_before(cast):
    visit = factories.VisitFactory(
        order=factories.OrderFactory(patient=cast.patient), nurse=cast.assigned_nurse, planned_start=chicago(2, 1)
    )

    with pytest.raises(ValidationError, match="planned for tomorrow at 01:00; check-in opens today at 23:00"):
        check_in(visit, cast.assigned_nurse, at=chicago(1, 22, 59))
    assert check_in(visit, cast.assigned_nurse, at=chicago(1, 23, 0)).window_override_reason == ""


# --- The override ----------------------------------------------------------------------------------------------


def test_check_in_outside_the_window_with_a_reason_is_saved_and_alerts_the_coordinator(
    visit, cast, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        verification = check_in(
            visit, cast.assigned_nurse, at=chicago(2, 7, 30), reason="  Patient asked me to come early.  "
        )

    verification.refresh_from_db()
    assert verification.window_override_reason == "Patient asked me to come early."
    assert verification.check_in_verified is True  # the location itself is fine
    visit.refresh_from_db()
    assert visit.status == Visit.Status.CHECKED_IN
    assert published == [("visits.tasks.notify_now", (["checkin_exception"],))]
    [alert] = [alert for alert in collect_alerts() if alert.kind == "checkin_exception"]
    assert alert.about == verification
    assert alert.title == f"Checked in outside the visit's window: {cast.patient.full_name}"
    assert "Checked in outside the visit's day window: Patient asked me to come early." in alert.detail
    assert "from the home" not in alert.detail


def test_check_in_after_midnight_with_a_reason_is_saved(visit, cast):
    verification = check_in(visit, cast.assigned_nurse, at=chicago(3, 0, 5), reason="Infusion ran late, forgot.")

    assert verification.window_override_reason == "Infusion ran late, forgot."


def test_an_override_far_from_the_home_names_both_exceptions(visit, cast):
    check_in(visit, cast.assigned_nurse, at=chicago(2, 7), reason="Came early", location=(None, None))

    [alert] = [alert for alert in collect_alerts() if alert.kind == "checkin_exception"]
    assert alert.title.startswith("Location not verified, outside the visit's window:")
    assert "No location shared at check-in. Checked in outside the visit's day window: Came early." in alert.detail


@pytest.mark.parametrize("reason", ["", "   "], ids=["empty", "blank"])
def test_check_in_outside_the_window_without_a_reason_is_refused_and_nothing_is_written(
    visit, cast, published, django_capture_on_commit_callbacks, reason
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        check_in(visit, cast.assigned_nurse, at=chicago(2, 7, 59), reason=reason)

    assert_nothing_written(visit)
    assert published == []
    assert [alert for alert in collect_alerts() if alert.kind == "checkin_exception"] == []


def test_a_reason_given_inside_the_window_overrides_nothing_and_is_not_kept(
    visit, cast, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        verification = check_in(visit, cast.assigned_nurse, at=chicago(2, 9), reason="just in case")

    assert verification.window_override_reason == ""
    assert published == []
    assert [alert for alert in collect_alerts() if alert.kind == "checkin_exception"] == []


# --- The chart's section ---------------------------------------------------------------------------------------


def chart(client, visit) -> str:
    response = client.get(reverse("visits:chart", args=[visit.pk]))
    assert response.status_code == 200
    return response.content.decode()


def section(page: str) -> str:
    start = page.index('id="section-checkin"')
    return html.unescape(page[start : page.index("</section>", start)])


def post_check_in(client, visit, data, *, htmx=True):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse("visits:check_in", args=[visit.pk]), {"version": "0", **data}, headers=headers)


def test_inside_the_window_the_section_has_no_extra_field(visit, cast):
    shown = section(chart(client_for(cast.assigned_nurse), visit))

    assert 'name="window_override_reason"' not in shown
    assert "check-in opens" not in shown
    assert ">Check in<" in shown


def test_before_the_window_the_section_says_when_it_opens_and_asks_for_a_reason(visit, cast, frozen_clock):
    frozen_clock.move_to(chicago(2, 7, 15))

    shown = section(chart(client_for(cast.assigned_nurse), visit))

    assert "This visit is planned for today at 10:00; check-in opens at 08:00." in shown
    assert "Reason for checking in outside the visit's window" in shown
    assert 'name="window_override_reason"' in shown
    assert "Check in with this reason" in shown


def test_after_the_day_the_section_says_check_in_closed_at_midnight(visit, cast, frozen_clock):
    frozen_clock.move_to(chicago(3, 0, 0))

    shown = section(chart(client_for(cast.assigned_nurse), visit))

    assert "check-in closed at midnight" in shown
    assert 'name="window_override_reason"' in shown


def test_the_coordinator_sees_no_reason_field(visit, cast, frozen_clock):
    frozen_clock.move_to(chicago(2, 7, 15))

    assert 'name="window_override_reason"' not in section(chart(client_for(cast.coordinator), visit))


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
@pytest.mark.parametrize(
    ("now", "message"),
    [
        (chicago(2, 7, 59), "check-in opens at 08:00"),
        (chicago(3, 0, 0), "check-in closed at midnight"),
    ],
    ids=["a-minute-early", "at-midnight"],
)
def test_check_in_outside_the_window_without_a_reason_answers_400_at_the_reason_field(
    visit, cast, frozen_clock, now, message, htmx
):
    frozen_clock.move_to(now)
    before = VisitVerification.objects.count()

    response = post_check_in(client_for(cast.assigned_nurse), visit, {"window_override_reason": " "}, htmx=htmx)

    assert response.status_code == 400
    shown = section(response.content.decode())
    field = shown[shown.index('id="checkin-window-reason"') :]
    assert message in field.split("</div>")[0]  # the message right under the reason field
    assert shown.count(message) == 2  # once in the words above the button, once at the field; not a third time
    assert "Not saved:" not in shown
    assert VisitVerification.objects.count() == before
    visit.refresh_from_db()
    assert visit.status == Visit.Status.SCHEDULED


@pytest.mark.parametrize("now", [chicago(2, 8, 0), chicago(2, 23, 59)], ids=["the-first-minute", "the-last-minute"])
def test_check_in_at_the_windows_edges_needs_no_reason(visit, cast, frozen_clock, now):
    frozen_clock.move_to(now)

    response = post_check_in(client_for(cast.assigned_nurse), visit, {})

    assert response.status_code == 200
    assert VisitVerification.objects.get(visit=visit).checked_in_at == now


def test_check_in_outside_the_window_with_a_reason_is_saved_and_shows_the_reason(visit, cast, frozen_clock):
    frozen_clock.move_to(chicago(2, 7, 0))

    response = post_check_in(
        client_for(cast.assigned_nurse), visit, {"window_override_reason": "Patient leaves for work at 9."}
    )

    assert response.status_code == 200
    shown = section(response.content.decode())
    assert "checked in outside the visit's window" in shown
    assert "Reason: Patient leaves for work at 9." in shown
    assert 'name="window_override_reason"' not in shown
    assert VisitVerification.objects.get(visit=visit).window_override_reason == "Patient leaves for work at 9."


def test_a_reason_longer_than_300_characters_is_refused_at_its_field(visit, cast, frozen_clock):
    frozen_clock.move_to(chicago(2, 7, 0))

    response = post_check_in(client_for(cast.assigned_nurse), visit, {"window_override_reason": "x" * 301})

    assert response.status_code == 400
    assert "at most 300 characters" in section(response.content.decode())
    assert not VisitVerification.objects.exists()


def test_the_print_view_shows_the_override_reason(visit, cast):
    check_in(visit, cast.assigned_nurse, at=chicago(2, 7, 0), reason="Patient leaves for work at 9.")

    page = client_for(cast.coordinator).get(reverse("visits:print", args=[visit.pk])).content.decode()

    part = html.unescape(page[page.index('id="record-verification"') :].split("</section>")[0])
    assert "checked in outside the visit's window; reason: Patient leaves for work at 9." in part
