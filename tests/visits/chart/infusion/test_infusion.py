"""The chart's infusion record and vital signs: services, the section views, the "what is next" strip, the alert for
flagged vitals and the patient's baseline chart (issue 4, items 2, 6 and 7; DESIGN §3).

The clock is frozen at 9:00 in Chicago (the factories' patient time zone) on the visit's day; an Octagam 10% visit
for 70 kg runs 42 → 84 → 126 → 168 mL/hr, raised every 30 min, with a label maximum of 168 mL/hr (0.04 mL/kg/min).
"""

import datetime as dt
import json
from decimal import Decimal
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from patients.services import ServiceError
from tests import factories
from tests.conftest import client_for as signed_in
from tests.conftest import force_sign_in
from tests.visits.chart.infusion.conftest import NOW  # Friday 9:00 am in Chicago
from visits.alerts.selectors import collect_alerts
from visits.chart.infusion import vitals
from visits.chart.infusion.section import next_step
from visits.chart.infusion.services import (
    RateRefused,
    infusion_end,
    infusion_rate_change,
    infusion_start,
    infusion_state,
    vitals_record,
)
from visits.chart.rules import ChartLocked, StaleSection
from visits.models import (
    InfusionRecord,
    PreInfusionChecklist,
    RateChange,
    Visit,
    VisitSignature,
    VisitVerification,
    VitalSigns,
)

MINUTE = dt.timedelta(minutes=1)
NORMAL = vitals.Reading(
    temperature_c=Decimal("36.8"), pulse=76, systolic=124, diastolic=78, respiratory_rate=16, spo2=97, pain=1
)


pytestmark = pytest.mark.usefixtures("clock")  # tests/visits/chart/infusion/conftest.py: 9:00 in Chicago


def later(clock, minutes):
    clock.move_to(NOW + dt.timedelta(minutes=minutes))
    return NOW + dt.timedelta(minutes=minutes)


# --- building visits ---------------------------------------------------------------------------------------------


def checked_in_visit(cast, *, first=False, status=Visit.Status.CHECKED_IN):
    order = factories.OrderFactory(patient=cast.patient, first_infusion=first)
    return factories.VisitFactory(
        order=order,
        patient=cast.patient,
        nurse=cast.assigned_nurse,
        status=status,
        planned_start=NOW - dt.timedelta(minutes=30),
        is_first_infusion=first,
    )


def complete_checklist(visit):
    PreInfusionChecklist.objects.create(visit=visit, completed_at=NOW - 10 * MINUTE, version=1)


def take(visit, nurse, *, at, phase="titration", reading=NORMAL):
    return vitals_record(visit=visit, nurse=nurse, taken_at=at, phase=phase, reading=reading)


def ready_visit(cast, **kwargs):
    """Checked in, checklist complete, baseline with SpO₂ taken at 8:55."""
    visit = checked_in_visit(cast, **kwargs)
    complete_checklist(visit)
    take(visit, cast.assigned_nurse, at=NOW - 5 * MINUTE, phase="baseline")
    return visit


def started_visit(cast, **kwargs):
    visit = ready_visit(cast, **kwargs)
    infusion_start(visit=visit, nurse=cast.assigned_nurse, at=NOW, rate_ml_per_hr=Decimal("42.0"))
    visit.refresh_from_db()
    return visit


def version(visit):
    return InfusionRecord.objects.get(visit=visit).version


def change(visit, nurse, *, kind, rate=None, at, note="", early_reason=""):
    return infusion_rate_change(
        visit=visit,
        nurse=nurse,
        at=at,
        kind=kind,
        rate_ml_per_hr=None if rate is None else Decimal(rate),
        expected_version=version(visit),
        note=note,
        early_reason=early_reason,
    )


def titrate(visit, nurse, clock):
    """Raise as planned, each after a set of vitals: 84 at 9:30, 126 at 10:00, 168 at 10:30. By the planned end at
    11:25 the pump has given 21 + 42 + 63 + 154 = 280 mL, the day's volume."""
    for minutes, rate in ((30, "84.0"), (60, "126.0"), (90, "168.0")):
        take(visit, nurse, at=later(clock, minutes - 2))
        change(visit, nurse, kind="increase", rate=rate, at=later(clock, minutes))


def rates(visit):
    return [(c.kind, c.rate_ml_per_hr) for c in RateChange.objects.filter(visit=visit)]


# --- starting ----------------------------------------------------------------------------------------------------


def test_starting_records_the_start_time_a_start_rate_change_and_the_visit_is_infusing(cast):
    visit = ready_visit(cast)

    record = infusion_start(visit=visit, nurse=cast.assigned_nurse, at=NOW, rate_ml_per_hr=Decimal("42.0"))

    visit.refresh_from_db()
    assert visit.status == Visit.Status.INFUSING
    assert record.started_at == NOW and record.version == 1
    assert rates(visit) == [("start", Decimal("42.0"))]


def test_start_is_refused_before_check_in(cast):
    visit = checked_in_visit(cast, status=Visit.Status.SCHEDULED)
    with pytest.raises(ServiceError, match="Check in"):
        infusion_start(visit=visit, nurse=cast.assigned_nurse, at=NOW, rate_ml_per_hr=Decimal("42.0"))
    assert not InfusionRecord.objects.exists()


