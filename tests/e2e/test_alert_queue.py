"""The coordinator handles a flagged-vitals alert on a tablet: "I am on it", then resolved with a note."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from visits.alerts.selectors import alert_history
from visits.models import AlertHandling, Visit, VitalSigns

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_coordinator_acknowledges_then_resolves_a_flagged_vitals_alert(live_server, page, login, cast):
    now = timezone.now()
    visit = factories.VisitFactory(
        patient=cast.patient,
        nurse=cast.assigned_nurse,
        planned_start=now - timedelta(hours=1),
        status=Visit.Status.INFUSING,
    )
    flagged = VitalSigns.objects.create(
        visit=visit, taken_at=now - timedelta(minutes=20), phase="titration", temperature_c=38.6, pulse=104,
        systolic=128, diastolic=82, respiratory_rate=18, spo2=96, flags=["Temperature 38.6 °C: 38.0 °C or more"],
    )  # fmt: skip
    # The visit's order has no authorization on file: a second kind on the queue, left alone here.
    factories.AuthorizationFactory(patient=cast.patient)

    login("coord", factories.PASSWORD)
    page.goto(f"{live_server.url}/alerts/")
    counts = page.get_by_role("navigation", name="Kinds of alert")
    expect(counts.get_by_role("link", name=re.compile(r"^Vital signs past the action thresholds 1$"))).to_be_visible()
    expect(page.locator("#empty-kinds")).to_contain_text("No alerts: unassigned visits, prior authorizations")
    item = page.locator(f"#vitals_flag-{flagged.pk}")
    expect(item).to_contain_text(f"Vital signs flagged: {cast.patient.full_name}")

    item.get_by_role("button", name="I am on it").click()
    expect(page.get_by_text("You are on it: Vital signs flagged")).to_be_visible()
    item = page.locator(f"#vitals_flag-{flagged.pk}")
    expect(item).to_contain_text("On it: Carmen Ortiz")
    expect(item.get_by_role("button", name="I am on it")).to_have_count(0)

    # A resolution needs a note: refused next to the field, nothing changed.
    item.get_by_text("Resolve…").click()
    item.get_by_role("button", name="Resolve the alert").click()
    item = page.locator(f"#vitals_flag-{flagged.pk}")
    note = item.get_by_label("What was done")
    expect(note).to_have_attribute("aria-invalid", "true")
    expect(item.locator(".invalid-feedback")).to_contain_text("Write what was done")
    assert AlertHandling.objects.get().state == "acknowledged"

    note.fill("Called Nora: assessed, no reaction; rate held at 0.02 mL/kg/min.")
    item.get_by_role("button", name="Resolve the alert").click()
    expect(page.get_by_text("Resolved: Vital signs flagged")).to_be_visible()
    expect(page.locator(f"#vitals_flag-{flagged.pk}")).to_have_count(0)
    expect(page.locator("#empty-kinds")).to_contain_text("vital signs past the action thresholds")
    # Nothing scrolls sideways on the tablet.
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")

    page.get_by_role("link", name="Resolved alerts").click()
    resolved = page.locator("#resolved-alerts")
    expect(resolved).to_contain_text(f"Vital signs flagged: {cast.patient.full_name}")
    expect(resolved).to_contain_text("Resolved by Carmen Ortiz")
    expect(resolved).to_contain_text("“Called Nora: assessed, no reaction; rate held at 0.02 mL/kg/min.”")
    [handling] = alert_history(patient=cast.patient)
    assert (handling.visit, handling.acknowledged_by, handling.resolved_by) == (
        visit,
        cast.coordinator,
        cast.coordinator,
    )
