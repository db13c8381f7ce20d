from datetime import time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from visits.models import NurseProfile, TherapyOrder, Visit, VisitEvent, WorkingHours

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def next_monday():
    today = timezone.localdate()
    return today + timedelta(days=7 - today.weekday())


def test_coordinator_orders_ivig_staffs_it_and_the_patient_sees_the_visits(live_server, page, login, cast):
    octagam = factories.product("Octagam 10%")
    factories.AuthorizationFactory(patient=cast.patient, visits_authorized=24)
    nurse = cast.assigned_nurse
    nurse.first_name, nurse.last_name = "Nora", "Fields"
    nurse.save()
    # Nora works every day but has no IVIG competency recorded: the board must say so.
    NurseProfile.objects.create(nurse=nurse, competencies=["scig"], time_zone="America/Chicago")
    for weekday in range(7):
        WorkingHours.objects.create(nurse=nurse, weekday=weekday, starts=time(7, 0), ends=time(20, 0))
    monday = next_monday()

    login("coord", factories.PASSWORD)
    page.get_by_role("link", name="Patients").click()
    page.get_by_role("link", name=f"{cast.patient.last_name}, {cast.patient.first_name}").click()
    page.get_by_role("link", name="New order").click()

    page.locator("#id_product").select_option(str(octagam.pk))
    page.locator("#id_dose_rule").select_option("g_per_kg")
    page.locator("#id_dose_amount").fill("2")
    page.locator("#id_regimen").select_option("cycle")
    page.locator("#id_days_per_cycle").fill("5")
    page.locator("#id_interval_weeks").fill("4")
    page.locator("#id_number_of_cycles").fill("1")
    page.locator("#id_start_date").fill(monday.isoformat())
    page.locator("#id_preferred_start_time").fill("09:00")
    page.locator("#id_preferred_start_time").dispatch_event("change")

    preview = page.locator("#order-preview")
    expect(preview).to_contain_text("2 g/kg × 70 kg = 140 g")
    expect(preview).to_contain_text("28 g per infusion")
    expect(preview).to_contain_text("42.0 mL/hr")
    expect(preview).to_contain_text("Never above 168.0 mL/hr")
    expect(preview).to_contain_text("5 visits will be planned")
    assert TherapyOrder.objects.count() == 0

    page.get_by_role("button", name="Save order and plan visits").click()
    expect(page.get_by_text("Order saved: 5 upcoming visits planned.")).to_be_visible()
    assert Visit.objects.filter(patient=cast.patient, nurse=None).count() == 5

    page.goto(f"{live_server.url}/schedule/?week={monday.isoformat()}")
    first = Visit.objects.filter(patient=cast.patient).order_by("planned_start").first()
    card = page.locator(f"#visit-{first.pk}")
    expect(card).to_contain_text("09:00")
    card.get_by_role("link", name="Assign…").click()  # the board's one shared picker
    picker = page.get_by_role("dialog", name="Choose a nurse")
    picker.get_by_label("Search by name").fill("Nora")
    picker.get_by_role("button", name="Nora Fields").click()

    card = page.locator(f"#visit-{first.pk}")
    expect(card.locator("[data-conflict=competency]")).to_contain_text("IVIG")
    first.refresh_from_db()
    assert first.nurse is None
    card.get_by_label("Override with reason").fill("IVIG-trained; competency paperwork pending")
    card.get_by_role("button", name="Assign anyway").click()
    expect(page.locator(f"#visit-{first.pk} [data-conflict]")).to_have_count(0)
    expect(page.locator(f"#visit-{first.pk}")).to_be_visible()
    first.refresh_from_db()
    assert first.nurse == nurse
    assert VisitEvent.objects.filter(visit=first, kind="override", detail__contains="paperwork pending").exists()

    page.get_by_role("button", name="Sign out").click()
    login("patient-a", factories.PASSWORD)
    upcoming = page.locator("main")
    expect(upcoming).to_contain_text(monday.strftime("%a"))
    expect(upcoming).to_contain_text("Nora")
    expect(upcoming).not_to_contain_text("Fields")
    expect(upcoming).to_contain_text("9:00")