def test_start_is_refused_until_the_checklist_is_complete(cast):
    visit = checked_in_visit(cast)
    take(visit, cast.assigned_nurse, at=NOW - 5 * MINUTE, phase="baseline")
    with pytest.raises(ServiceError, match="checklist"):
        infusion_start(visit=visit, nurse=cast.assigned_nurse, at=NOW, rate_ml_per_hr=Decimal("42.0"))
    assert not RateChange.objects.exists()


def test_start_is_refused_without_a_baseline_with_spo2(cast):
    visit = checked_in_visit(cast)
    complete_checklist(visit)
    VitalSigns.objects.create(
        visit=visit, taken_at=NOW - 5 * MINUTE, phase="baseline", temperature_c=Decimal("36.8"), pulse=70,
        systolic=120, diastolic=80, respiratory_rate=16, spo2=None,
    )  # fmt: skip
    with pytest.raises(ServiceError, match="baseline vital signs, with SpO₂"):
        infusion_start(visit=visit, nurse=cast.assigned_nurse, at=NOW, rate_ml_per_hr=Decimal("42.0"))
    visit.refresh_from_db()
    assert visit.status == Visit.Status.CHECKED_IN


def test_a_start_rate_above_the_maximum_is_refused_naming_the_maximum_and_why(cast):
    visit = ready_visit(cast)
    with pytest.raises(ValidationError) as refused:
        infusion_start(visit=visit, nurse=cast.assigned_nurse, at=NOW, rate_ml_per_hr=Decimal("168.1"))
    message = refused.value.message_dict["rate_ml_per_hr"][0]
    assert "168.1 mL/hr is above this patient's maximum of 168.0 mL/hr" in message
    assert "label maximum 0.04 mL/kg/min" in message
    assert not InfusionRecord.objects.exists()
    assert Visit.objects.get(pk=visit.pk).status == Visit.Status.CHECKED_IN


def test_the_reduced_maximum_applies_to_a_patient_at_renal_risk(cast):
    cast.patient.renal_risk = True
    cast.patient.save()
    visit = ready_visit(cast)
    with pytest.raises(ValidationError) as refused:
        infusion_start(visit=visit, nurse=cast.assigned_nurse, at=NOW, rate_ml_per_hr=Decimal("140"))
    message = refused.value.message_dict["rate_ml_per_hr"][0]
    # Octagam 10% label: '3.3 mg/kg/min (0.03 mL/kg/min)', the lower figure: 0.03 × 70 kg × 60 (was 0.033, 138.6).
    assert "maximum of 126.0 mL/hr" in message
    assert "reduced maximum 0.03 mL/kg/min for renal or thrombosis risk" in message


def test_starting_twice_is_refused_saying_when_it_started(cast):
    visit = started_visit(cast)
    with pytest.raises(StaleSection, match="already started at 09:00"):
        infusion_start(visit=visit, nurse=cast.assigned_nurse, at=NOW, rate_ml_per_hr=Decimal("42.0"))
    assert RateChange.objects.filter(visit=visit).count() == 1


def test_a_start_before_the_baseline_set_is_refused(cast):
    visit = ready_visit(cast)
    with pytest.raises(ValidationError, match="start after it"):
        infusion_start(visit=visit, nurse=cast.assigned_nurse, at=NOW - 10 * MINUTE, rate_ml_per_hr=Decimal("42.0"))


def test_the_first_infusion_plan_is_used_on_a_first_infusion(cast):
    visit = checked_in_visit(cast, first=True)
    state = infusion_state(visit=visit)
    assert state.plan is not None and state.start_rate == Decimal("42.0")
    assert state.observation_minutes == 60


def test_planned_times_run_from_the_actual_start(cast):
    visit = started_visit(cast)
    steps = infusion_state(visit=visit).planned_steps
    assert [(step.at, step.step.ml_per_hr) for step in steps] == [
        (NOW, Decimal("42.0")),
        (NOW + 30 * MINUTE, Decimal("84.0")),
        (NOW + 60 * MINUTE, Decimal("126.0")),
        (NOW + 90 * MINUTE, Decimal("168.0")),
    ]
    assert steps[0].label_rate == "0.01 mL/kg/min"


# --- rate changes ------------------------------------------------------------------------------------------------


def test_a_raise_above_the_maximum_is_refused_and_nothing_changes(cast, clock):
    visit = started_visit(cast)
    at = later(clock, 30)
    before = version(visit)
    with pytest.raises(ValidationError) as refused:
        change(visit, cast.assigned_nurse, kind="increase", rate="200", at=at)
    message = refused.value.message_dict["rate_ml_per_hr"][0]
    assert "above this patient's maximum of 168.0 mL/hr (label maximum 0.04 mL/kg/min)" in message
    assert rates(visit) == [("start", Decimal("42.0"))]
    assert version(visit) == before


def test_raises_up_to_the_maximum_are_recorded(cast, clock):
    visit = started_visit(cast)
    change(visit, cast.assigned_nurse, kind="increase", rate="84.0", at=later(clock, 30))
    change(visit, cast.assigned_nurse, kind="increase", rate="168.0", at=later(clock, 60))
    assert rates(visit)[-1] == ("increase", Decimal("168.0"))
    assert infusion_state(visit=visit).at_maximum


def test_a_raise_must_be_above_the_current_rate(cast, clock):
    visit = started_visit(cast)
    with pytest.raises(ValidationError, match="above the current 42.0 mL/hr"):
        change(visit, cast.assigned_nurse, kind="increase", rate="42.0", at=later(clock, 30))


