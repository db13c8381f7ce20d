"""SCIG at home on a phone (390×844): the taught patient logs a self-infusion; a missed week reaches the queue."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import sign_in
from tests.visits.portal.scig_helpers import taught
from visits.models import SelfInfusion, TherapyOrder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_patient_logs_two_sites_and_a_lot_and_a_missed_week_reaches_the_coordinator(live_server, page, login, cast):
    taught(cast.patient, nurse=cast.assigned_nurse)
    # The other patient logged 9 days ago and nothing since: due 2 days ago, past the one-day grace.
    taught(cast.other_patient, nurse=cast.assigned_nurse, signed_ago=timedelta(days=40))
    SelfInfusion.objects.create(
        patient=cast.other_patient,
        order=TherapyOrder.objects.get(patient=cast.other_patient),
        infused_at=timezone.now() - timedelta(days=9),
        sites=[{"site": "abdomen_left", "volume_ml": "20"}],
        volume_ml=Decimal("20"),
    )

    page.set_viewport_size(PHONE)
    login("patient-a", factories.PASSWORD)
    card = page.locator("#self-infusion")
    expect(card).to_contain_text("Next weekly infusion")
    card.get_by_role("link", name="Log an infusion").click()
    expect(page.get_by_role("heading", name="Log my infusion")).to_be_visible()

    page.get_by_label("Abdomen, left", exact=True).check()
    page.get_by_label("mL at abdomen, left").fill("14.3")
    page.get_by_label("Thigh, right", exact=True).check()
    page.get_by_label("mL at thigh, right").fill("14.2")
    page.get_by_label("Lot number").fill("p100123")
    page.get_by_label("Expiry date").fill("2020-01-31")
    page.get_by_label("Vial size").select_option(label="4 g (20 mL)")
    page.get_by_label("Redness").check()
    page.get_by_role("button", name="Save my infusion").click()

    # An expired vial: refused next to its field, nothing saved, what was typed kept.
    expect(page.locator("#vial-0")).to_contain_text("This vial expired on 2020-01-31")
    assert not SelfInfusion.objects.filter(patient=cast.patient).exists()
    expect(page.get_by_label("mL at abdomen, left")).to_have_value("14.3")
    page.get_by_label("Expiry date").fill("2099-01-31")
    box = page.get_by_role("button", name="Save my infusion").bounding_box()
    assert box["height"] >= 44 and box["x"] + box["width"] <= PHONE["width"]
    page.get_by_role("button", name="Save my infusion").click()

    expect(page.get_by_role("heading", name="My infusion log")).to_be_visible()
    entry = page.locator(".self-infusion").first
    expect(entry).to_contain_text("28.5 mL")
    expect(entry).to_contain_text("Abdomen, left 14.3 mL; Thigh, right 14.2 mL")
    expect(entry).to_contain_text("Lot P100123")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    coordinator = page.context.browser.new_context(viewport={"width": 1024, "height": 768}, locale="en-US")
    try:
        desk = coordinator.new_page()
        sign_in(desk, live_server.url, "coord", factories.PASSWORD)
        desk.goto(f"{live_server.url}/alerts/")
        expect(desk.get_by_text("Weekly SCIG dose not logged: Thaddeus Okonkwo")).to_be_visible()
        expect(desk.get_by_text("Weekly SCIG dose not logged: Marisol Delacroix")).to_have_count(0)
    finally:
        coordinator.close()
