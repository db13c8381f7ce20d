"""A first infusion is derived, not only flagged (DESIGN §3: 60 min of observation after a first infusion; the IVIG
labels restart the titration at the minimum rate after a product switch; rituximab's first infusion starts at 50
mg/hr, later ones at 100 mg/hr, Rituxan US label §2.1)."""

from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests import factories
from visits.models import TherapyOrder, Visit
from visits.orders import services


@pytest.fixture
def patient(db):
    patient = factories.PatientFactory(height_cm=Decimal("165"))
    factories.WeightFactory(patient=patient, weight_kg=Decimal("70"))
    factories.AuthorizationFactory(patient=patient, visits_authorized=100)
    return patient


def rituximab_order(patient, **overrides):
    fields = {
        "patient": patient,
        "product": factories.product("Rituxan"),
        "dose_rule": "flat_mg",
        "dose_amount": Decimal("1000"),
        "regimen": "paired",
        "second_dose_day": 15,
        "interval_months": 6,
        "number_of_cycles": 1,
        "prescriber": "Dr. Raman",
        "start_date": timezone.localdate() + timedelta(days=7),
        "preferred_start_time": time(9, 0),
    }
    return TherapyOrder(**{**fields, **overrides})


def given_before(patient, product_name):
    """A documented (signed) infusion of ``product_name`` for the patient, a month ago."""
    order = factories.OrderFactory(patient=patient, product=factories.product(product_name))
    return factories.VisitFactory(
        order=order, status=Visit.Status.SIGNED, planned_start=timezone.now() - timedelta(days=30)
    )


def start_rate_mg_per_hr(visit):
    calc = services.order_calculate(order=visit.order)
    plan = calc.first_plan if visit.is_first_infusion else calc.later_plan
    return plan.steps[0].mg_per_hr


def test_no_documented_infusion_of_the_drug_makes_the_first_visit_a_first_infusion(patient):
    given_before(patient, "Octagam 10%")  # another drug does not count
    _, visits = services.order_save(order=rituximab_order(patient), by=None)
    assert [visit.is_first_infusion for visit in visits] == [True, False]
    assert start_rate_mg_per_hr(visits[0]) == Decimal("50")
    assert services.order_calculate(order=visits[0].order).first_infusion_reason == (
        "no documented Rituximab infusion for this patient"
    )


def test_a_documented_infusion_of_the_drug_makes_it_a_later_infusion(patient):
    given_before(patient, "Rituxan")
    _, visits = services.order_save(order=rituximab_order(patient), by=None)
    assert not visits[0].is_first_infusion
    assert start_rate_mg_per_hr(visits[0]) == Decimal("100")
    assert visits[0].planned_minutes == services.order_calculate(order=visits[0].order).later_visit_minutes


def test_a_product_switch_restarts_at_the_first_infusion_rates_even_after_earlier_infusions(patient):
    given_before(patient, "Rituxan")
    _, visits = services.order_save(order=rituximab_order(patient, product_switch=True), by=None)
    assert visits[0].is_first_infusion
    assert start_rate_mg_per_hr(visits[0]) == Decimal("50")


def test_the_orders_flag_still_makes_a_first_infusion(patient):
    given_before(patient, "Rituxan")
    _, visits = services.order_save(order=rituximab_order(patient, first_infusion=True), by=None)
    assert visits[0].is_first_infusion
    calc = services.order_calculate(order=visits[0].order)
    # DESIGN §3: observation 60 min after a first infusion, 30 after later ones.
    assert calc.first_visit_minutes - calc.later_visit_minutes >= 30