def test_going_back_defaults_to_the_previous_rate(cast, clock):
    visit = started_visit(cast)
    change(visit, cast.assigned_nurse, kind="increase", rate="84.0", at=later(clock, 30))
    change(visit, cast.assigned_nurse, kind="decrease", at=later(clock, 40), note="Flushing, grade 1")
    assert rates(visit)[-1] == ("decrease", Decimal("42.0"))
    assert RateChange.objects.filter(visit=visit).last().note == "Flushing, grade 1"


def test_a_lower_rate_must_be_below_the_current_one_and_above_zero(cast, clock):
    visit = started_visit(cast)
    with pytest.raises(ValidationError, match="below the current"):
        change(visit, cast.assigned_nurse, kind="decrease", rate="50", at=later(clock, 5))
    with pytest.raises(ValidationError, match="no previous rate"):
        change(visit, cast.assigned_nurse, kind="decrease", at=later(clock, 5))


def test_pause_records_zero_and_resume_returns_to_the_rate_before(cast, clock):
    visit = started_visit(cast)
    change(visit, cast.assigned_nurse, kind="increase", rate="84.0", at=later(clock, 30))
    change(visit, cast.assigned_nurse, kind="pause", rate="84.0", at=later(clock, 35))
    assert infusion_state(visit=visit).is_held
    change(visit, cast.assigned_nurse, kind="resume", at=later(clock, 50))
    assert rates(visit)[-2:] == [("pause", Decimal("0")), ("resume", Decimal("84.0"))]


def test_pausing_a_paused_pump_or_resuming_a_running_one_is_refused(cast, clock):
    visit = started_visit(cast)
    with pytest.raises(RateRefused, match="nothing to resume"):
        change(visit, cast.assigned_nurse, kind="resume", at=later(clock, 5))
    change(visit, cast.assigned_nurse, kind="pause", at=later(clock, 6))
    with pytest.raises(RateRefused, match="already paused or stopped"):
        change(visit, cast.assigned_nurse, kind="pause", at=later(clock, 7))
    with pytest.raises(RateRefused, match="resume it first"):
        change(visit, cast.assigned_nurse, kind="increase", rate="84", at=later(clock, 8))


def test_a_stopped_pump_may_be_resumed_at_a_rate_within_the_maximum(cast, clock):
    visit = started_visit(cast)
    change(visit, cast.assigned_nurse, kind="stop", at=later(clock, 10))
    with pytest.raises(RateRefused, match="already stopped"):
        change(visit, cast.assigned_nurse, kind="stop", at=later(clock, 11))
    with pytest.raises(ValidationError, match="maximum of 168.0 mL/hr"):
        change(visit, cast.assigned_nurse, kind="resume", rate="170", at=later(clock, 20))
    change(visit, cast.assigned_nurse, kind="resume", rate="42.0", at=later(clock, 21))
    assert rates(visit)[-2:] == [("stop", Decimal("0")), ("resume", Decimal("42.0"))]


def test_a_change_before_the_last_one_is_refused(cast, clock):
    visit = started_visit(cast)
    change(visit, cast.assigned_nurse, kind="increase", rate="84.0", at=later(clock, 30))
    with pytest.raises(ValidationError, match="The last change was at 09:30"):
        change(visit, cast.assigned_nurse, kind="pause", at=NOW + 20 * MINUTE)


def test_a_time_that_has_not_happened_yet_is_refused(cast):
    visit = started_visit(cast)
    with pytest.raises(ValidationError, match="10:00 is later than now \\(09:00\\)"):
        change(visit, cast.assigned_nurse, kind="increase", rate="84", at=NOW + 60 * MINUTE)


def test_a_change_from_a_tablet_that_missed_the_last_one_is_refused_saying_what_changed(cast, clock):
    visit = started_visit(cast)
    stale = version(visit)
    change(visit, cast.assigned_nurse, kind="increase", rate="84.0", at=later(clock, 30))
    with pytest.raises(StaleSection, match="“Rate raised 84.0 mL/hr” at 09:30"):
        infusion_rate_change(
            visit=visit,
            nurse=cast.assigned_nurse,
            at=later(clock, 31),
            kind="increase",
            rate_ml_per_hr=Decimal("84.0"),
            expected_version=stale,
        )
    assert len(rates(visit)) == 2


# --- the end -----------------------------------------------------------------------------------------------------


def test_ending_records_the_volume_stops_the_pump_and_the_visit_is_observing(cast, clock):
    visit = started_visit(cast)
    titrate(visit, cast.assigned_nurse, clock)
    at = later(clock, 145)
    record = infusion_end(
        visit=visit, nurse=cast.assigned_nurse, at=at, volume_infused_ml=Decimal("280"), expected_version=version(visit)
    )
    visit.refresh_from_db()
    assert visit.status == Visit.Status.OBSERVING
    assert (record.ended_at, record.volume_infused_ml) == (at, Decimal("280"))
    assert rates(visit)[-1] == ("stop", Decimal("0"))


def test_ending_from_a_stale_form_is_refused_and_nothing_changes(cast, clock):
    visit = started_visit(cast)
    stale = version(visit)
    change(visit, cast.assigned_nurse, kind="increase", rate="84.0", at=later(clock, 30))
    with pytest.raises(StaleSection):
        infusion_end(
            visit=visit, nurse=cast.assigned_nurse, at=later(clock, 40), volume_infused_ml=Decimal("30"),
            expected_version=stale,
        )  # fmt: skip
    assert InfusionRecord.objects.get(visit=visit).ended_at is None
    assert Visit.objects.get(pk=visit.pk).status == Visit.Status.INFUSING


