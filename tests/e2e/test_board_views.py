"""The coordinator's board on a 1024×768 tablet: the 3-day view fits without sideways scrolling, is remembered,
and removing a nurse takes a confirmation."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from visits.models import NurseProfile, RescheduleRequest, Visit, VisitEvent, WorkingHours

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def staff(nurse, first_name, last_name):
    nurse.first_name, nurse.last_name = first_name, last_name
    nurse.save()
    NurseProfile.objects.create(nurse=nurse, competencies=["ivig"], time_zone="America/Chicago")
    for weekday in range(7):
        WorkingHours.objects.create(nurse=nurse, weekday=weekday, starts=time(7, 0), ends=time(20, 0))


def busy_days(cast) -> Visit:
    """Two nurses with two visits on each of the next three days, and the card markers a busy board has."""
    staff(cast.assigned_nurse, "Nora", "Fieldhouse")
    staff(cast.unassigned_nurse, "Umar", "Hadleigh")
    zone = cast.patient.zone
    today = timezone.localdate(timezone=zone)
    patient = factories.PatientFactory(first_name="Maximiliana", last_name="Featherstonehaugh-Montgomery")
    visits = []
    for offset in range(3):
        for hour, nurse, who in ((8, cast.assigned_nurse, cast.patient), (13, cast.unassigned_nurse, patient)):
            start = datetime.combine(today + timedelta(days=offset), time(hour), tzinfo=zone)
            order = factories.OrderFactory(patient=who, product=factories.product("Octagam 10%"))
            visits.append(factories.VisitFactory(order=order, nurse=nurse, planned_start=start))
    visits.append(factories.VisitFactory(order=order, planned_start=visits[-1].planned_start))  # one unassigned
    VisitEvent.objects.create(
        visit=visits[3], kind=VisitEvent.Kind.OVERRIDE, detail="Reason: agreed\nConflicts:\n- Outside hours"
    )
    RescheduleRequest.objects.create(visit=visits[3], reason="Hospital appointment", preferred_dates="Friday")
    return visits[2]  # tomorrow 08:00 with Nora


def assert_days_fit(page, count):
    days = page.locator("th[data-board-day]")
    expect(days).to_have_count(count)
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    for index in range(count):
        box = days.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"day {index + 1} is off the screen: {box}"
    table = page.locator("#board .table-responsive")
    assert table.evaluate("element => element.scrollWidth <= element.clientWidth"), "the table scrolls sideways"


def test_coordinator_reads_three_days_on_a_tablet_and_removes_a_nurse_after_confirming(live_server, page, login, cast):
    visit = busy_days(cast)
    login("coord", factories.PASSWORD)
    page.goto(f"{live_server.url}/schedule/")
    assert_days_fit(page, 3)  # today's 3 days by default
    page.get_by_role("group", name="Board view").get_by_role("link", name="Week").click()
    expect(page.locator("th[data-board-day]")).to_have_count(7)
    page.goto(f"{live_server.url}/schedule/")  # the week she chose is remembered
    expect(page.locator("th[data-board-day]")).to_have_count(7)

    page.get_by_role("group", name="Board view").get_by_role("link", name="3 days").click()
    expect(page).to_have_url(f"{live_server.url}/schedule/?day={timezone.localdate().isoformat()}&view=3day")
    assert_days_fit(page, 3)

    page.reload()
    assert_days_fit(page, 3)
    page.goto(f"{live_server.url}/schedule/")  # no view in the address: the one she chose is remembered
    assert_days_fit(page, 3)

    card = page.locator(f"#visit-{visit.pk}")
    card.get_by_text("Change…").click()
    card.get_by_role("button", name="Remove nurse…").click()
    card = page.locator(f"#visit-{visit.pk}")
    expect(card.locator("[data-confirm]")).to_contain_text("Remove Nora Fieldhouse from")
    yes = card.get_by_role("button", name="Yes, remove the nurse")
    expect(yes).to_be_focused()
    visit.refresh_from_db()
    assert visit.nurse == cast.assigned_nurse  # the first tap only asked

    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="nurse removed")).to_be_visible()
    visit.refresh_from_db()
    assert visit.nurse is None
    assert_days_fit(page, 3)

    page.goto(f"{live_server.url}/schedule/?visit={visit.pk}#visit-{visit.pk}")  # the alert queue's link
    expect(page.locator(f"#visit-{visit.pk}")).to_be_focused()
