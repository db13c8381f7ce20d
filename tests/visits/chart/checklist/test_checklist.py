"""The pre-infusion checklist: every hard stop of DESIGN §3 passes and fails on the server; overrides need a reason,
are recorded and reach the coordinator; completion is refused while a stop is open, whatever the page sent."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from patients.models import CREATININE_VALID_DAYS, WEIGHT_VALID_DAYS, Patient, WeightMeasurement
from patients.services import ServiceError
from tests.conftest import client_for
from tests.factories import (
    AuthorizationFactory,
    CreatinineFactory,
    OrderFactory,
    VisitFactory,
    WeightFactory,
    nurse,
    product,
)
from visits.alerts.selectors import collect_alerts
from visits.chart.checklist import services
from visits.chart.rules import ChartLocked, StaleSection
from visits.models import PreInfusionChecklist, PremedicationGiven, TherapyOrder, Visit, VisitEvent

PREMEDS = "acetaminophen 650 mg PO; diphenhydramine 25 mg PO"


@pytest.fixture
def visit(cast):
    """An IVIG visit today, checked in, for the assigned nurse: creatinine and an authorization on file."""
    order = OrderFactory(patient=cast.patient, premedications=PREMEDS)
    CreatinineFactory(patient=cast.patient)
    AuthorizationFactory(patient=cast.patient)
    return VisitFactory(
        order=order, nurse=cast.assigned_nurse, planned_start=timezone.now(), status=Visit.Status.CHECKED_IN
    )


@pytest.fixture
def today(visit):
    return services.patient_today(visit)


def ready(visit, today, **changes) -> PreInfusionChecklist:
    """A saved checklist on which every check passes; ``changes`` spoil some of it."""
    values = {
        "identifiers_confirmed": True,
        "kit_epinephrine": True,
        "kit_diphenhydramine": True,
        "kit_saline": True,
        "kit_expires_on": today + timedelta(days=90),
        "no_fever_or_infection": True,
        "version": 1,
    }
    values.update(changes)
    if not PremedicationGiven.objects.filter(visit=visit).exists():
        PremedicationGiven.objects.create(
            visit=visit, drug="acetaminophen", dose="650 mg", route="PO", given_at=timezone.now()
        )
    checklist, _ = PreInfusionChecklist.objects.update_or_create(visit=visit, defaults=values)
    return checklist


def stop_codes(visit, checklist, today) -> list[str]:
    return [stop.code for stop in services.checklist_hard_stops(visit=visit, checklist=checklist, today=today)]


def stop_message(visit, checklist, today, code) -> str:
    stops = {stop.code: stop for stop in services.checklist_hard_stops(visit=visit, checklist=checklist, today=today)}
    return stops[code].message


# --- each hard stop passes and fails ------------------------------------------------------------------------


def test_every_check_passes_when_everything_is_in_order(visit, today):
    checklist = ready(visit, today)
    assert stop_codes(visit, checklist, today) == []
    states = {
        check.code: check.state for check in services.checklist_checks(visit=visit, checklist=checklist, today=today)
    }
    assert set(states.values()) == {"passed"}
    assert set(states) == set(services.CHECK_LABELS)


def test_an_empty_checklist_stops_on_what_the_nurse_must_confirm(visit, today):
    PremedicationGiven.objects.all().delete()
    codes = stop_codes(visit, PreInfusionChecklist(visit=visit), today)
    assert codes == ["identifiers", "anaphylaxis_kit", "fever_infection", "premedications"]


def test_identifiers_not_confirmed_is_a_hard_stop(visit, today):
    checklist = ready(visit, today, identifiers_confirmed=False)
    assert stop_codes(visit, checklist, today) == ["identifiers"]
    assert "two identifiers" in stop_message(visit, checklist, today, "identifiers").lower()


@pytest.mark.parametrize("status", ["on_hold", "completed", "cancelled"])
def test_an_order_that_is_not_active_is_a_hard_stop(visit, today, status):
    TherapyOrder.objects.filter(pk=visit.order_id).update(status=status)
    visit.refresh_from_db()
    checklist = ready(visit, today)
    assert stop_codes(visit, checklist, today) == ["order_active"]
    assert "active order" in stop_message(visit, checklist, today, "order_active")


def test_no_authorization_covering_the_visit_is_a_hard_stop(visit, today):
    visit.patient.authorizations.all().delete()
    checklist = ready(visit, today)
    assert stop_codes(visit, checklist, today) == ["authorization"]
    assert "No prior authorization" in stop_message(visit, checklist, today, "authorization")


def test_an_authorization_that_ended_before_the_visit_is_a_hard_stop(visit, today):
    visit.patient.authorizations.update(valid_from=today - timedelta(days=100), valid_to=today - timedelta(days=1))
    checklist = ready(visit, today)
    assert stop_codes(visit, checklist, today) == ["authorization"]


def test_visits_beyond_the_authorized_count_stop_and_those_within_pass(visit, today):
    visit.patient.authorizations.update(visits_authorized=2)
    earlier = [
        VisitFactory(order=visit.order, planned_start=visit.planned_start - timedelta(days=days)) for days in (2, 1)
    ]
    checklist = ready(visit, today)
    assert stop_codes(visit, checklist, today) == ["authorization"]
    assert "authorizes 2 visits and this is visit 3" in stop_message(visit, checklist, today, "authorization")
    # The first visit in the window is within the count; a cancelled one does not count.
    assert "authorization" not in stop_codes(earlier[0], checklist, today)
    Visit.objects.filter(pk=earlier[1].pk).update(status=Visit.Status.CANCELLED)
    assert stop_codes(visit, checklist, today) == []


def test_a_second_authorization_covering_the_visit_lets_it_pass(visit, today):
    visit.patient.authorizations.update(visits_authorized=1)
    VisitFactory(order=visit.order, planned_start=visit.planned_start - timedelta(days=1))
    checklist = ready(visit, today)
    assert stop_codes(visit, checklist, today) == ["authorization"]
    AuthorizationFactory(patient=visit.patient, visits_authorized=10)
    assert stop_codes(visit, checklist, today) == []


def test_no_weight_on_file_is_a_hard_stop(visit, today):
    visit.patient.weights.all().delete()
    checklist = ready(visit, today)
    assert "weight_current" in stop_codes(visit, checklist, today)


def test_a_weight_older_than_six_months_is_a_hard_stop(visit, today):
    visit.patient.weights.update(measured_on=today - timedelta(days=WEIGHT_VALID_DAYS + 1))
    checklist = ready(visit, today)
    assert stop_codes(visit, checklist, today) == ["weight_current"]
    assert "more than 6 months ago" in stop_message(visit, checklist, today, "weight_current")


def test_a_weight_exactly_six_months_old_passes(visit, today):
    visit.patient.weights.update(measured_on=today - timedelta(days=WEIGHT_VALID_DAYS))
    assert stop_codes(visit, ready(visit, today), today) == []


def test_weighing_today_clears_a_stale_weight(visit, today):
    visit.patient.weights.update(measured_on=today - timedelta(days=400))
    checklist = ready(visit, today, weight_today_kg=Decimal("71.0"))
    assert stop_codes(visit, checklist, today) == []


def test_a_weight_change_of_12_percent_sends_the_dose_for_review(visit, today):
    checklist = ready(visit, today, weight_today_kg=Decimal("78.4"))  # dose calculated from 70 kg
    assert stop_codes(visit, checklist, today) == ["dose_review"]
    message = stop_message(visit, checklist, today, "dose_review")
    assert "dose review: weight changed 12% since the dose was calculated" in message.lower()


def test_a_weight_change_of_9_9_percent_does_not_send_the_dose_for_review(visit, today):
    checklist = ready(visit, today, weight_today_kg=Decimal("76.9"))  # 9.86 %
    assert stop_codes(visit, checklist, today) == []
    detail = {c.code: c.detail for c in services.checklist_checks(visit=visit, checklist=checklist, today=today)}
    assert "9.9%" in detail["dose_review"]


@pytest.mark.parametrize("weight", ["77.0", "63.0"])
def test_a_change_of_exactly_10_percent_either_way_sends_the_dose_for_review(visit, today, weight):
    checklist = ready(visit, today, weight_today_kg=Decimal(weight))
    assert stop_codes(visit, checklist, today) == ["dose_review"]


def test_a_latest_weight_on_file_far_from_the_dosing_weight_sends_the_dose_for_review(visit, today):
    WeightFactory(patient=visit.patient, measured_on=today - timedelta(days=1), weight_kg=Decimal("60.0"))
    checklist = ready(visit, today)
    assert stop_codes(visit, checklist, today) == ["dose_review"]


def test_a_flat_dose_is_not_sent_for_review_when_the_weight_changes(visit, today):
    TherapyOrder.objects.filter(pk=visit.order_id).update(dose_rule="flat_mg", product=product("Rituxan"))
    visit.refresh_from_db()
    checklist = ready(visit, today, weight_today_kg=Decimal("90.0"))
    assert "dose_review" not in stop_codes(visit, checklist, today)


def test_ivig_without_a_creatinine_is_a_hard_stop(visit, today):
    visit.patient.lab_results.all().delete()
    checklist = ready(visit, today)
    assert stop_codes(visit, checklist, today) == ["creatinine"]


def test_a_creatinine_older_than_three_months_stops_ivig(visit, today):
    visit.patient.lab_results.update(collected_on=today - timedelta(days=CREATININE_VALID_DAYS + 1))
    checklist = ready(visit, today)
    assert stop_codes(visit, checklist, today) == ["creatinine"]
    assert "more than 3 months ago" in stop_message(visit, checklist, today, "creatinine")


def test_a_creatinine_exactly_three_months_old_passes(visit, today):
    visit.patient.lab_results.update(collected_on=today - timedelta(days=CREATININE_VALID_DAYS))
    assert stop_codes(visit, ready(visit, today), today) == []


def test_creatinine_is_not_required_for_rituximab(visit, today):
    visit.patient.lab_results.all().delete()
    TherapyOrder.objects.filter(pk=visit.order_id).update(product=product("Rituxan"))
    visit.refresh_from_db()
    assert stop_codes(visit, ready(visit, today), today) == []


def test_iga_deficiency_with_anti_iga_antibodies_stops_immune_globulin(visit, today):
    Patient.objects.filter(pk=visit.patient_id).update(iga_status="deficient", anti_iga_antibodies="present")
    visit.refresh_from_db()
    checklist = ready(visit, today)
    assert stop_codes(visit, checklist, today) == ["iga"]
    assert "contraindicated" in stop_message(visit, checklist, today, "iga")


def test_iga_deficiency_without_antibodies_passes(visit, today):
    Patient.objects.filter(pk=visit.patient_id).update(iga_status="deficient", anti_iga_antibodies="absent")
    visit.refresh_from_db()
    assert stop_codes(visit, ready(visit, today), today) == []


def test_iga_contraindication_does_not_stop_rituximab(visit, today):
    Patient.objects.filter(pk=visit.patient_id).update(iga_status="deficient", anti_iga_antibodies="present")
    TherapyOrder.objects.filter(pk=visit.order_id).update(product=product("Rituxan"))
    visit.refresh_from_db()
    assert stop_codes(visit, ready(visit, today), today) == []


@pytest.mark.parametrize(
    ("item", "words"),
    [("kit_epinephrine", "epinephrine"), ("kit_diphenhydramine", "diphenhydramine"), ("kit_saline", "saline")],
)
def test_a_missing_anaphylaxis_kit_item_is_a_hard_stop(visit, today, item, words):
    checklist = ready(visit, today, **{item: False})
    assert stop_codes(visit, checklist, today) == ["anaphylaxis_kit"]
    assert words in stop_message(visit, checklist, today, "anaphylaxis_kit")


def test_an_expired_anaphylaxis_kit_is_a_hard_stop(visit, today):
    checklist = ready(visit, today, kit_expires_on=today - timedelta(days=1))
    assert stop_codes(visit, checklist, today) == ["anaphylaxis_kit"]
    assert "expired" in stop_message(visit, checklist, today, "anaphylaxis_kit")


def test_a_kit_expiring_today_is_in_date(visit, today):
    assert stop_codes(visit, ready(visit, today, kit_expires_on=today), today) == []


def test_a_kit_without_an_expiry_date_is_a_hard_stop(visit, today):
    checklist = ready(visit, today, kit_expires_on=None)
    assert stop_codes(visit, checklist, today) == ["anaphylaxis_kit"]


def test_fever_or_active_infection_is_a_hard_stop(visit, today):
    checklist = ready(visit, today, no_fever_or_infection=False)
    assert stop_codes(visit, checklist, today) == ["fever_infection"]


def test_ordered_premedications_not_given_are_a_hard_stop(visit, today):
    checklist = ready(visit, today)
    PremedicationGiven.objects.all().delete()
    assert stop_codes(visit, checklist, today) == ["premedications"]
    assert PREMEDS in stop_message(visit, checklist, today, "premedications")


def test_no_premedications_ordered_needs_none_given(visit, today):
    TherapyOrder.objects.filter(pk=visit.order_id).update(premedications="")
    visit.refresh_from_db()
    checklist = ready(visit, today)
    PremedicationGiven.objects.all().delete()
    assert stop_codes(visit, checklist, today) == []


# --- overrides ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_override_needs_a_reason(visit, today, reason):
    checklist = ready(visit, today, no_fever_or_infection=False)
    with pytest.raises(ServiceError, match="reason"):
        services.checklist_override(
            visit=visit, nurse=visit.nurse, code="fever_infection", reason=reason, expected_version=1, today=today
        )
    checklist.refresh_from_db()
    assert checklist.overrides == {}
    assert not VisitEvent.objects.filter(visit=visit, kind=VisitEvent.Kind.OVERRIDE).exists()


def test_an_override_is_recorded_as_an_event_and_alerts_the_coordinator(visit, today):
    ready(visit, today, weight_today_kg=Decimal("78.4"))
    checklist = services.checklist_override(
        visit=visit,
        nurse=visit.nurse,
        code="dose_review",
        reason="Prescriber called at 09:10, keeps the dose",
        expected_version=1,
        today=today,
    )
    assert checklist.overrides == {"dose_review": "Prescriber called at 09:10, keeps the dose"}
    assert checklist.version == 2
    event = VisitEvent.objects.get(visit=visit, kind=VisitEvent.Kind.OVERRIDE)
    assert event.by == visit.nurse
    assert event.detail.startswith(services.HARD_STOP_OVERRIDE_PREFIX)
    assert "Prescriber called at 09:10" in event.detail and "weight changed 12%" in event.detail
    states = {c.code: c.state for c in services.checklist_checks(visit=visit, checklist=checklist, today=today)}
    assert states["dose_review"] == "overridden"

    alerts = collect_alerts(kinds=["hard_stop_override"])
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.about == event
    assert visit.patient.full_name in alert.title
    assert "Weight within 10% of the dosing weight" in alert.title
    assert any("Prescriber called at 09:10" in line for line in alert.lines)
    assert alert.url == reverse("visits:chart", args=[visit.pk]) + "#section-checklist"


def test_the_coordinator_sees_the_override_on_the_alert_queue_page(visit, today, cast):
    ready(visit, today, no_fever_or_infection=False)
    services.checklist_override(
        visit=visit,
        nurse=visit.nurse,
        code="fever_infection",
        reason="Low-grade, cleared by Dr Raman",
        expected_version=1,
    )
    page = client_for(cast.coordinator).get(reverse("alerts:queue"))
    assert page.status_code == 200
    assert "Low-grade, cleared by Dr Raman" in page.content.decode()


def test_a_scheduling_conflict_override_is_not_a_hard_stop_alert(visit):
    VisitEvent.objects.create(visit=visit, kind=VisitEvent.Kind.OVERRIDE, detail="Reason: urgent\nConflicts:\n- x")
    assert collect_alerts(kinds=["hard_stop_override"]) == []


def test_a_check_that_passes_cannot_be_overridden(visit, today):
    ready(visit, today)
    with pytest.raises(ServiceError, match="nothing to override"):
        services.checklist_override(
            visit=visit, nurse=visit.nurse, code="identifiers", reason="because", expected_version=1, today=today
        )


def test_an_unknown_check_cannot_be_overridden(visit, today):
    ready(visit, today)
    with pytest.raises(ServiceError):
        services.checklist_override(
            visit=visit, nurse=visit.nurse, code="everything", reason="because", expected_version=1, today=today
        )


# --- completion -----------------------------------------------------------------------------------------------


def test_completion_is_refused_while_a_stop_has_no_override(visit, today):
    ready(visit, today, no_fever_or_infection=False, kit_saline=False)
    with pytest.raises(services.HardStopsOpen) as refused:
        services.checklist_complete(visit=visit, nurse=visit.nurse, expected_version=1, today=today)
    assert [stop.code for stop in refused.value.stops] == ["anaphylaxis_kit", "fever_infection"]
    assert "No fever or active infection" in str(refused.value)
    assert PreInfusionChecklist.objects.get(visit=visit).completed_at is None


def test_completion_is_refused_while_only_some_stops_are_overridden(visit, today):
    ready(visit, today, no_fever_or_infection=False, kit_saline=False)
    services.checklist_override(
        visit=visit, nurse=visit.nurse, code="anaphylaxis_kit", reason="Saline bag in the car", expected_version=1
    )
    with pytest.raises(services.HardStopsOpen) as refused:
        services.checklist_complete(visit=visit, nurse=visit.nurse, expected_version=2, today=today)
    assert [stop.code for stop in refused.value.stops] == ["fever_infection"]


def test_completion_passes_when_every_stop_is_overridden_with_a_reason(visit, today):
    ready(visit, today, kit_saline=False)
    services.checklist_override(
        visit=visit, nurse=visit.nurse, code="anaphylaxis_kit", reason="Saline bag in the car", expected_version=1
    )
    checklist = services.checklist_complete(visit=visit, nurse=visit.nurse, expected_version=2, today=today)
    assert checklist.completed_at is not None
    assert PreInfusionChecklist.objects.get(visit=visit).completed_at is not None


def test_completion_passes_when_every_check_passes(visit, today):
    ready(visit, today)
    checklist = services.checklist_complete(visit=visit, nurse=visit.nurse, expected_version=1, today=today)
    assert checklist.completed_at is not None
    assert checklist.premedications_given is True


def test_an_empty_override_reason_stored_by_hand_does_not_count(visit, today):
    ready(visit, today, no_fever_or_infection=False, overrides={"fever_infection": "  "})
    with pytest.raises(services.HardStopsOpen):
        services.checklist_complete(visit=visit, nurse=visit.nurse, expected_version=1, today=today)


# --- saving the answers ---------------------------------------------------------------------------------------


def answers(today, **changes) -> dict:
    values = {
        "identifiers_confirmed": True,
        "weight_today_kg": None,
        "kit_epinephrine": True,
        "kit_diphenhydramine": True,
        "kit_saline": True,
        "kit_expires_on": today + timedelta(days=30),
        "no_fever_or_infection": True,
    }
    values.update(changes)
    return values


def test_saving_creates_the_checklist_and_then_needs_its_version(visit, today):
    checklist = services.checklist_save(
        visit=visit, nurse=visit.nurse, values=answers(today), expected_version=0, today=today
    )
    assert checklist.version == 1 and checklist.identifiers_confirmed
    services.checklist_save(
        visit=visit, nurse=visit.nurse, values=answers(today, kit_saline=False), expected_version=1, today=today
    )
    with pytest.raises(StaleSection, match="Normal saline 250 mL"):
        services.checklist_save(visit=visit, nurse=visit.nurse, values=answers(today), expected_version=1, today=today)
    assert PreInfusionChecklist.objects.get(visit=visit).kit_saline is False


def test_todays_weight_joins_the_patients_weights_and_a_correction_replaces_it(visit, today):
    before = visit.patient.weights.count()
    services.checklist_save(
        visit=visit, nurse=visit.nurse, values=answers(today, weight_today_kg=Decimal("71.5")), expected_version=0
    )
    latest = WeightMeasurement.objects.filter(patient=visit.patient).order_by("-measured_on", "-recorded_at").first()
    assert latest.weight_kg == Decimal("71.5") and latest.recorded_by == visit.nurse
    services.checklist_save(
        visit=visit, nurse=visit.nurse, values=answers(today, weight_today_kg=Decimal("72.5")), expected_version=1
    )
    assert visit.patient.weights.count() == before + 1
    assert visit.patient.weights.filter(weight_kg=Decimal("72.5")).exists()


def test_a_completed_checklist_reopens_when_an_answer_raises_a_stop(visit, today):
    ready(visit, today)
    services.checklist_complete(visit=visit, nurse=visit.nurse, expected_version=1, today=today)
    checklist = services.checklist_save(
        visit=visit,
        nurse=visit.nurse,
        values=answers(today, no_fever_or_infection=False),
        expected_version=2,
        today=today,
    )
    assert checklist.completed_at is None
    assert PreInfusionChecklist.objects.get(visit=visit).completed_at is None


def test_a_completed_checklist_stays_complete_when_an_answer_changes_harmlessly(visit, today):
    ready(visit, today)
    services.checklist_complete(visit=visit, nurse=visit.nurse, expected_version=1, today=today)
    services.checklist_save(
        visit=visit,
        nurse=visit.nurse,
        values=answers(today, kit_expires_on=today + timedelta(days=200)),
        expected_version=2,
        today=today,
    )
    assert PreInfusionChecklist.objects.get(visit=visit).completed_at is not None


def test_a_signed_chart_refuses_every_checklist_write(visit, today):
    ready(visit, today, kit_saline=False)
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.SIGNED)
    visit.refresh_from_db()
    with pytest.raises(ChartLocked):
        services.checklist_save(visit=visit, nurse=visit.nurse, values=answers(today), expected_version=1)
    with pytest.raises(ChartLocked):
        services.checklist_override(
            visit=visit, nurse=visit.nurse, code="anaphylaxis_kit", reason="x", expected_version=1
        )
    with pytest.raises(ChartLocked):
        services.checklist_complete(visit=visit, nurse=visit.nurse, expected_version=1)
    with pytest.raises(ChartLocked):
        services.premedication_add(
            visit=visit, nurse=visit.nurse, drug="acetaminophen", dose="650 mg", route="PO", given_at=timezone.now()
        )
    assert PreInfusionChecklist.objects.get(visit=visit).kit_saline is False


def test_only_the_visits_nurse_writes_its_checklist(visit, today):
    with pytest.raises(ServiceError, match="Only the nurse assigned"):
        services.checklist_save(visit=visit, nurse=nurse(), values=answers(today), expected_version=0)
    assert not PreInfusionChecklist.objects.filter(visit=visit).exists()


def test_a_premedication_given_in_the_future_is_refused(visit):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.premedication_add(
            visit=visit,
            nurse=visit.nurse,
            drug="acetaminophen",
            dose="650 mg",
            route="PO",
            given_at=timezone.now() + timedelta(hours=1),
        )
    assert not PremedicationGiven.objects.exists()


# --- through the page (htmx and plain posts) ------------------------------------------------------------------

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name, visit):
    return reverse(f"visits:{name}", args=[visit.pk])


def form_data(today, **changes) -> dict:
    data = {
        "version": "0",
        "identifiers_confirmed": "on",
        "weight_value": "",
        "weight_unit": "kg",
        "kit_epinephrine": "on",
        "kit_diphenhydramine": "on",
        "kit_saline": "on",
        "kit_expires_on": (today + timedelta(days=30)).isoformat(),
        "no_fever_or_infection": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_chart_shows_the_checklist_and_each_checks_state(visit, today, nurse_client):
    ready(visit, today, kit_saline=False)
    page = nurse_client.get(reverse("visits:chart", args=[visit.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="section-checklist"' in html and 'id="section-vials"' in html
    assert 'id="check-anaphylaxis_kit" data-state="stop"' in html
    assert 'id="check-identifiers" data-state="passed"' in html
    assert "missing 250 mL normal saline" in html
    assert reverse("visits:checklist_override", args=[visit.pk]) in html


def test_the_nurse_saves_the_checklist_in_place(visit, today, nurse_client):
    response = nurse_client.post(
        url("checklist_save", visit), form_data(today, weight_value="160", weight_unit="lb"), **HTMX
    )
    assert response.status_code == 200
    assert 'id="section-checklist"' in response.content.decode()
    checklist = PreInfusionChecklist.objects.get(visit=visit)
    assert checklist.identifiers_confirmed and checklist.kit_saline
    assert checklist.weight_today_kg == Decimal("72.6")  # 160 lb


def test_a_plain_post_is_redirected_to_the_checklist_on_the_chart(visit, today, nurse_client):
    response = nurse_client.post(url("checklist_save", visit), form_data(today))
    assert response.status_code == 302
    assert response["Location"] == reverse("visits:chart", args=[visit.pk]) + "#section-checklist"


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("weight_value", "seventy", "Enter a number"),
        ("weight_value", "400", "between 2 and 350 kg"),
        ("weight_value", "-3", "greater than or equal to 0"),
        ("kit_expires_on", "soon", "like 2026-11-30"),
        ("kit_expires_on", "1900-01-01", "between 2000 and 2100"),
        ("version", None, "Reload the section"),
    ],
)
def test_bad_checklist_input_is_refused_at_the_field_and_changes_nothing(
    visit, today, nurse_client, field, value, words
):
    response = nurse_client.post(url("checklist_save", visit), form_data(today, **{field: value}), **HTMX)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not PreInfusionChecklist.objects.filter(visit=visit).exists()
    assert visit.patient.weights.count() == 1


def test_bad_input_in_a_plain_post_shows_the_whole_chart_with_the_message(visit, today, nurse_client):
    response = nurse_client.post(url("checklist_save", visit), form_data(today, weight_value="400"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "between 2 and 350 kg" in html and 'id="section-vials"' in html


def test_a_stale_save_is_refused_with_what_changed(visit, today, nurse_client):
    ready(visit, today, kit_saline=False, version=3)
    response = nurse_client.post(url("checklist_save", visit), form_data(today, version="2"), **HTMX)
    assert response.status_code == 409
    assert "Not saved" in response.content.decode()
    assert PreInfusionChecklist.objects.get(visit=visit).kit_saline is False


def test_posting_completed_with_an_open_stop_is_refused_even_without_the_page(visit, today, nurse_client):
    ready(visit, today, no_fever_or_infection=False)
    response = nurse_client.post(url("checklist_complete", visit), {"version": "1"}, **HTMX)
    assert response.status_code == 400
    assert "No fever or active infection" in response.content.decode()
    assert PreInfusionChecklist.objects.get(visit=visit).completed_at is None
    # Posting a reason along with "completed" does not count: overrides go through the override form.
    response = nurse_client.post(
        url("checklist_complete", visit), {"version": "1", "reason": "fine", "code": "fever_infection"}, **HTMX
    )
    assert response.status_code == 400
    assert PreInfusionChecklist.objects.get(visit=visit).completed_at is None


def test_completing_through_the_page_when_every_check_passes(visit, today, nurse_client):
    ready(visit, today)
    response = nurse_client.post(url("checklist_complete", visit), {"version": "1"}, **HTMX)
    assert response.status_code == 200
    assert "Checklist complete" in response.content.decode()
    assert PreInfusionChecklist.objects.get(visit=visit).completed_at is not None


def test_an_override_without_a_reason_is_refused_at_the_field(visit, today, nurse_client):
    ready(visit, today, no_fever_or_infection=False)
    response = nurse_client.post(
        url("checklist_override", visit), {"version": "1", "code": "fever_infection", "reason": "  "}, **HTMX
    )
    assert response.status_code == 400
    assert "Give a reason to override this stop." in response.content.decode()
    assert PreInfusionChecklist.objects.get(visit=visit).overrides == {}
    assert not VisitEvent.objects.filter(kind=VisitEvent.Kind.OVERRIDE).exists()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"version": "1", "code": "everything", "reason": "x"}, "There is no such hard stop"),
        ({"version": "1", "reason": "x"}, "Say which hard stop to override"),
        ({"code": "fever_infection", "reason": "x"}, "Reload the section"),
    ],
)
def test_a_malformed_override_post_is_refused_with_a_message(visit, today, nurse_client, data, words):
    ready(visit, today, no_fever_or_infection=False)
    response = nurse_client.post(url("checklist_override", visit), data, **HTMX)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert PreInfusionChecklist.objects.get(visit=visit).overrides == {}


def test_an_override_through_the_page_is_shown_as_overridden(visit, today, nurse_client):
    ready(visit, today, no_fever_or_infection=False)
    response = nurse_client.post(
        url("checklist_override", visit),
        {"version": "1", "code": "fever_infection", "reason": "Chronic low fever, prescriber aware"},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="check-fever_infection" data-state="overridden"' in html
    assert "Chronic low fever, prescriber aware" in html
    assert VisitEvent.objects.filter(kind=VisitEvent.Kind.OVERRIDE, visit=visit).count() == 1


def test_a_signed_chart_answers_409_with_the_lock_message(visit, today, nurse_client):
    ready(visit, today)
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.SIGNED)
    response = nurse_client.post(url("checklist_save", visit), form_data(today, version="1"), **HTMX)
    assert response.status_code == 409
    assert "signed and locked" in response.content.decode()
    assert 'id="checklist-form"' not in response.content.decode()


def test_another_nurse_on_the_care_team_cannot_document_the_visit(visit, today, cast):
    other = nurse()
    from tests.factories import on_care_team

    on_care_team(visit.patient, other)
    response = client_for(other).post(url("checklist_save", visit), form_data(today), **HTMX)
    assert response.status_code == 403
    assert not PreInfusionChecklist.objects.filter(visit=visit).exists()


def test_the_coordinator_sees_the_checklist_without_its_forms(visit, today, cast):
    ready(visit, today)
    html = client_for(cast.coordinator).get(reverse("visits:chart", args=[visit.pk])).content.decode()
    assert 'id="check-identifiers" data-state="passed"' in html
    assert 'id="checklist-form"' not in html


# --- premedications through the page --------------------------------------------------------------------------


def premed_data(**changes) -> dict:
    data = {"drug": "acetaminophen", "dose_amount": "650", "dose_unit": "mg", "route": "PO", "given_at": "00:00"}
    data.update(changes)
    return data


def test_the_nurse_records_a_premedication_with_dose_route_and_time(visit, today, nurse_client):
    response = nurse_client.post(url("premedication_add", visit), premed_data(), **HTMX)
    assert response.status_code == 200
    given = PremedicationGiven.objects.get(visit=visit)
    assert (given.drug, given.dose, given.route, given.recorded_by) == ("acetaminophen", "650 mg", "PO", visit.nurse)
    local = timezone.localtime(given.given_at, visit.patient.zone)
    assert (local.date(), local.hour, local.minute) == (today, 0, 0)
    assert "650 mg" in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("drug", "", "Name the drug given."),
        ("dose_amount", "lots", "Give the dose as a number"),
        ("dose_amount", "0", "Give a dose above 0."),
        ("dose_amount", "200000", "larger than any premedication dose"),
        ("dose_unit", "spoons", "Select a valid choice"),
        ("route", "XX", "Select a valid choice"),
        ("given_at", "25:99", "Give the time as 09:45."),
        ("given_at", "23:59", "still to come"),
    ],
)
def test_bad_premedication_input_is_refused_at_the_field(visit, today, field, value, words):
    noon = datetime.combine(today, time(12, 0), tzinfo=visit.patient.zone)
    with time_machine.travel(noon, tick=False):
        response = client_for(visit.nurse).post(url("premedication_add", visit), premed_data(**{field: value}), **HTMX)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not PremedicationGiven.objects.exists()


def test_recording_the_ordered_premedication_clears_its_stop(visit, today, nurse_client):
    checklist = ready(visit, today)
    PremedicationGiven.objects.all().delete()
    assert stop_codes(visit, checklist, today) == ["premedications"]
    nurse_client.post(url("premedication_add", visit), premed_data(), **HTMX)
    assert stop_codes(visit, checklist, today) == []


def test_the_checklist_and_vials_sections_take_as_many_queries_with_more_data(visit, today, rf):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from visits.chart.sections import SECTION_KEYS
    from visits.chart.views import section_html
    from visits.models import VialUsed

    def queries() -> int:
        request = rf.get("/")
        request.user = visit.nurse
        fresh = Visit.objects.select_related("patient", "order__product", "nurse").get(pk=visit.pk)
        with CaptureQueriesContext(connection) as captured:
            for key in ("checklist", "vials"):
                section_html(request, fresh, SECTION_KEYS[key])
        return len(captured)

    ready(visit, today, kit_saline=False)
    small = queries()
    assert small < 20, small  # a fixed handful: checklist, checks, premedications, vials
    for days in range(1, 6):
        VisitFactory(order=visit.order, planned_start=visit.planned_start - timedelta(days=days))
        AuthorizationFactory(patient=visit.patient)
        WeightFactory(patient=visit.patient, measured_on=today - timedelta(days=10 + days))
        CreatinineFactory(patient=visit.patient, collected_on=today - timedelta(days=10 + days))
        PremedicationGiven.objects.create(
            visit=visit, drug="cetirizine", dose="10 mg", route="PO", given_at=timezone.now()
        )
        VialUsed.objects.create(
            visit=visit, product=visit.order.product, lot_number=f"L{days}", expires_on=today, size_mg=5000
        )
    assert queries() == small, small