def test_an_infusion_that_has_not_started_cannot_end(cast):
    visit = ready_visit(cast)
    with pytest.raises(ServiceError, match="has not started"):
        infusion_end(visit=visit, nurse=cast.assigned_nurse, at=NOW, volume_infused_ml=Decimal("1"), expected_version=0)


def test_rate_changes_after_the_end_are_refused(cast, clock):
    visit = started_visit(cast)
    titrate(visit, cast.assigned_nurse, clock)
    infusion_end(
        visit=visit, nurse=cast.assigned_nurse, at=later(clock, 145), volume_infused_ml=Decimal("280"),
        expected_version=version(visit),
    )  # fmt: skip
    with pytest.raises(ServiceError, match="not running"):
        change(visit, cast.assigned_nurse, kind="resume", rate="42", at=later(clock, 150))


# --- who may write, and never on a signed chart ------------------------------------------------------------------


def sign(visit, nurse):
    VisitSignature.objects.create(visit=visit, note="Uneventful.", signed_by=nurse)
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.SIGNED)
    visit.refresh_from_db()


def test_a_signed_chart_is_never_edited(cast, clock):
    visit = started_visit(cast)
    sign(visit, cast.assigned_nurse)
    nurse = cast.assigned_nurse
    with pytest.raises(ChartLocked):
        change(visit, nurse, kind="increase", rate="84", at=later(clock, 30))
    with pytest.raises(ChartLocked):
        infusion_end(visit=visit, nurse=nurse, at=NOW, volume_infused_ml=Decimal("1"), expected_version=1)
    with pytest.raises(ChartLocked):
        take(visit, nurse, at=NOW)
    assert len(rates(visit)) == 1 and VitalSigns.objects.filter(visit=visit).count() == 1


def test_only_the_nurse_of_the_visit_records_it(cast):
    visit = ready_visit(cast)
    with pytest.raises(ServiceError, match="Only the nurse assigned"):
        infusion_start(visit=visit, nurse=cast.unassigned_nurse, at=NOW, rate_ml_per_hr=Decimal("42"))
    with pytest.raises(ServiceError, match="Only the nurse assigned"):
        take(visit, cast.unassigned_nurse, at=NOW)


# --- vital signs (service) ---------------------------------------------------------------------------------------


def test_a_set_past_the_thresholds_is_saved_with_its_flags_in_words(cast):
    visit = checked_in_visit(cast)
    row = take(
        visit, cast.assigned_nurse, at=NOW, phase="baseline",
        reading=vitals.Reading(
            temperature_c=Decimal("38.2"), pulse=124, systolic=124, diastolic=78, respiratory_rate=16, spo2=91
        ),
    )  # fmt: skip
    row.refresh_from_db()
    assert row.flags == ["Temperature 38.2 °C: 38.0 °C or more", "Pulse 124/min: 120 or more", "SpO₂ 91%: below 92%"]


def test_later_sets_are_compared_with_the_baseline(cast, clock):
    visit = started_visit(cast)
    risen = vitals.Reading(
        temperature_c=Decimal("37.8"), pulse=98, systolic=146, diastolic=80, respiratory_rate=18, spo2=96
    )
    row = take(visit, cast.assigned_nurse, at=later(clock, 15), reading=risen)
    assert row.flags == [
        "Temperature 37.8 °C: 1.0 °C above the baseline 36.8 °C (1.0 °C or more)",
        "Systolic 146 mmHg: 22 mmHg above the baseline 124 (20 or more)",
        "Pulse 98/min: 22 above the baseline 76 (20 or more)",
    ]


def test_the_service_refuses_impossible_values_and_saves_nothing(cast):
    visit = checked_in_visit(cast)
    impossible = vitals.Reading(
        temperature_c=Decimal("50"), pulse=300, systolic=120, diastolic=130, respiratory_rate=16, spo2=97
    )
    with pytest.raises(ValidationError) as refused:
        take(visit, cast.assigned_nurse, at=NOW, reading=impossible)
    assert set(refused.value.message_dict) == {"temperature_c", "pulse", "diastolic"}
    assert not VitalSigns.objects.exists()


def test_the_service_refuses_a_baseline_without_spo2(cast):
    visit = checked_in_visit(cast)
    with pytest.raises(ValidationError, match="baseline set needs SpO₂"):
        take(
            visit,
            cast.assigned_nurse,
            at=NOW,
            phase="baseline",
            reading=vitals.Reading(**{**NORMAL.__dict__, "spo2": None}),
        )


def test_vitals_before_check_in_are_refused(cast):
    visit = checked_in_visit(cast, status=Visit.Status.SCHEDULED)
    with pytest.raises(ServiceError, match="Check in before"):
        take(visit, cast.assigned_nurse, at=NOW, phase="baseline")


def test_the_due_list_of_a_running_infusion_shows_the_next_sets(cast, clock):
    visit = started_visit(cast)
    later(clock, 16)
    due = {item.key: item for item in infusion_state(visit=visit).due}
    assert due["baseline"].status == vitals.DONE
    assert due["titration-1-1"].status == vitals.OVERDUE
    assert due["increase-next"].label == "Before raising to 84.0 mL/hr"
    assert due["increase-next"].status == vitals.DUE


# --- the section views -------------------------------------------------------------------------------------------


def nurse_client(cast):
    return client_for(cast.assigned_nurse)


