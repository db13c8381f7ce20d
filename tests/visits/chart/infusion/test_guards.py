"""The chart guards the patient: warning signs hold the titration, early raises need a reason, the volume infused
must be possible, and the plan is frozen at the start (DESIGN §3).

The clock and the visit are those of test_infusion: 9:00 in Chicago; Octagam 10% for 70 kg, 42 → 84 → 126 → 168
mL/hr every 30 min, 280 mL over 145 min.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from patients.models import WeightMeasurement
from tests.visits.chart.infusion.test_infusion import (
    MINUTE,
    NORMAL,
    NOW,
    change,
    htmx_post,
    later,
    nurse_client,
    rates,
    started_visit,
    strip,
    take,
    titrate,
    version,
)
from visits.chart.infusion import services, vitals
from visits.chart.infusion.services import (
    TitrationHeld,
    assessment_record,
    deliverable_ml,
    infusion_end,
    infusion_state,
)
from visits.chart.signoff.services import reaction_record
from visits.models import Assessment, InfusionRecord, RateChange, TherapyOrder, Visit

pytestmark = pytest.mark.usefixtures("clock")

FEVER = vitals.Reading(
    temperature_c=Decimal("38.6"), pulse=125, systolic=152, diastolic=80, respiratory_rate=18, spo2=96, pain=1
)


def flagged(cast, clock):
    """Running at 42 mL/hr; at 9:28 a set with 38.6 °C, systolic 28 above the baseline and pulse 125, just before
    the planned raise to 84."""
    visit = started_visit(cast)
    take(visit, cast.assigned_nurse, at=later(clock, 28), reading=FEVER)
    later(clock, 30)
    return visit


def assess(visit, nurse, *, finding=Assessment.Finding.NO_REACTION, note="No chills, rash or headache.", at=None):
    return assessment_record(visit=visit, nurse=nurse, finding=finding, note=note, at=at or dt.datetime.now(dt.UTC))


# --- titration holds on warning signs ----------------------------------------------------------------------------


def test_a_flagged_set_holds_every_rate_increase_and_says_why(cast, clock):
    visit = flagged(cast, clock)
    hold = infusion_state(visit=visit).hold
    assert (
        hold.text
        == "Temperature 38.6 °C, systolic 152 mmHg, pulse 125/min: assess for a reaction before any rate increase"
    )
    with pytest.raises(TitrationHeld, match="assess for a reaction"):
        change(visit, cast.assigned_nurse, kind="increase", rate="84.0", at=NOW + 30 * MINUTE)
    assert rates(visit) == [("start", Decimal("42.0"))]


def test_slowing_pausing_and_stopping_stay_open_while_held_but_resuming_does_not(cast, clock):
    visit = flagged(cast, clock)
    change(visit, cast.assigned_nurse, kind="pause", at=NOW + 30 * MINUTE)
    with pytest.raises(TitrationHeld):
        change(visit, cast.assigned_nurse, kind="resume", at=NOW + 31 * MINUTE)
    change(visit, cast.assigned_nurse, kind="stop", at=NOW + 31 * MINUTE)
    assert [kind for kind, _ in rates(visit)] == ["start", "pause", "stop"]


def test_assessed_no_reaction_with_a_note_releases_the_hold(cast, clock):
    visit = flagged(cast, clock)
    assessment = assess(visit, cast.assigned_nurse)
    assert (assessment.vitals.temperature_c, assessment.finding) == (Decimal("38.6"), "no_reaction")
    assert infusion_state(visit=visit).hold is None
    change(visit, cast.assigned_nurse, kind="increase", rate="84.0", at=NOW + 30 * MINUTE)
    assert rates(visit)[-1] == ("increase", Decimal("84.0"))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"note": "  "}, "note"), ({"finding": Assessment.Finding.RESOLVED}, "finding"), ({"at": NOW}, "at")],
)
def test_an_assessment_needs_a_note_the_right_finding_and_a_time_after_the_sign(cast, clock, kwargs, field):
    visit = flagged(cast, clock)
    with pytest.raises(ValidationError) as refused:
        assess(visit, cast.assigned_nurse, **kwargs)
    assert field in refused.value.message_dict
    assert not Assessment.objects.filter(visit=visit).exists()


def test_there_is_nothing_to_assess_without_a_warning_sign(cast, clock):
    visit = started_visit(cast)
    take(visit, cast.assigned_nurse, at=later(clock, 28))
    with pytest.raises(services.ServiceError, match="No warning sign"):
        assess(visit, cast.assigned_nurse)


def test_a_later_unflagged_set_releases_the_hold(cast, clock):
    visit = flagged(cast, clock)
    take(visit, cast.assigned_nurse, at=later(clock, 33), reading=NORMAL)
    assert infusion_state(visit=visit).hold is None


def test_a_reaction_answers_the_flagged_set_but_holds_until_it_has_resolved(cast, clock):
    visit = flagged(cast, clock)
    reaction_record(
        visit=visit,
        nurse=cast.assigned_nurse,
        onset_at=NOW + 25 * MINUTE,
        symptoms=["chills", "fever"],
        grade=1,
        action="continued",
    )
    hold = infusion_state(visit=visit).hold
    assert hold.finding == Assessment.Finding.RESOLVED
    assert hold.text == "Reaction at 09:25 (grade 1, continued): record that it has resolved before any rate increase"
    with pytest.raises(TitrationHeld):
        change(visit, cast.assigned_nurse, kind="increase", rate="84.0", at=NOW + 30 * MINUTE)
    later(clock, 50)
    assess(visit, cast.assigned_nurse, finding=Assessment.Finding.RESOLVED, note="Chills gone; 37.3 °C.")
    take(visit, cast.assigned_nurse, at=later(clock, 52), reading=NORMAL)
    change(visit, cast.assigned_nurse, kind="increase", rate="84.0", at=NOW + 52 * MINUTE)
    assert rates(visit)[-1] == ("increase", Decimal("84.0"))


def test_the_strip_says_the_hold_first_and_the_section_offers_no_raise(cast, clock):
    visit = flagged(cast, clock)
    client = nurse_client(cast)
    assert (
        strip(client, visit)
        == "Temperature 38.6 °C, systolic 152 mmHg, pulse 125/min: assess for a reaction before any rate increase"
    )
    html = client.get(reverse("visits:chart", args=[visit.pk])).content.decode()
    assert 'id="infusion-hold"' in html
    assert "Raise to 84.0 mL/hr" not in html
    assert "Pause now" in html


def test_a_held_raise_through_the_section_answers_400_and_changes_nothing(cast, clock):
    visit = flagged(cast, clock)
    response = htmx_post(
        nurse_client(cast),
        reverse("visits:infusion_rate", args=[visit.pk]),
        {"kind": "increase", "rate_ml_per_hr": "84.0", "version": version(visit)},
    )
    assert response.status_code == 400
    assert "assess for a reaction before any rate increase" in response.content.decode()
    assert rates(visit) == [("start", Decimal("42.0"))]


def test_the_assessment_form_releases_the_hold_and_refreshes_the_infusion_section(cast, clock):
    visit = flagged(cast, clock)
    client = nurse_client(cast)
    url = reverse("visits:assessment_add", args=[visit.pk])
    refused = htmx_post(client, url, {"finding": "no_reaction", "note": "", "at": ""})
    assert refused.status_code == 400
    assert "Write what you assessed" in refused.content.decode()
    assert not Assessment.objects.filter(visit=visit).exists()
    saved = htmx_post(client, url, {"finding": "no_reaction", "note": "No symptoms; rechecked 37.9 °C.", "at": ""})
    assert saved.status_code == 200
    html = saved.content.decode()
    assert 'id="section-infusion" aria-labelledby="section-infusion-title" hx-swap-oob="true"' in html
    assert "Raise to 84.0 mL/hr now" in html
    assert "Assessed, no reaction" in html


# --- a raise before the plan's time asks why ---------------------------------------------------------------------


def test_a_raise_before_the_plans_time_needs_a_reason(cast, clock):
    visit = started_visit(cast)
    take(visit, cast.assigned_nurse, at=later(clock, 27))
    with pytest.raises(ValidationError) as refused:
        change(visit, cast.assigned_nurse, kind="increase", rate="84.0", at=later(clock, 29))
    assert "09:30, 1 min from this time" in refused.value.message_dict["early_reason"][0]
    assert rates(visit) == [("start", Decimal("42.0"))]


def test_an_early_raise_with_its_reason_is_recorded_as_early(cast, clock):
    visit = started_visit(cast)
    take(visit, cast.assigned_nurse, at=later(clock, 18))
    raised = change(
        visit, cast.assigned_nurse, kind="increase", rate="84.0", at=later(clock, 20), early_reason="Prescriber's order"
    )
    assert (raised.is_early, raised.planned_at, raised.early_reason) == (True, NOW + 30 * MINUTE, "Prescriber's order")
    html = nurse_client(cast).get(reverse("visits:chart", args=[visit.pk])).content.decode()
    assert "early: planned 09:30" in html and "raised early: Prescriber&#x27;s order" in html


def test_a_raise_at_the_plans_time_needs_no_reason(cast, clock):
    visit = started_visit(cast)
    take(visit, cast.assigned_nurse, at=later(clock, 28))
    raised = change(visit, cast.assigned_nurse, kind="increase", rate="84.0", at=later(clock, 30))
    assert (raised.is_early, raised.planned_at, raised.early_reason) == (False, None, "")


def test_the_early_quick_raise_asks_for_the_reason_and_is_refused_without_it(cast, clock):
    visit = started_visit(cast)
    take(visit, cast.assigned_nurse, at=later(clock, 18))
    later(clock, 20)
    client = nurse_client(cast)
    html = client.get(reverse("visits:chart", args=[visit.pk])).content.decode()
    assert 'id="infusion-early-raise"' in html and "Reason to raise early" in html
    response = htmx_post(
        client,
        reverse("visits:infusion_rate", args=[visit.pk]),
        {"kind": "increase", "rate_ml_per_hr": "84.0", "version": version(visit), "early_reason": ""},
    )
    assert response.status_code == 400
    assert "give the reason to raise early" in response.content.decode()
    assert rates(visit) == [("start", Decimal("42.0"))]


# --- the volume infused must be possible -------------------------------------------------------------------------


def end(visit, nurse, volume, **kwargs):
    return infusion_end(
        visit=visit,
        nurse=nurse,
        at=dt.datetime.now(dt.UTC),
        volume_infused_ml=Decimal(volume),
        expected_version=version(visit),
        **kwargs,
    )


def titrated(cast, clock):
    visit = started_visit(cast)
    titrate(visit, cast.assigned_nurse, clock)
    later(clock, 145)
    return visit


def test_the_rates_recorded_deliver_what_the_plan_says():
    changes = [
        RateChange(at=NOW, kind="start", rate_ml_per_hr=Decimal("42")),
        RateChange(at=NOW + 30 * MINUTE, kind="increase", rate_ml_per_hr=Decimal("84")),
        RateChange(at=NOW + 45 * MINUTE, kind="pause", rate_ml_per_hr=Decimal("0")),
        RateChange(at=NOW + 75 * MINUTE, kind="resume", rate_ml_per_hr=Decimal("84")),
    ]
    # 42 × ½ h + 84 × ¼ h + 0 × ½ h + 84 × ¼ h = 21 + 21 + 0 + 21
    assert deliverable_ml(changes, until=NOW + 90 * MINUTE) == Decimal("63.0")
    assert deliverable_ml(changes, until=NOW + 30 * MINUTE) == Decimal("21.0")


def test_the_days_volume_plus_the_tolerance_is_accepted_and_a_tenth_more_refused(cast, clock):
    visit = titrated(cast, clock)
    with pytest.raises(ValidationError) as refused:
        end(visit, cast.assigned_nurse, "305.1")
    assert refused.value.message_dict["volume_infused_ml"] == [
        "305.1 mL is more than this day's 280.0 mL plus 25.0 mL for priming and flush (305.0 mL at most): read the "
        "volume infused on the pump again."
    ]
    assert InfusionRecord.objects.get(visit=visit).ended_at is None
    assert end(visit, cast.assigned_nurse, "305.0").volume_infused_ml == Decimal("305.0")


def test_900_ml_on_a_280_ml_day_is_refused(cast, clock):
    visit = titrated(cast, clock)
    with pytest.raises(ValidationError, match="more than this day's 280.0 mL"):
        end(visit, cast.assigned_nurse, "900")


@override_settings(INFUSION_VOLUME_TOLERANCE_ML=10)
def test_the_tolerance_is_a_setting(cast, clock):
    visit = titrated(cast, clock)
    with pytest.raises(ValidationError, match=r"plus 10.0 mL for priming and flush \(290.0 mL at most\)"):
        end(visit, cast.assigned_nurse, "290.1")


def test_more_than_the_recorded_rates_could_deliver_is_refused(cast, clock):
    visit = started_visit(cast)  # 42 mL/hr for 145 min: 101.5 mL
    later(clock, 145)
    with pytest.raises(ValidationError) as refused:
        end(visit, cast.assigned_nurse, "126.6", short_reason="stopped_early")
    assert "could deliver about 101.5 mL (126.5 mL at most" in refused.value.message_dict["volume_infused_ml"][0]
    assert end(visit, cast.assigned_nurse, "126.5", short_reason="stopped_early").short_reason == "stopped_early"


def test_a_volume_well_below_the_plan_asks_why(cast, clock):
    visit = titrated(cast, clock)
    with pytest.raises(ValidationError) as refused:
        end(visit, cast.assigned_nurse, "251.9")
    assert "less than 90% of this day's 280.0 mL" in refused.value.message_dict["short_reason"][0]
    with pytest.raises(ValidationError) as refused:
        end(visit, cast.assigned_nurse, "200", short_reason="other")
    assert refused.value.message_dict == {"short_note": ["Say why less was infused."]}
    record = end(visit, cast.assigned_nurse, "200", short_reason="occlusion", short_note="Occluded twice")
    assert (record.short_reason, record.short_note) == ("occlusion", "Occluded twice")


def test_ninety_percent_of_the_plan_needs_no_reason(cast, clock):
    visit = titrated(cast, clock)
    assert end(visit, cast.assigned_nurse, "252.0", short_reason="reaction").short_reason == ""


def test_an_impossible_volume_through_the_section_answers_400_at_the_field(cast, clock):
    visit = titrated(cast, clock)
    response = htmx_post(
        nurse_client(cast),
        reverse("visits:infusion_end", args=[visit.pk]),
        {"at": "", "volume_infused_ml": "900", "version": version(visit)},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "is-invalid" in html and "900.0 mL is more than this day&#x27;s 280.0 mL" in html
    assert Visit.objects.get(pk=visit.pk).status == Visit.Status.INFUSING


# --- the plan is frozen at the start ---------------------------------------------------------------------------


def plan_rows(visit):
    state = infusion_state(visit=Visit.objects.select_related("patient", "order__product").get(pk=visit.pk))
    return state.plan.max_ml_per_hr, [step.ml_per_hr for step in state.plan.steps]


def test_a_new_weight_does_not_replan_a_running_infusion(cast, clock):
    visit = started_visit(cast)
    before = plan_rows(visit)
    assert before == (Decimal("168.0"), [Decimal("42.0"), Decimal("84.0"), Decimal("126.0"), Decimal("168.0")])
    WeightMeasurement.objects.create(patient=visit.patient, weight_kg=Decimal("69.9"), measured_on=NOW.date())
    TherapyOrder.objects.filter(pk=visit.order_id).update(calculated_from_weight_kg=Decimal("80"))
    assert plan_rows(visit) == before
    snapshot = InfusionRecord.objects.get(visit=visit).plan_snapshot
    assert (snapshot["weight_kg"], snapshot["product"], snapshot["step_interval_min"]) == ("70.0", "Octagam 10%", 30)


def test_before_the_start_a_small_weight_change_leaves_the_plan_on_the_dosing_weight(cast, clock):
    visit = started_visit(cast)
    other = Visit.objects.create(
        patient=visit.patient,
        order=visit.order,
        cycle_number=visit.cycle_number + 1,
        planned_start=NOW + dt.timedelta(days=28),
        planned_minutes=240,
        volume_ml=visit.volume_ml,
        dose_mg=visit.dose_mg,
    )
    WeightMeasurement.objects.create(patient=visit.patient, weight_kg=Decimal("69.9"), measured_on=NOW.date())
    assert plan_rows(other) == plan_rows(visit)
    html = nurse_client(cast).get(reverse("visits:chart", args=[visit.pk])).content.decode()
    assert "infusion-volume-differs" not in html and 'id="infusion-plan-frozen"' in html


def test_the_printed_record_shows_assessments_early_raises_the_frozen_plan_and_why_less_was_infused(cast, clock):
    visit = flagged(cast, clock)
    assess(visit, cast.assigned_nurse, note="No chills or rash; feels well.")
    change(visit, cast.assigned_nurse, kind="increase", rate="84.0", at=NOW + 30 * MINUTE)
    take(visit, cast.assigned_nurse, at=later(clock, 38))
    change(visit, cast.assigned_nurse, kind="increase", rate="126.0", at=later(clock, 40), early_reason="Per order")
    later(clock, 45)  # 21 + 14 + 10.5 = 45.5 mL given
    end(visit, cast.assigned_nurse, "45", short_reason="patient_request", short_note="Asked to stop")
    html = nurse_client(cast).get(reverse("visits:print", args=[visit.pk])).content.decode()
    assert "Assessed, no reaction" in html and "No chills or rash; feels well." in html
    assert "raised before the plan's 10:00: Per order" in html
    assert "45.0 mL · less than planned: at the patient&#x27;s request (Asked to stop)" in html
    assert "fixed at the start: Octagam 10%, 280.0 mL, maximum 168.0 mL/hr, on 70.0 kg" in html
