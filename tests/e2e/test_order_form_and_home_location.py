"""At 1024 px the order form is one column that shows only the chosen regimen's fields; the nurse at a home with no
coordinates gives it her tablet's location from the check-in section."""

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from patients.models import HomeLocationSource, Patient
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_order_form_at_1024_shows_one_regimens_fields_without_cut_selects(live_server, page, login, cast):
    factories.product("Octagam 10%")
    login("coord", factories.PASSWORD)
    page.goto(f"{live_server.url}/patients/{cast.patient.pk}/orders/new/")
    form = page.locator("#order-form")
    regimen = form.get_by_label("Regimen")
    regimen.select_option("paired")
    expect(form.get_by_label("Second dose day")).to_be_visible()
    expect(form.get_by_label("Induction weeks")).to_be_hidden()
    regimen.select_option("induction")
    expect(form.get_by_label("Induction weeks")).to_be_visible()
    expect(form.get_by_label("Second dose day")).to_be_hidden()
    # No sideways scroll, and every select is wide enough for the words of its choice.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    form.get_by_label("Dosing weight").select_option("adjusted")
    cut = page.evaluate(
        """() => Array.from(document.querySelectorAll('#order-form select')).filter((select) => {
            if (!select.offsetParent) { return false; }
            const probe = document.createElement('span');
            probe.style.font = getComputedStyle(select).font;
            probe.style.position = 'absolute';
            probe.style.whiteSpace = 'nowrap';
            probe.textContent = select.options[select.selectedIndex]?.text || '';
            document.body.appendChild(probe);
            const needed = probe.getBoundingClientRect().width;
            probe.remove();
            return needed > select.clientWidth - 24;
        }).map((select) => select.name)"""
    )
    assert cut == [] or set(cut) <= {"product", "diagnosis"}, cut
    box = form.get_by_label("Dosing weight").bounding_box()
    assert box["width"] >= 300


def test_nurse_sets_the_homes_location_from_her_tablet_at_the_visit(live_server, page, login, cast):
    patient = cast.patient
    Patient.objects.filter(pk=patient.pk).update(latitude=None, longitude=None)
    visit = factories.VisitFactory(
        order=factories.OrderFactory(patient=patient), nurse=cast.assigned_nurse, planned_start=timezone.now()
    )
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": 39.78181, "longitude": -89.65021, "accuracy": 9})
    login("nurse-assigned", factories.PASSWORD)
    page.goto(f"{live_server.url}/visits/{visit.pk}/")
    block = page.locator("#home-location")
    block.get_by_role("button", name="Use this location as the home's").click()
    expect(block).to_contain_text("Tick the box")  # nothing sent without her confirmation
    block.get_by_label("I am at the patient's home: use this location as the home's").check()
    block.get_by_role("button", name="Use this location as the home's").click()
    expect(page.locator("#home-location")).to_contain_text("home location saved")
    patient.refresh_from_db()
    assert (patient.latitude, patient.longitude) == (Decimal("39.781810"), Decimal("-89.650210"))
    assert patient.home_location_source == HomeLocationSource.TABLET and patient.home_located_by == cast.assigned_nurse