def client_for(user):
    client = signed_in(user)
    client.user = user
    return client


def htmx_post(client, url, data):
    return client.post(url, data, HTTP_HX_REQUEST="true")


GOOD = factories.VITALS_FORM

BAD_INPUTS = [
    ("temperature", "abc", {}, "Give the temperature as a number"),
    ("temperature", "", {}, "Give the temperature, e.g. 36.8 °C or 98.2 °F."),
    ("temperature", "29.9", {}, "between 30 and 45 °C"),
    ("temperature", "45.1", {}, "between 30 and 45 °C"),
    ("temperature", "98.6", {}, "98.6 °C is not a possible temperature"),
    ("temperature", "120", {"temperature_unit": "F"}, "between 86 and 113 °F"),
    ("temperature", "37.2", {"temperature_unit": "F"}, "It looks like °C"),
    ("temperature", "1e9", {}, "not a possible temperature"),
    ("temperature", "36.85", {}, "one decimal place"),
    ("temperature_unit", "K", {}, "Choose the unit of the temperature"),
    ("temperature_unit", "", {}, "Choose the unit of the temperature"),
    ("pulse", "abc", {}, "Give the pulse as a whole number"),
    ("pulse", "", {}, "Give the pulse (beats/min)."),
    ("pulse", "19", {}, "between 20 and 250 beats/min"),
    ("pulse", "251", {}, "between 20 and 250 beats/min"),
    ("pulse", "72.5", {}, "whole number"),
    ("systolic", "x", {}, "Give the systolic pressure as a whole number"),
    ("systolic", "", {}, "Give the systolic pressure (mmHg)."),
    ("systolic", "49", {}, "between 50 and 300 mmHg"),
    ("systolic", "301", {}, "between 50 and 300 mmHg"),
    ("diastolic", "x", {}, "Give the diastolic pressure as a whole number"),
    ("diastolic", "", {}, "Give the diastolic pressure (mmHg)."),
    ("diastolic", "19", {}, "between 20 and 200 mmHg"),
    ("diastolic", "201", {"systolic": "250"}, "between 20 and 200 mmHg"),
    ("diastolic", "124", {}, "must be below the systolic (124)"),
    ("respiratory_rate", "x", {}, "Give the respiratory rate as a whole number"),
    ("respiratory_rate", "", {}, "Give the respiratory rate (breaths/min)."),
    ("respiratory_rate", "3", {}, "between 4 and 60 breaths/min"),
    ("respiratory_rate", "61", {}, "between 4 and 60 breaths/min"),
    ("spo2", "x", {}, "Give the spo₂ as a whole number"),
    ("spo2", "49", {}, "between 50 and 100 %"),
    ("spo2", "101", {}, "between 50 and 100 %"),
    ("spo2", "", {"phase": "baseline"}, "The baseline set needs SpO₂"),
    ("pain", "x", {}, "Give the pain as a whole number"),
    ("pain", "-1", {}, "between 0 and 10"),
    ("pain", "11", {}, "between 0 and 10"),
    ("taken_at", "25:00", {}, "Give the time as HH:MM"),
    ("taken_at", "noon", {}, "Give the time as HH:MM"),
    ("taken_at", "23:59", {}, "is later than now"),
    ("phase", "bogus", {}, "Choose the phase of this set."),
    ("phase", "", {}, "Choose the phase of this set."),
]


@pytest.mark.parametrize(
    ("field", "value", "other", "message"), BAD_INPUTS, ids=[f"{case[0]}={case[1]!r}" for case in BAD_INPUTS]
)
def test_each_bad_vital_sign_input_gets_a_message_at_its_field_and_changes_nothing(cast, field, value, other, message):
    visit = checked_in_visit(cast)
    url = reverse("visits:vitals_add", args=[visit.pk])

    response = htmx_post(nurse_client(cast), url, {**GOOD, **other, field: value})

    assert response.status_code == 400
    html = response.content.decode()
    error_block = html.split(f'id="id_{field}_error"', 1)
    assert len(error_block) == 2, f"no message at the {field} field"
    assert message in unescape(error_block[1].split("</div>", 1)[0])
    assert not VitalSigns.objects.exists()
    assert Visit.objects.get(pk=visit.pk).status == Visit.Status.CHECKED_IN


