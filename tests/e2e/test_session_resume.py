"""On the tablet, the session ends mid-visit (idle logoff): the vital-sign set she typed is not lost. Saving asks for
her password in place, and after it the same set arrives on the server once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from visits.models import Visit, VitalSigns

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_set_saved_after_the_session_ended_is_sent_once_after_signing_in_again_in_place(
    live_server, page, login, cast
):
    visit = factories.VisitFactory(
        order=factories.OrderFactory(patient=cast.patient),
        patient=cast.patient,
        nurse=cast.assigned_nurse,
        status=Visit.Status.CHECKED_IN,
        planned_start=timezone.now() - timedelta(minutes=30),
    )
    login("nurse-assigned", factories.PASSWORD)
    chart = f"{live_server.url}/visits/{visit.pk}/"
    page.goto(chart)
    form = page.locator("#vitals-form")
    form.get_by_label("Phase").select_option(label="Baseline")
    form.get_by_label("Temperature").fill("37.1")
    form.get_by_label("Pulse").fill("81")
    form.get_by_label("Systolic").fill("122")
    form.get_by_label("Diastolic").fill("79")
    form.get_by_label("Respiratory rate").fill("15")
    form.get_by_label("SpO₂").fill("98")

    Session.objects.all().delete()  # the idle logoff, as the server sees it
    form.get_by_role("button", name="Save this set").click()
    dialog = page.locator("#resume-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Nothing you typed is lost")
    expect(page).to_have_url(chart)
    expect(form.get_by_label("Pulse")).to_have_value("81")  # still there, not swapped for a sign-in page
    assert not VitalSigns.objects.filter(visit=visit).exists()

    dialog.get_by_label("Your password").fill("not-my-password")
    dialog.get_by_role("button", name="Sign in and send").click()
    expect(dialog.get_by_role("alert")).to_contain_text("That is not your password")
    dialog.get_by_label("Your password").fill(factories.PASSWORD)
    dialog.get_by_role("button", name="Sign in and send").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#vitals-table tbody tr")).to_have_count(1)
    expect(page.locator("#vitals-table tbody tr").first).to_contain_text("81/min")
    saved = VitalSigns.objects.get(visit=visit)
    assert (saved.pulse, saved.temperature_c, saved.recorded_by) == (81, Decimal("37.1"), cast.assigned_nurse)
