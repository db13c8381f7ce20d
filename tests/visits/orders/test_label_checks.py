"""The order names its indication: presets, the label's dose range, safe concentrations and single-dose ceilings."""

from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.conftest import client_for
from visits.models import TherapyOrder
from visits.orders import services as order_services
from visits.orders.presets import PRESETS


@pytest.fixture
def dm_patient(cast):
    """The cast's patient (70 kg) with dermatomyositis."""
    diagnosis = factories.DiagnosisFactory(patient=cast.patient, icd10_code="M33.10")
    factories.AuthorizationFactory(patient=cast.patient, visits_authorized=100)
    return cast.patient, diagnosis


def form_data(product, diagnosis=None, **overrides):
    data = {
        "product": factories.product(product).pk,
        "diagnosis": diagnosis.pk if diagnosis else "",
        "dose_rule": "g_per_kg",
        "dose_amount": "2",
        "weight_method": "actual",
        "regimen": "cycle",
        "days_per_cycle": "5",
        "interval_weeks": "4",
        "number_of_cycles": "2",
        "start_date": (timezone.localdate() + timedelta(days=3)).isoformat(),
        "preferred_start_time": "09:00",
        "prescriber": "Dr. Raman",
        "save": "1",
    }
    data.update(overrides)
    return data


def order_for(patient, product, **fields):
    defaults = {
        "dose_rule": "flat_mg",
        "dose_amount": Decimal("1000"),
        "regimen": "pulse",
        "days_per_cycle": 1,
        "number_of_cycles": 1,
        "prescriber": "Dr. Raman",
        "start_date": timezone.localdate() + timedelta(days=3),
        "preferred_start_time": time(9, 0),
    }
    return TherapyOrder(patient=patient, product=factories.product(product), **{**defaults, **fields})


def test_the_octagam_dermatomyositis_preset_fills_the_form_and_the_diagnosis(cast, dm_patient):
    patient, diagnosis = dm_patient
    response = client_for(cast.coordinator).get(reverse("orders:create", args=[patient.pk]) + "?preset=octagam-dm")
    form = response.context["form"]
    assert response.status_code == 200
    assert form.initial["product"] == factories.product("Octagam 10%").pk
    assert form.initial["dose_amount"] == "2" and form.initial["days_per_cycle"] == 5
    assert form.initial["interval_weeks"] == 4 and form.initial["diagnosis"] == diagnosis.pk
    assert "Octagam 10% for dermatomyositis applied" in response.content.decode()
    for key in PRESETS:
        assert f"?preset={key}" in response.content.decode()


def test_an_order_saved_for_a_diagnosis_names_its_indication(cast, dm_patient):
    patient, diagnosis = dm_patient
    client = client_for(cast.coordinator)
    response = client.post(reverse("orders:create", args=[patient.pk]), form_data("Octagam 10%", diagnosis))
    assert response.status_code == 302
    order = TherapyOrder.objects.get()
    assert order.indication == "dm" and order.diagnosis == diagnosis
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "For Dermatomyositis (M33.x)" in page
    assert "Octagam 10% label for Dermatomyositis (M33.x)" in page


def test_an_order_without_an_indication_says_so_and_uses_the_products_own_limits(cast):
    factories.AuthorizationFactory(patient=cast.patient, visits_authorized=100)
    client = client_for(cast.coordinator)
    assert client.post(reverse("orders:create", args=[cast.patient.pk]), form_data("Octagam 10%")).status_code == 302
    order = TherapyOrder.objects.get()
    assert order.indication == ""
    assert "No indication named" in client.get(reverse("orders:detail", args=[order.pk])).content.decode()


def test_a_dose_outside_the_labels_range_needs_the_prescribers_reason(cast, dm_patient):
    patient, diagnosis = dm_patient
    client = client_for(cast.coordinator)
    url = reverse("orders:create", args=[patient.pk])
    response = client.post(url, form_data("Octagam 10%", diagnosis, dose_amount="1"))
    assert response.status_code == 400
    message = response.context["form"].errors["dose_amount"][0]
    assert "label for Dermatomyositis (M33.x) gives 2 g/kg" in message and "prescriber's reason" in message
    assert not TherapyOrder.objects.exists()
    reason = "Renal function: 1 g/kg per cycle, Dr. Raman"
    response = client.post(url, form_data("Octagam 10%", diagnosis, dose_amount="1", dose_outside_label_reason=reason))
    assert response.status_code == 302
    assert TherapyOrder.objects.get().dose_outside_label_reason == reason


