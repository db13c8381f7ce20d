"""A nurse outside the care team breaks the glass from her day, at tablet size, and sees the banner."""

import re

import pytest
from playwright.sync_api import expect

from patients.models import EmergencyAccess
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_nurse_breaks_the_glass_and_sees_the_banner(live_server, page, login, cast):
    page.set_viewport_size({"width": 1024, "height": 768})
    login("nurse-unassigned", factories.PASSWORD)
    expect(page).to_have_url(re.compile(r"/visits/today/$"))

    page.get_by_role("link", name="Emergency access to another patient").click()
    page.get_by_label("MRN").fill(cast.patient.mrn)
    page.get_by_label("Why you need this record now").fill("Short")
    page.get_by_label(re.compile("I need this record")).check()
    page.get_by_role("button", name="Open the record").click()
    expect(page.locator("#id_reason").locator("xpath=..")).to_contain_text("at least a sentence")
    assert not EmergencyAccess.objects.exists()

    page.get_by_label("Why you need this record now").fill(
        "Her own nurse is off sick and she called with a fever during the infusion."
    )
    page.get_by_label(re.compile("I need this record")).check()
    page.get_by_role("button", name="Open the record").click()

    expect(page).to_have_url(re.compile(rf"/patients/{cast.patient.pk}/$"))
    banner = page.get_by_test_id("emergency-banner")
    expect(banner).to_contain_text(re.compile(r"Emergency access until \d\d:\d\d — every page you open is recorded"))
    expect(page.get_by_role("heading", name=cast.patient.full_name)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024  # nothing sideways at tablet width
    box = banner.get_by_role("link", name="Open the record").bounding_box()
    assert box["height"] >= 44

    page.get_by_role("link", name="My day").click()
    expect(page.get_by_test_id("emergency-banner")).to_be_visible()
