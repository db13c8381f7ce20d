"""Therapy orders: the dose and its warnings, and the visits they become."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from patients.models import Patient
from tests import factories
from tests.conftest import client_for
from visits.models import TherapyOrder, Visit
from visits.orders import services as order_services

CHICAGO = ZoneInfo("America/Chicago")


def octagam_order(patient, **overrides):
    fields = {
        "patient": patient,
        "product": factories.product("Octagam 10%"),
        "dose_rule": "g_per_kg",
        "dose_amount": Decimal("2"),
        "weight_method": "actual",
        "regimen": "cycle",
        "days_per_cycle": 5,
        "interval_weeks": 4,
        "number_of_cycles": 3,
        "prescriber": "Dr. Raman",
        "start_date": timezone.localdate() + timedelta(days=7),
        "preferred_start_time": time(9, 0),
    }
    fields.update(overrides)
    return TherapyOrder(**fields)


@pytest.fixture
def patient_70kg(db):
    patient = factories.PatientFactory(height_cm=Decimal("165"))
    factories.WeightFactory(patient=patient, weight_kg=Decimal("70"))
    factories.AuthorizationFactory(patient=patient, visits_authorized=100)
    return patient


def test_octagam_for_a_70_kg_patient_is_140_g_a_cycle_28_g_a_day_280_ml(patient_70kg):
    calc = order_services.order_calculate(order=octagam_order(patient_70kg))
    assert calc.blocks == []
    assert calc.dose_per_cycle.amount == Decimal("140") and calc.dose_per_cycle.unit == "g"
    assert calc.dose_per_infusion.amount == Decimal("28")
    assert calc.volume_ml == Decimal("280")
    assert calc.first_plan.steps[0].ml_per_hr == Decimal("42.0")
    assert calc.first_plan.max_ml_per_hr == Decimal("168.0")
    assert calc.vials.total == Decimal("28") and calc.vials.waste == 0


def test_renal_risk_applies_the_reduced_maximum_and_says_so(patient_70kg):
    patient_70kg.renal_risk = True
    patient_70kg.save()
    calc = order_services.order_calculate(order=octagam_order(patient_70kg))
    # Octagam 10% label: '3.3 mg/kg/min (0.03 mL/kg/min)'; the lower figure, 0.03 × 70 kg × 60 = 126.0 mL/hr
    # (the catalog held 0.033, planning 138.6).
    assert calc.first_plan.max_ml_per_hr == Decimal("126.0")
    assert all(step.ml_per_hr <= Decimal("126.0") for step in calc.first_plan.steps)
    assert any("reduced maximum" in warning for warning in calc.warnings)


def test_ivig_is_blocked_for_iga_deficiency_with_anti_iga_antibodies(patient_70kg):
    patient_70kg.iga_status = Patient.IgAStatus.DEFICIENT
    patient_70kg.anti_iga_antibodies = Patient.AntiIgA.PRESENT
    patient_70kg.save()
    order = octagam_order(patient_70kg)
    calc = order_services.order_calculate(order=order)
    assert any("IgA deficiency" in block for block in calc.blocks)
    with pytest.raises(order_services.OrderBlocked):
        order_services.order_save(order=order, by=None)
    assert TherapyOrder.objects.count() == 0


def test_a_weight_older_than_6_months_and_bmi_over_30_are_flagged_with_the_adjusted_weight(db):
    patient = factories.PatientFactory(height_cm=Decimal("165"), sex="F")
    factories.WeightFactory(
        patient=patient, weight_kg=Decimal("95"), measured_on=timezone.localdate() - timedelta(days=200)
    )
    calc = order_services.order_calculate(order=octagam_order(patient))
    text = " ".join(calc.warnings)
    assert "more than 6 months ago" in text
    assert "BMI 34.9" in text and "adjusted body weight" in text
    # IBW 165 cm female = 45.5 + 2.3 × (64.96 − 60) in; adjusted = IBW + 0.4 × (95 − IBW)
    assert "kg" in text


def test_no_weight_blocks_the_order(db):
    patient = factories.PatientFactory()
    calc = order_services.order_calculate(order=octagam_order(patient))
    assert calc.blocks == ["No weight is recorded for this patient: add a weight before ordering."]


def test_saving_an_ivig_order_plans_five_consecutive_days_every_four_weeks_at_9_local(patient_70kg):
    order, visits = order_services.order_save(order=octagam_order(patient_70kg), by=None)
    assert len(visits) == 15
    starts = [visit.planned_start.astimezone(CHICAGO) for visit in visits]
    assert all(start.time() == time(9, 0) for start in starts)
    first = order.start_date
    assert [s.date() for s in starts[:5]] == [first + timedelta(days=n) for n in range(5)]
    assert starts[5].date() == first + timedelta(weeks=4)
    assert visits[0].dose_mg == Decimal("28000") and visits[0].volume_ml == Decimal("280")
    # No documented IVIG infusion for this patient: the first visit is a first infusion, observed 60 min.
    assert visits[0].planned_minutes == 30 + 145 + 60 and visits[1].planned_minutes == 30 + 145 + 30


def test_first_infusion_gets_60_minutes_of_observation_only_on_the_first_visit(patient_70kg):
    order, visits = order_services.order_save(order=octagam_order(patient_70kg, first_infusion=True), by=None)
    assert visits[0].is_first_infusion and visits[0].planned_minutes == 30 + 145 + 60
    assert not visits[1].is_first_infusion and visits[1].planned_minutes == 30 + 145 + 30


@time_machine.travel(datetime(2026, 3, 1, 12, 0, tzinfo=ZoneInfo("UTC")), tick=False)
def test_visits_stay_at_9_local_across_the_spring_daylight_saving_change(patient_70kg):
    # US DST starts Sunday 2026-03-08: 09:00 CST is 15:00 UTC before, 09:00 CDT is 14:00 UTC after.
    order = octagam_order(patient_70kg, start_date=date(2026, 3, 6), number_of_cycles=1)
    _, visits = order_services.order_save(order=order, by=None)
    utc_hours = [visit.planned_start.astimezone(ZoneInfo("UTC")).hour for visit in visits]
    assert utc_hours == [15, 15, 14, 14, 14]
    assert all(visit.planned_start.astimezone(CHICAGO).hour == 9 for visit in visits)


def test_editing_an_order_changes_only_future_undocumented_visits(patient_70kg):
    order, visits = order_services.order_save(order=octagam_order(patient_70kg), by=None)
    charted = visits[0]
    charted.status = Visit.Status.CHECKED_IN
    charted.save()
    nurse = factories.nurse()
    visits[1].nurse = nurse
    visits[1].save()
    order.preferred_start_time = time(10, 30)
    order.number_of_cycles = 2
    order_services.order_save(order=order, by=None)
    charted.refresh_from_db()
    assert charted.planned_start.astimezone(CHICAGO).time() == time(9, 0)
    moved = Visit.objects.get(pk=visits[1].pk)
    assert moved.planned_start.astimezone(CHICAGO).time() == time(10, 30)
    assert moved.nurse == nurse  # the assignment survives the edit
    live = order.visits.exclude(status=Visit.Status.CANCELLED)
    assert live.count() == 10
    assert order.visits.filter(status=Visit.Status.CANCELLED, cycle_number=3).count() == 5


def test_visits_outside_the_authorization_or_beyond_its_count_are_flagged(db):
    patient = factories.PatientFactory()
    factories.WeightFactory(patient=patient)
    today = timezone.localdate()
    factories.AuthorizationFactory(
        patient=patient, valid_from=today, valid_to=today + timedelta(days=40), visits_authorized=7
    )
    order = octagam_order(patient, number_of_cycles=3)
    calc = order_services.order_calculate(order=order)
    planned = order_services.order_plan_visits(order=order, calc=calc)
    warnings = [visit.authorization_warning for visit in planned]
    assert warnings[:5] == [""] * 5
    assert warnings[5:7] == ["", ""]
    assert all("Outside" in warning for warning in warnings[10:])
    order_no_room = octagam_order(patient, number_of_cycles=2, start_date=today + timedelta(days=1))
    planned = order_services.order_plan_visits(order=order_no_room, calc=calc)
    assert planned[7].authorization_warning.startswith("Beyond the 7 visits authorized")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"interval_weeks": None}, "interval_weeks", "Give the weeks between cycles."),
        ({"number_of_cycles": None}, "number_of_cycles", "Give a number of cycles or an end date."),
        ({"dose_rule": "flat_mg", "dose_amount": Decimal("1000")}, "dose_rule", "Immune globulin is dosed by weight"),
        ({"regimen": "induction", "induction_weeks": [2, 6]}, "induction_weeks", "starting at 0"),
        ({"regimen": "paired", "days_per_cycle": 1}, "second_dose_day", "day of the second dose"),
    ],
)
def test_an_order_that_cannot_be_planned_gets_a_field_message(patient_70kg, overrides, field, message):
    from django.core.exceptions import ValidationError

    order = octagam_order(patient_70kg, **overrides)
    with pytest.raises(ValidationError) as error:
        order.full_clean()
    assert any(message in text for text in error.value.message_dict[field])


def form_data(patient, **overrides):
    data = {
        "product": factories.product("Octagam 10%").pk,
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
    }
    data.update(overrides)
    return data


def test_live_preview_shows_the_arithmetic_and_the_visits_without_saving(cast):
    client = client_for(cast.coordinator)
    response = client.post(
        reverse("orders:preview", args=[cast.patient.pk]), form_data(cast.patient), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "2 g/kg × 70 kg = 140 g" in body
    assert "42.0 mL/hr" in body and "168.0 mL/hr" in body
    assert "10 visits will be planned" in body
    assert TherapyOrder.objects.count() == 0 and Visit.objects.count() == 0


def test_coordinator_saves_an_order_and_its_visits_from_the_page(cast):
    client = client_for(cast.coordinator)
    response = client.post(reverse("orders:create", args=[cast.patient.pk]), {**form_data(cast.patient), "save": "1"})
    order = TherapyOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("orders:detail", args=[order.pk])
    assert order.visits.count() == 10
    page = client.get(reverse("orders:detail", args=[order.pk]))
    assert page.status_code == 200 and b"unassigned" in page.content


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"dose_amount": "20"}, "A dose in g/kg is between 0.1 and 3"),
        ({"dose_amount": "abc"}, "Enter a number."),
        ({"start_date": "2020-01-01"}, "A new order starts today or later."),
        ({"regimen": "induction", "days_per_cycle": "1", "induction_weeks": "0, two"}, "Give whole weeks separated"),
        ({"product": ""}, "This field is required."),
    ],
)
def test_bad_order_input_is_refused_at_the_field_and_saves_nothing(cast, overrides, message):
    response = client_for(cast.coordinator).post(
        reverse("orders:create", args=[cast.patient.pk]), {**form_data(cast.patient), **overrides, "save": "1"}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert TherapyOrder.objects.count() == 0 and Visit.objects.count() == 0
