"""The board's one shared "Assign…" picker on a phone (390×844) and a tablet (1024×768), by keyboard only."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from patients.models import Team
from tests import factories
from visits.models import NurseProfile, Visit, WorkingHours

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def on_duty(nurse, first_name, last_name):
    nurse.first_name, nurse.last_name = first_name, last_name
    nurse.save()
    NurseProfile.objects.create(nurse=nurse, competencies=["ivig"], time_zone="America/Chicago")
    for weekday in range(7):
        WorkingHours.objects.create(nurse=nurse, weekday=weekday, starts=time(7, 0), ends=time(20, 0))


@pytest.mark.parametrize("size", [(390, 844), (1024, 768)], ids=["phone", "tablet"])
def test_coordinator_assigns_a_nurse_with_the_keyboard_through_the_shared_picker(live_server, page, login, cast, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    team = Team.objects.create(name="North")
    team.members.add(cast.coordinator, cast.assigned_nurse)
    cast.patient.team = team
    cast.patient.save()
    on_duty(cast.assigned_nurse, "Nora", "Fieldhouse")
    on_duty(cast.unassigned_nurse, "Umar", "Hadleigh")  # another team: not in the picker's first list
    tomorrow = timezone.localdate() + timedelta(days=1)
    start = timezone.make_aware(datetime.combine(tomorrow, time(10, 0)), cast.patient.zone)
    order = factories.OrderFactory(patient=cast.patient, product=factories.product("Octagam 10%"))
    visit = factories.VisitFactory(order=order, patient=cast.patient, planned_start=start, planned_minutes=120)

    login("coord", factories.PASSWORD)
    page.goto(f"{live_server.url}/schedule/?view=day&day={tomorrow.isoformat()}")
    assign = page.locator(f"#visit-{visit.pk}").get_by_role("link", name="Assign…")
    box = assign.bounding_box()
    assert box["height"] >= 44  # a finger-sized target
    assign.focus()
    page.keyboard.press("Enter")

    picker = page.get_by_role("dialog", name="Choose a nurse")
    expect(picker).to_be_visible()
    expect(picker.get_by_label("Search by name")).to_be_focused()
    expect(picker.get_by_role("button", name="Nora Fieldhouse")).to_be_visible()
    expect(picker.get_by_role("button", name="Umar Hadleigh")).to_have_count(0)
    dialog_box = picker.bounding_box()
    assert dialog_box["x"] >= 0 and dialog_box["x"] + dialog_box["width"] <= size[0]  # fits the screen

    page.keyboard.type("Fieldh")
    expect(picker).to_contain_text("matching “Fieldh”")  # the list searched as she types
    expect(picker.get_by_role("button")).to_have_count(2)  # Close and Nora
    page.keyboard.press("ArrowDown")
    expect(picker.get_by_role("button", name="Nora Fieldhouse")).to_be_focused()
    page.keyboard.press("Enter")

    expect(picker).to_be_hidden()
    expect(page.get_by_role("status").filter(has_text="nurse assigned")).to_be_visible()
    expect(page.locator(f'tr[data-nurse="{cast.assigned_nurse.pk}"] #visit-{visit.pk}')).to_be_visible()
    visit.refresh_from_db()
    assert visit.nurse == cast.assigned_nurse
    assert Visit.objects.filter(nurse__isnull=False).count() == 1


def test_escape_closes_the_picker_and_focus_returns_to_the_card(live_server, page, login, cast):
    page.set_viewport_size({"width": 1024, "height": 768})
    tomorrow = timezone.localdate() + timedelta(days=1)
    start = timezone.make_aware(datetime.combine(tomorrow, time(10, 0)), cast.patient.zone)
    visit = factories.VisitFactory(
        order=factories.OrderFactory(patient=cast.patient), patient=cast.patient, planned_start=start
    )
    login("coord", factories.PASSWORD)
    page.goto(f"{live_server.url}/schedule/?view=day&day={tomorrow.isoformat()}")
    assign = page.locator(f"#visit-{visit.pk}").get_by_role("link", name="Assign…")
    assign.click()
    picker = page.get_by_role("dialog", name="Choose a nurse")
    expect(picker).to_be_visible()
    page.keyboard.press("Escape")
    expect(picker).to_be_hidden()
    expect(assign).to_be_focused()