def test_an_off_label_indication_uses_the_most_conservative_limits_and_says_so(dm_patient):
    patient, _ = dm_patient
    calc = order_services.order_calculate(
        order=order_for(patient, "Panzyga", dose_rule="g_per_kg", dose_amount=Decimal("2"), indication="dm")
    )
    assert "Off-label for Dermatomyositis (M33.x): the most conservative limits of Panzyga are used." in calc.warnings
    assert calc.first_plan.max_ml_per_hr == Decimal("336.0")  # ITP's 0.08 mL/kg/min, the lowest, × 70 × 60
    assert "off-label for Dermatomyositis" in calc.first_plan.max_reason


def test_privigen_for_itp_plans_to_168_and_says_which_label(dm_patient):
    patient, _ = dm_patient
    calc = order_services.order_calculate(
        order=order_for(patient, "Privigen", dose_rule="g_per_kg", dose_amount=Decimal("2"), indication="itp")
    )
    # Privigen label: 0.04 mL/kg/min for chronic ITP × 70 kg × 60 = 168.0 mL/hr.
    assert calc.first_plan.max_ml_per_hr == Decimal("168.0")
    assert calc.first_plan.max_reason.endswith("(Privigen label for Immune thrombocytopenia (D69.3))")


def test_privigen_at_risk_uses_the_agency_ceiling_and_says_it_is_policy(dm_patient):
    patient, _ = dm_patient
    patient.thrombosis_risk = True
    patient.save()
    calc = order_services.order_calculate(
        order=order_for(patient, "Privigen", dose_rule="g_per_kg", dose_amount=Decimal("0.4"), indication="pi")
    )
    assert calc.first_plan.max_ml_per_hr == Decimal("126.0")  # agency 0.03 mL/kg/min × 70 × 60
    assert "agency ceiling" in calc.first_plan.max_reason
    assert any("agency policy" in warning for warning in calc.warnings)


def test_a_final_concentration_above_the_labels_range_blocks_the_order(dm_patient):
    patient, _ = dm_patient
    rituximab = factories.product("Rituxan")
    rituximab.diluted_volume_ml = 250  # a pharmacy bag of 250 mL
    rituximab.save()
    calc = order_services.order_calculate(order=order_for(patient, "Rituxan", dose_amount=Decimal("1500")))
    assert calc.blocks == [
        "Blocked: Rituxan 1,500 mg in 250 mL is 6.0 mg/mL, outside its safe final concentration of 1–4 mg/mL. "
        "Check the dose or the dilution with the pharmacy."
    ]
    with pytest.raises(order_services.OrderBlocked):
        order_services.order_save(order=order_for(patient, "Rituxan", dose_amount=Decimal("1500")), by=None)
    # 1,000 mg in 250 mL is 4.0 mg/mL: at the top of the range, allowed.
    assert order_services.order_calculate(order=order_for(patient, "Rituxan")).blocks == []


def test_infliximab_above_4_mg_per_ml_in_its_250_ml_bag_is_refused_on_the_form(cast, dm_patient):
    patient, diagnosis = dm_patient
    data = form_data("Remicade", diagnosis, dose_rule="mg_per_kg", dose_amount="20", regimen="induction")
    data.update({"days_per_cycle": "1", "induction_weeks": "0, 2, 6", "interval_weeks": "8"})
    response = client_for(cast.coordinator).post(reverse("orders:create", args=[patient.pk]), data)
    assert "Remicade 1,400 mg in 250 mL is 5.6 mg/mL" in response.content.decode()
    assert not TherapyOrder.objects.exists()


def test_methylprednisolone_2100_mg_is_refused_without_a_second_confirmation(cast, dm_patient):
    patient, diagnosis = dm_patient
    client = client_for(cast.coordinator)
    url = reverse("orders:create", args=[patient.pk])
    data = form_data("Solu-Medrol", diagnosis, dose_rule="mg_per_kg", dose_amount="30", regimen="pulse")
    data.update({"days_per_cycle": "3", "number_of_cycles": "1", "interval_weeks": ""})
    response = client.post(url, data)  # 30 mg/kg × 70 kg = 2,100 mg
    assert response.status_code == 400
    message = response.context["form"].errors["high_dose_confirmation"][0]
    assert "Solu-Medrol 2,100 mg is above its single-dose ceiling of 1,000 mg" in message
    assert not TherapyOrder.objects.exists()
    confirmation = "Pharmacist J. Chen: 30 mg/kg pulse confirmed with Dr. Raman"
    response = client.post(url, {**data, "high_dose_confirmation": confirmation})
    assert response.status_code == 302
    assert TherapyOrder.objects.get().high_dose_confirmation == confirmation