def test_a_good_set_is_saved_and_the_section_answers_for_htmx(cast):
    visit = checked_in_visit(cast)
    response = htmx_post(
        nurse_client(cast), reverse("visits:vitals_add", args=[visit.pk]), {**GOOD, "phase": "baseline"}
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "chart-saved"
    row = VitalSigns.objects.get(visit=visit)
    assert (row.temperature_c, row.pulse, row.spo2, row.taken_at, row.recorded_by) == (
        Decimal("36.8"), 76, 97, NOW, cast.assigned_nurse,
    )  # fmt: skip
    assert 'id="section-vitals"' in response.content.decode()


def test_fahrenheit_is_stored_in_celsius(cast):
    visit = checked_in_visit(cast)
    htmx_post(
        nurse_client(cast),
        reverse("visits:vitals_add", args=[visit.pk]),
        {**GOOD, "temperature": "100.4", "temperature_unit": "F"},
    )
    assert VitalSigns.objects.get(visit=visit).temperature_c == Decimal("38.0")


def test_a_typed_time_is_local_time_on_the_visits_date(cast):
    visit = checked_in_visit(cast)
    htmx_post(nurse_client(cast), reverse("visits:vitals_add", args=[visit.pk]), {**GOOD, "taken_at": "08:45"})
    assert VitalSigns.objects.get(visit=visit).taken_at == NOW - 15 * MINUTE  # 8:45 am in Chicago


def test_a_flagged_set_is_saved_and_prompts_a_reaction_assessment(cast):
    visit = checked_in_visit(cast)
    response = htmx_post(
        nurse_client(cast),
        reverse("visits:vitals_add", args=[visit.pk]),
        {**GOOD, "systolic": "185", "diastolic": "95"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "assess for a reaction" in html
    assert "Assessed, no reaction" in html
    assert 'href="#section-reactions"' in html
    assert "Systolic 185 mmHg: 180 or more" in html
    assert VitalSigns.objects.get(visit=visit).flags == ["Systolic 185 mmHg: 180 or more"]


def test_an_unflagged_set_does_not_prompt_a_reaction_assessment(cast):
    visit = checked_in_visit(cast)
    response = htmx_post(nurse_client(cast), reverse("visits:vitals_add", args=[visit.pk]), GOOD)
    assert "Assess for a reaction" not in response.content.decode()


def test_a_plain_post_redirects_back_to_the_section(cast):
    visit = checked_in_visit(cast)
    response = nurse_client(cast).post(reverse("visits:vitals_add", args=[visit.pk]), GOOD)
    assert response.status_code == 302
    assert response["Location"] == reverse("visits:chart", args=[visit.pk]) + "#section-vitals"


def test_a_plain_post_with_errors_shows_the_whole_chart_with_the_message(cast):
    visit = checked_in_visit(cast)
    response = nurse_client(cast).post(reverse("visits:vitals_add", args=[visit.pk]), {**GOOD, "pulse": "500"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="section-checkin"' in html and "between 20 and 250 beats/min" in html


def test_the_vitals_section_shows_a_chart_of_the_visits_sets(cast, clock):
    visit = started_visit(cast)
    take(visit, cast.assigned_nurse, at=later(clock, 10))
    html = nurse_client(cast).get(reverse("visits:chart", args=[visit.pk])).content.decode()
    data_id = f"vitals-chart-data-{visit.pk}"
    assert f'data-vitals-chart="{data_id}"' in html
    data = json.loads(html.split(f'id="{data_id}" type="application/json">', 1)[1].split("</script>", 1)[0])
    assert data["labels"] == ["08:55", "09:10"]
    assert data["pulse"] == [76, 76] and data["spo2"] == [97, 97]
    assert "js/vitals_charts.js" in html


def test_missing_sets_are_highlighted_in_the_section(cast, clock):
    visit = checked_in_visit(cast)
    complete_checklist(visit)
    InfusionRecord.objects.create(visit=visit, started_at=NOW, version=1)
    RateChange.objects.create(visit=visit, at=NOW, kind="start", rate_ml_per_hr=Decimal("42"))
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.INFUSING)
    later(clock, 20)
    html = nurse_client(cast).get(reverse("visits:chart", args=[visit.pk])).content.decode()
    assert 'data-status="missing" data-key="baseline"' in html
    assert 'data-status="overdue" data-key="titration-1-1"' in html
    assert "2 sets overdue or missing." in html


def test_starting_and_ending_through_the_section_move_the_visit_status(cast, clock):
    visit = ready_visit(cast)
    client = nurse_client(cast)
    started = htmx_post(client, reverse("visits:infusion_start", args=[visit.pk]), {"at": "", "rate_ml_per_hr": "42.0"})
    assert started.status_code == 200
    assert Visit.objects.get(pk=visit.pk).status == Visit.Status.INFUSING
    assert 'id="vitals-due" hx-swap-oob="true"' in started.content.decode()
    titrate(visit, cast.assigned_nurse, clock)
    later(clock, 145)
    client = nurse_client(cast)  # a new sign-in: the old session went idle while the clock moved on
    ended = htmx_post(
        client,
        reverse("visits:infusion_end", args=[visit.pk]),
        {"at": "", "volume_infused_ml": "280", "version": str(version(visit))},
    )
    assert ended.status_code == 200
    assert Visit.objects.get(pk=visit.pk).status == Visit.Status.OBSERVING
    assert InfusionRecord.objects.get(visit=visit).volume_infused_ml == Decimal("280")


def test_a_rate_above_the_maximum_is_refused_at_the_field_through_the_section(cast, clock):
    visit = started_visit(cast)
    later(clock, 30)
    response = htmx_post(
        nurse_client(cast),
        reverse("visits:infusion_rate", args=[visit.pk]),
        {"kind": "increase", "rate_ml_per_hr": "180", "at": "", "version": str(version(visit))},
    )
    assert response.status_code == 400
    html = response.content.decode()
    message = unescape(html.split('id="id_rate_ml_per_hr_error"', 1)[1].split("</div>", 1)[0])
    assert "180.0 mL/hr is above this patient's maximum of 168.0 mL/hr (label maximum 0.04 mL/kg/min)" in message
    assert rates(visit) == [("start", Decimal("42.0"))]


def test_the_quick_raise_button_records_the_plans_next_rate(cast, clock):
    visit = started_visit(cast)
    html = nurse_client(cast).get(reverse("visits:chart", args=[visit.pk])).content.decode()
    assert "Raise to 84.0 mL/hr now (planned 09:30)" in html
    later(clock, 30)
    html = nurse_client(cast).get(reverse("visits:chart", args=[visit.pk])).content.decode()
    assert "Raise to 84.0 mL/hr now</button>" in html
    response = htmx_post(
        nurse_client(cast),
        reverse("visits:infusion_rate", args=[visit.pk]),
        {"kind": "increase", "rate_ml_per_hr": "84.0", "version": str(version(visit))},
    )
    assert response.status_code == 200
    assert rates(visit)[-1] == ("increase", Decimal("84.0"))


def test_a_stale_rate_form_answers_409_and_changes_nothing(cast, clock):
    visit = started_visit(cast)
    stale = version(visit)
    change(visit, cast.assigned_nurse, kind="increase", rate="84.0", at=later(clock, 30))
    response = htmx_post(
        nurse_client(cast),
        reverse("visits:infusion_rate", args=[visit.pk]),
        {"kind": "pause", "version": str(stale)},
    )
    assert response.status_code == 409
    assert "Not saved" in response.content.decode()
    assert len(rates(visit)) == 2


def test_a_signed_chart_answers_409_with_the_lock_message(cast):
    visit = started_visit(cast)
    sign(visit, cast.assigned_nurse)
    for name, data in [
        ("visits:vitals_add", GOOD),
        ("visits:infusion_rate", {"kind": "pause", "version": "1"}),
        ("visits:infusion_end", {"volume_infused_ml": "10", "version": "1"}),
    ]:
        response = htmx_post(nurse_client(cast), reverse(name, args=[visit.pk]), data)
        assert response.status_code == 409, name
        assert "signed and locked" in response.content.decode()
    assert VitalSigns.objects.filter(visit=visit).count() == 1
    assert len(rates(visit)) == 1


def test_another_nurse_on_the_care_team_may_not_document_the_visit(cast):
    visit = checked_in_visit(cast)
    factories.on_care_team(cast.patient, cast.unassigned_nurse)
    response = client_for(cast.unassigned_nurse).post(reverse("visits:vitals_add", args=[visit.pk]), GOOD)
    assert response.status_code == 403
    assert not VitalSigns.objects.exists()


def test_a_section_save_on_a_cancelled_visit_is_refused(cast):
    visit = checked_in_visit(cast, status=Visit.Status.CANCELLED)
    response = htmx_post(nurse_client(cast), reverse("visits:vitals_add", args=[visit.pk]), GOOD)
    assert response.status_code == 409
    assert not VitalSigns.objects.exists()


# --- what is next ------------------------------------------------------------------------------------------------


def strip(client, visit):
    force_sign_in(client, client.user)  # the clock jumps ahead in these tests; stay signed in
    response = client.get(reverse("visits:next", args=[visit.pk]))
    assert response.status_code == 200
    return response.content.decode().split('id="whats-next-text">', 1)[1].split("</strong>", 1)[0]


def test_next_is_check_in_then_the_checklist_then_baseline_then_the_start(cast):
    client = nurse_client(cast)
    visit = checked_in_visit(cast, status=Visit.Status.SCHEDULED)
    assert strip(client, visit) == "Check in"
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.CHECKED_IN)
    assert strip(client, visit) == "Complete the checklist"
    complete_checklist(visit)
    assert strip(client, visit) == "Take baseline vitals with SpO₂"
    take(visit, cast.assigned_nurse, at=NOW - 5 * MINUTE, phase="baseline")
    assert strip(client, visit) == "Start at 42.0 mL/hr"


def test_next_while_titrating_is_the_raise_after_vitals_then_vitals_due(cast, clock):
    visit = started_visit(cast)
    client = nurse_client(cast)
    later(clock, 5)
    assert strip(client, visit) == "Raise to 84.0 mL/hr at 09:30 after vitals"
    later(clock, 15)
    assert strip(client, visit) == "Vitals due now"
    take(visit, cast.assigned_nurse, at=NOW + 15 * MINUTE)
    assert strip(client, visit) == "Raise to 84.0 mL/hr at 09:30 after vitals"


def test_next_while_paused_is_to_resume(cast, clock):
    visit = started_visit(cast)
    change(visit, cast.assigned_nurse, kind="pause", at=later(clock, 5))
    assert strip(nurse_client(cast), visit) == "Paused since 09:05: resume at 42.0 mL/hr or end the infusion"


def test_next_at_the_maximum_is_to_continue(cast, clock):
    visit = started_visit(cast)
    take(visit, cast.assigned_nurse, at=later(clock, 10))
    change(visit, cast.assigned_nurse, kind="increase", rate="168.0", at=later(clock, 12), early_reason="Per order")
    later(clock, 20)
    assert strip(nurse_client(cast), visit) == "Continue at the maximum rate, 168.0 mL/hr until about 11:25"


def test_next_after_a_first_infusion_is_60_minutes_of_observation_then_signing(cast, clock):
    visit = started_visit(cast, first=True)
    titrate(visit, cast.assigned_nurse, clock)
    infusion_end(
        visit=visit, nurse=cast.assigned_nurse, at=later(clock, 145), volume_infused_ml=Decimal("280"),
        expected_version=version(visit),
    )  # fmt: skip
    take(visit, cast.assigned_nurse, at=NOW + 146 * MINUTE, phase="end")
    client = nurse_client(cast)
    assert strip(client, visit) == "Observe until 12:25 (60 min after a first infusion)"
    later(clock, 176)
    assert strip(client, visit) == "Vitals due now"
    take(visit, cast.assigned_nurse, at=NOW + 176 * MINUTE, phase="post_30")
    take(visit, cast.assigned_nurse, at=later(clock, 205), phase="post_60")
    later(clock, 206)
    assert strip(client, visit) == "Check out, then sign"
    VisitVerification.objects.create(
        visit=visit, nurse=cast.assigned_nurse, service="IVIG", checked_in_at=NOW - 40 * MINUTE,
        checked_out_at=NOW + 206 * MINUTE,
    )  # fmt: skip
    assert strip(client, visit) == "Sign the chart"


def test_next_after_a_later_infusion_is_30_minutes_of_observation(cast, clock):
    visit = started_visit(cast)
    titrate(visit, cast.assigned_nurse, clock)
    infusion_end(
        visit=visit, nurse=cast.assigned_nurse, at=later(clock, 145), volume_infused_ml=Decimal("280"),
        expected_version=version(visit),
    )  # fmt: skip
    take(visit, cast.assigned_nurse, at=NOW + 146 * MINUTE, phase="end")
    assert next_step(visit=Visit.objects.get(pk=visit.pk)).text == (
        "Observe until 11:55 (30 min after a later infusion)"
    )


def test_next_on_a_completed_or_signed_visit(cast):
    visit = checked_in_visit(cast, status=Visit.Status.COMPLETED)
    assert strip(nurse_client(cast), visit) == "Sign the chart"
    sign(visit, cast.assigned_nurse)
    assert strip(nurse_client(cast), visit) == "Signed at 09:00"


def test_coordinators_see_the_strip_but_another_nurse_of_the_team_does_not(cast):
    visit = checked_in_visit(cast)
    assert strip(client_for(cast.coordinator), visit) == "Complete the checklist"
    factories.on_care_team(cast.patient, cast.unassigned_nurse)
    assert client_for(cast.unassigned_nurse).get(reverse("visits:next", args=[visit.pk])).status_code == 403


def test_the_chart_page_loads_the_strip_and_refreshes_it_after_saves(cast):
    visit = checked_in_visit(cast)
    html = nurse_client(cast).get(reverse("visits:chart", args=[visit.pk])).content.decode()
    assert f'hx-get="{reverse("visits:next", args=[visit.pk])}"' in html
    assert 'hx-trigger="load, every 60s, chart-saved from:body"' in html


# --- the coordinator's alert queue ----------------------------------------------------------------------------------


def flagged_alerts():
    return [alert for alert in collect_alerts() if alert.kind == "vitals_flag"]


def test_a_flagged_set_is_on_the_coordinators_queue(cast, clock):
    visit = started_visit(cast)
    take(
        visit, cast.assigned_nurse, at=later(clock, 15),
        reading=vitals.Reading(**{**NORMAL.__dict__, "spo2": 89}),
    )  # fmt: skip
    [alert] = flagged_alerts()
    assert alert.title == f"Vital signs flagged: {cast.patient.full_name}"
    assert alert.lines == ["SpO₂ 89%: below 92%"]
    assert alert.url == reverse("visits:chart", args=[visit.pk]) + "#section-vitals"
    assert alert.severity.label == "Urgent"
    page = client_for(cast.coordinator).get(reverse("alerts:queue")).content.decode()
    assert "SpO₂ 89%: below 92%" in page


def test_unflagged_or_day_old_sets_are_not_on_the_queue(cast, clock):
    visit = started_visit(cast)
    assert flagged_alerts() == []
    take(visit, cast.assigned_nurse, at=later(clock, 15), reading=vitals.Reading(**{**NORMAL.__dict__, "pulse": 130}))
    later(clock, 15 + 24 * 60 + 1)
    assert flagged_alerts() == []


def test_one_alert_per_visit_names_the_latest_flagged_set(cast, clock):
    visit = started_visit(cast)
    take(visit, cast.assigned_nurse, at=later(clock, 10), reading=vitals.Reading(**{**NORMAL.__dict__, "pulse": 130}))
    take(visit, cast.assigned_nurse, at=later(clock, 20), reading=vitals.Reading(**{**NORMAL.__dict__, "spo2": 90}))
    [alert] = flagged_alerts()
    assert alert.lines == ["SpO₂ 90%: below 92%"]
    assert "2 flagged sets" in alert.detail


# --- the patient's baseline vitals across visits -------------------------------------------------------------------


def test_the_patient_page_charts_one_baseline_set_per_visit(cast, clock):
    first = ready_visit(cast)
    take(
        first,
        cast.assigned_nurse,
        at=NOW - 2 * MINUTE,
        phase="baseline",
        reading=vitals.Reading(**{**NORMAL.__dict__, "pulse": 80}),
    )
    second = checked_in_visit(cast)
    take(
        second,
        cast.assigned_nurse,
        at=NOW,
        phase="baseline",
        reading=vitals.Reading(**{**NORMAL.__dict__, "pulse": 90}),
    )
    take(second, cast.assigned_nurse, at=NOW, phase="titration")  # not a baseline: not charted
    html = client_for(cast.coordinator).get(reverse("patients:detail", args=[cast.patient.pk])).content.decode()
    data = json.loads(html.split('id="baseline-vitals-data" type="application/json">', 1)[1].split("</script>", 1)[0])
    assert data["pulse"] == [80, 90]
    assert data["labels"] == ["2026-11-20", "2026-11-20"]
    assert 'data-vitals-chart="baseline-vitals-data"' in html
    assert "chartjs/chart.umd.min.js" in html and "cdn" not in html.lower()
