"""On the tablet, a flagged set of vitals holds the titration until the nurse records her assessment (DESIGN §3).

The infusion started 31 minutes ago at 42 mL/hr, so the plan's raise to 84 mL/hr is due; the nurse enters a set
with a fever and a fast pulse, sees the hold in the strip and in the infusion section, records "assessed, no
reaction", and then raises the rate with one tap.
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from visits.chart.infusion.services import infusion_start, vitals_record
from visits.chart.infusion.vitals import Reading
from visits.models import Assessment, PreInfusionChecklist, RateChange, Visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def running_visit(cast):
    now = timezone.now().replace(microsecond=0)
    visit = factories.VisitFactory(
        order=factories.OrderFactory(patient=cast.patient),
        patient=cast.patient,
        nurse=cast.assigned_nurse,
        status=Visit.Status.CHECKED_IN,
        planned_start=now - timedelta(minutes=60),
    )
    PreInfusionChecklist.objects.create(visit=visit, completed_at=now - timedelta(minutes=45), version=1)
    baseline = Reading(
        temperature_c=Decimal("36.8"), pulse=76, systolic=124, diastolic=78, respiratory_rate=16, spo2=97, pain=0
    )
    vitals_record(
        visit=visit, nurse=cast.assigned_nurse, taken_at=now - timedelta(minutes=40), phase="baseline", reading=baseline
    )
    infusion_start(visit=visit, nurse=cast.assigned_nurse, at=now - timedelta(minutes=31), rate_ml_per_hr=42)
    return visit


def test_a_flagged_set_holds_the_raise_until_assessed_no_reaction(live_server, page, login, cast):
    visit = running_visit(cast)
    login("nurse-assigned", factories.PASSWORD)
    page.goto(f"{live_server.url}/visits/{visit.pk}/")
    strip = page.locator("#whats-next-text")
    quick = page.locator("#infusion-quick-actions")
    expect(strip).to_have_text("Vitals due now")  # before the raise, and every 15 min while titrating

    form = page.locator("#vitals-form")
    form.get_by_label("Phase").select_option(label="Titration")
    form.get_by_label("Temperature").fill("38.6")
    form.get_by_label("Pulse").fill("125")
    form.get_by_label("Systolic").fill("152")
    form.get_by_label("Diastolic").fill("80")
    form.get_by_label("Respiratory rate").fill("18")
    form.get_by_label("SpO₂").fill("96")
    form.get_by_role("button", name="Save this set").click()

    hold = "Temperature 38.6 °C, systolic 152 mmHg, pulse 125/min: assess for a reaction before any rate increase"
    expect(strip).to_have_text(hold)
    expect(page.locator("#infusion-hold")).to_contain_text("Rate increases on hold")
    expect(quick.get_by_role("button", name=re.compile("^Raise"))).to_have_count(0)
    expect(quick.get_by_role("button", name="Pause now")).to_be_visible()

    assessment = page.locator("#assessment-form")
    assessment.get_by_label("What you assessed").fill("No chills, rash, headache or breathlessness; feels well.")
    assessment.get_by_role("button", name="Assessed, no reaction").click()
    expect(page.locator("#vitals-assessments")).to_contain_text("Assessed, no reaction")
    expect(page.locator("#infusion-hold")).to_have_count(0)
    expect(strip).not_to_have_text(hold)

    quick.get_by_role("button", name=re.compile(r"^Raise to 84\.0 mL\/hr now")).click()
    expect(page.locator("#infusion-state")).to_have_text("Running at 84.0 mL/hr")
    assert Assessment.objects.get(visit=visit).finding == Assessment.Finding.NO_REACTION
    assert RateChange.objects.filter(visit=visit).last().rate_ml_per_hr == Decimal("84.0")
