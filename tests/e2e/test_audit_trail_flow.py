"""The privacy officer searches the trail on a phone, and a nurse takes back a vial on the tablet: both pages
under the strict policy, with labelled fields and touch-sized controls; the search never reaches the address."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from infusion_site.roles import make_privacy_officer
from tests import factories
from tests.e2e.csp import PolicyWatch
from visits.chart.checklist import services
from visits.models import VialUsed, Visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_privacy_officer_searches_by_mrn_on_a_phone(live_server, page, login, cast):
    make_privacy_officer(cast.coordinator)
    policy = PolicyWatch(page.context)
    page.set_viewport_size(PHONE)
    # Nora opens Marisol's record: the entry the officer will find.
    login("nurse-assigned", factories.PASSWORD)
    page.goto(f"{live_server.url}/patients/{cast.patient.pk}/")
    page.context.clear_cookies()

    login("coord", factories.PASSWORD)
    page.goto(f"{live_server.url}/audit/")
    page.get_by_label("Patient").fill(cast.patient.mrn)
    search = page.get_by_role("button", name="Search")
    assert search.bounding_box()["height"] >= 44
    search.click()
    expect(page).to_have_url(re.compile(r"/audit/$"))
    assert cast.patient.mrn not in page.url
    results = page.locator("#audit-results")
    expect(results).to_contain_text("Nora Fieldhouse (nurse-assigned)")
    expect(results).to_contain_text("Opened · Patient record")
    expect(page.get_by_label("Patient")).to_have_value(cast.patient.mrn)  # the search is kept in the session
    with page.expect_download() as download:
        page.get_by_role("link", name="Export this search (CSV)").click()
    assert download.value.suggested_filename.startswith("audit-trail-")
    assert policy.problems("audit search") == []


def test_nurse_takes_back_a_vial_with_a_reason(live_server, page, login, cast):
    visit = factories.VisitFactory(
        order=factories.OrderFactory(patient=cast.patient),
        nurse=cast.assigned_nurse,
        planned_start=timezone.now(),
        status=Visit.Status.INFUSING,
        dose_mg=Decimal("20000"),
    )
    vial = services.vial_add(
        visit=visit,
        nurse=cast.assigned_nurse,
        product=visit.order.product,
        lot_number="LOTBACK",
        expires_on=timezone.localdate() + timedelta(days=300),
        size_mg=10000,
    )
    policy = PolicyWatch(page.context)
    login("nurse-assigned", factories.PASSWORD)
    page.goto(f"{live_server.url}/visits/{visit.pk}/")
    row = page.locator(f"#vial-{vial.pk}")
    take_back = row.get_by_role("button", name="Take back")
    assert take_back.bounding_box()["height"] >= 44
    take_back.click()
    expect(page.locator(f"#vial-{vial.pk}")).to_contain_text("Say why this vial is taken back")
    page.locator(f"#vial-{vial.pk}").get_by_label("Why take it back?").fill("Entered twice")
    page.locator(f"#vial-{vial.pk}").get_by_role("button", name="Take back").click()
    expect(page.locator(f"#vial-{vial.pk}.row-voided")).to_be_visible()
    expect(page.locator("#section-vials")).to_contain_text("Entered twice")
    assert VialUsed.objects.get(pk=vial.pk).void_reason == "Entered twice"
    assert policy.problems("vial take-back") == []
