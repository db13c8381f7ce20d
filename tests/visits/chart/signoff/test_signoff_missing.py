"""Sign-off needs a finished visit: the infusion ended, the observation over with its vitals, and a check-out.

Each item still missing can only be waived with a written reason, which is kept on the signature and printed on
the record (DESIGN §3).
"""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.conftest import client_for
from tests.visits.chart.signoff.finishing import check_in_row, check_out, finish_visit, take_owed_vitals, take_vitals
from visits.chart.signoff.services import (
    CHECK_OUT,
    INFUSION_ENDED,
    OBSERVATION,
    SIGNOFF_ITEMS,
    VITALS,
    WAIVER_REFUSALS,
    Missing,
    signoff_missing,
    visit_sign,
)
from visits.models import RateChange, Visit, VisitSignature, VitalSigns

PASSWORD = factories.PASSWORD
HTMX = {"HX-Request": "true"}
NOTE = "Tolerated well."


def hhmm(moment, visit) -> str:
    return timezone.localtime(moment, visit.patient.zone).strftime("%H:%M")


def codes(visit, now=None) -> list[str]:
    return [item.code for item in signoff_missing(visit=visit, now=now or timezone.now())]


def text_of(visit, code, now=None) -> str:
    return next(item.text for item in signoff_missing(visit=visit, now=now or timezone.now()) if item.code == code)


def sign(visit, nurse, **overrides):
    values = {"visit": visit, "nurse": nurse, "note": NOTE, "password": PASSWORD}
    values.update(overrides)
    return visit_sign(**values)


@pytest.fixture
def ended(cast):
    """A later infusion (30 min observation) that ended 45 min ago, every set taken, not checked out yet."""
    visit = factories.infusing_visit(nurse_user=cast.assigned_nurse, patient=cast.patient, ended_minutes_ago=45)
    take_owed_vitals(visit, cast.assigned_nurse)
    check_in_row(visit, cast.assigned_nurse, at=visit.planned_start - timedelta(minutes=20))
    return visit


@pytest.fixture
def running(cast):
    """An infusion still running at 126 mL/hr, checked in, no vitals: everything is missing."""
    visit = factories.infusing_visit(nurse_user=cast.assigned_nurse, patient=cast.patient)
    check_in_row(visit, cast.assigned_nurse, at=visit.planned_start - timedelta(minutes=20))
    return visit


# --- the list of what is missing ---------------------------------------------------------------------------------


def test_a_finished_visit_misses_nothing(cast, ended):
    check_out(ended, cast.assigned_nurse)
    assert signoff_missing(visit=ended, now=timezone.now()) == []


def test_a_visit_in_progress_misses_every_item_in_the_order_of_the_visit(cast, running):
    missing = signoff_missing(visit=running, now=timezone.now())
    assert [item.code for item in missing] == list(SIGNOFF_ITEMS)
    assert all(isinstance(item, Missing) and item.text for item in missing)


def test_a_running_infusion_is_not_ended(cast, running):
    assert text_of(running, INFUSION_ENDED) == "Infusion not ended: running at 126.0 mL/hr"


def test_a_stop_after_a_reaction_counts_as_the_end_only_once_the_end_is_recorded(cast, running):
    stopped_at = timezone.now() - timedelta(minutes=10)
    RateChange.objects.create(visit=running, at=stopped_at, kind=RateChange.Kind.STOP, rate_ml_per_hr=0)
    text = text_of(running, INFUSION_ENDED)
    assert text == f"Infusion not ended: stopped at {hhmm(stopped_at, running)}, its end not recorded"
    running.infusion.ended_at = stopped_at
    running.infusion.save()
    assert INFUSION_ENDED not in codes(running)


def test_a_visit_that_never_started_an_infusion_misses_it_and_may_waive_it(cast):
    """Stopped at the checklist (a fever): no infusion was given, and the chart is still signed, with reasons."""
    visit = factories.VisitFactory(
        nurse=cast.assigned_nurse,
        order=factories.OrderFactory(patient=cast.patient),
        status=Visit.Status.CHECKED_IN,
        planned_start=timezone.now() - timedelta(minutes=40),
    )
    check_in_row(visit, cast.assigned_nurse, at=timezone.now() - timedelta(minutes=40))
    take_vitals(visit, cast.assigned_nurse, at=timezone.now() - timedelta(minutes=30), phase=VitalSigns.Phase.BASELINE)
    check_out(visit, cast.assigned_nurse)
    missing = signoff_missing(visit=visit, now=timezone.now())
    assert [item.code for item in missing] == [INFUSION_ENDED, OBSERVATION]
    assert missing[0].text == "Infusion not started"
    reason = "Temperature 38.6 °C at arrival; prescriber said not to infuse today."
    signature = sign(visit, cast.assigned_nurse, waivers={INFUSION_ENDED: reason, OBSERVATION: reason})
    assert signature.waivers == {
        INFUSION_ENDED: {"item": "Infusion not started", "reason": reason},
        OBSERVATION: {"item": "Observation: starts when the end of the infusion is recorded", "reason": reason},
    }


@pytest.mark.parametrize(("first_infusion", "minutes"), [(True, 60), (False, 30)])
def test_observation_at_its_last_minute_is_missing_and_at_its_end_over(cast, first_infusion, minutes):
    visit = factories.infusing_visit(
        nurse_user=cast.assigned_nurse, patient=cast.patient, ended_minutes_ago=0, is_first_infusion=first_infusion
    )
    ends = visit.infusion.ended_at + timedelta(minutes=minutes)
    last_minute = ends - timedelta(minutes=1)
    assert text_of(visit, OBSERVATION, now=last_minute) == f"Observation: 1 min left, until {hhmm(ends, visit)}"
    assert OBSERVATION not in codes(visit, now=ends)


def test_observation_says_how_many_minutes_are_left(cast):
    visit = factories.infusing_visit(nurse_user=cast.assigned_nurse, patient=cast.patient, ended_minutes_ago=1)
    ends = visit.infusion.ended_at + timedelta(minutes=30)
    assert text_of(visit, OBSERVATION) == f"Observation: 29 min left, until {hhmm(ends, visit)}"


def test_observation_of_a_running_infusion_has_not_started(cast, running):
    assert text_of(running, OBSERVATION) == "Observation: starts when the end of the infusion is recorded"


def test_check_out_absent_is_missing_and_present_is_not(cast, ended):
    assert codes(ended) == [CHECK_OUT]
    assert text_of(ended, CHECK_OUT) == "Check-out not recorded"
    check_out(ended, cast.assigned_nurse)
    assert codes(ended) == []


def test_without_a_check_in_the_check_out_is_missing(cast):
    visit = factories.infusing_visit(nurse_user=cast.assigned_nurse, patient=cast.patient, ended_minutes_ago=45)
    take_owed_vitals(visit, cast.assigned_nurse)
    assert codes(visit) == [CHECK_OUT]


def test_a_check_out_after_the_moment_asked_about_does_not_count(cast, ended):
    verification = check_out(ended, cast.assigned_nurse)
    assert codes(ended, now=verification.checked_out_at - timedelta(minutes=1)) == [CHECK_OUT]


def test_a_missing_30_minute_set_is_named(cast, ended):
    check_out(ended, cast.assigned_nurse)
    VitalSigns.objects.filter(visit=ended, phase=VitalSigns.Phase.POST_30).delete()
    assert text_of(ended, VITALS) == "Vital signs missing: 30 min after the end"


def test_the_30_minute_set_is_missing_once_its_time_came(cast):
    """A later infusion that ended 30 min ago: the observation is over and its 30-minute set is due."""
    visit = factories.infusing_visit(nurse_user=cast.assigned_nurse, patient=cast.patient, ended_minutes_ago=0)
    over = visit.infusion.ended_at + timedelta(minutes=30)
    take_owed_vitals(visit, cast.assigned_nurse, now=over - timedelta(minutes=1))
    assert VITALS not in codes(visit, now=over - timedelta(minutes=1))
    assert text_of(visit, VITALS, now=over) == "Vital signs missing: 30 min after the end"


def test_missing_sets_are_named_in_order_with_their_deadlines(cast):
    visit = factories.infusing_visit(nurse_user=cast.assigned_nurse, patient=cast.patient, ended_minutes_ago=45)
    started = visit.infusion.started_at
    text = text_of(visit, VITALS)
    assert text.startswith("Vital signs missing: Baseline with SpO₂; Before raising to 84.0 mL/hr; ")
    assert f"While titrating by {hhmm(started + timedelta(minutes=15), visit)}" in text
    assert text.endswith("At the end of the infusion; 30 min after the end")


def test_the_60_minute_set_is_asked_for_after_a_first_infusion_only(cast):
    """It falls within the 60 min observation of a first infusion; after a later one the nurse has left."""
    later = factories.infusing_visit(nurse_user=cast.assigned_nurse, patient=cast.patient, ended_minutes_ago=90)
    first = factories.infusing_visit(
        nurse_user=cast.assigned_nurse, patient=cast.patient, ended_minutes_ago=90, is_first_infusion=True
    )
    for visit in (later, first):
        take_owed_vitals(visit, cast.assigned_nurse)
        VitalSigns.objects.filter(visit=visit, phase=VitalSigns.Phase.POST_60).delete()
    assert VITALS not in codes(later)
    assert text_of(first, VITALS) == "Vital signs missing: 60 min after the end"


def test_one_waiver_covers_every_missing_set(cast):
    visit = factories.infusing_visit(nurse_user=cast.assigned_nurse, patient=cast.patient, ended_minutes_ago=45)
    check_out(visit, cast.assigned_nurse)
    item = text_of(visit, VITALS)
    signature = sign(visit, cast.assigned_nurse, waivers={VITALS: "Cuff broke after the start; pulse by hand only."})
    assert signature.waivers == {VITALS: {"item": item, "reason": "Cuff broke after the start; pulse by hand only."}}


# --- signing with waivers ----------------------------------------------------------------------------------------

REASONS = {
    INFUSION_ENDED: "Pump failed; the rest of the bag was not given.",
    OBSERVATION: "Called away to an emergency at the next patient.",
    VITALS: "Patient asleep; not woken for the sets.",
    CHECK_OUT: "patient's home had no signal, left at 14:10",
}


def test_every_missing_item_waived_with_a_reason_signs_and_keeps_what_was_waived(cast, running):
    items = {item.code: item.text for item in signoff_missing(visit=running, now=timezone.now())}
    signature = sign(running, cast.assigned_nurse, waivers=dict(REASONS))
    running.refresh_from_db()
    assert running.status == Visit.Status.SIGNED
    signature.refresh_from_db()
    assert signature.waivers == {code: {"item": items[code], "reason": REASONS[code]} for code in SIGNOFF_ITEMS}


@pytest.mark.parametrize("code", SIGNOFF_ITEMS)
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_missing_item_without_a_reason_refuses_the_signature_and_writes_nothing(cast, running, code, reason):
    waivers = {**REASONS, code: reason}
    with pytest.raises(ValidationError) as refused:
        sign(running, cast.assigned_nurse, waivers=waivers)
    assert list(refused.value.message_dict) == [f"waiver_{code}"]
    assert refused.value.message_dict[f"waiver_{code}"] == [WAIVER_REFUSALS[code]]
    running.refresh_from_db()
    assert running.status == Visit.Status.INFUSING
    assert not VisitSignature.objects.exists()


def test_the_check_out_refusal_says_what_to_do(cast, ended):
    with pytest.raises(ValidationError) as refused:
        sign(ended, cast.assigned_nurse)
    assert refused.value.message_dict == {
        "waiver_check_out": ["Check-out is not recorded: check out first, or give the reason it is waived."]
    }


def test_reasons_for_items_that_are_not_missing_are_ignored(cast, ended):
    check_out(ended, cast.assigned_nurse)
    signature = sign(ended, cast.assigned_nurse, waivers=dict(REASONS))
    assert signature.waivers == {}


def test_a_waived_item_keeps_its_words_at_signing(cast, ended):
    signature = sign(ended, cast.assigned_nurse, waivers={CHECK_OUT: f"  {REASONS[CHECK_OUT]}  "})
    assert signature.waivers == {CHECK_OUT: {"item": "Check-out not recorded", "reason": REASONS[CHECK_OUT]}}


def test_a_reason_too_long_is_refused(cast, ended):
    with pytest.raises(ValidationError) as refused:
        sign(ended, cast.assigned_nurse, waivers={CHECK_OUT: "x" * 301})
    assert "300 characters" in refused.value.message_dict["waiver_check_out"][0]
    assert not VisitSignature.objects.exists()


def test_a_refusal_names_the_password_and_the_waivers_at_once(cast, ended):
    with pytest.raises(ValidationError) as refused:
        sign(ended, cast.assigned_nurse, password="wrong", note=" ")
    assert set(refused.value.message_dict) == {"note", "password", "waiver_check_out"}
    assert not VisitSignature.objects.exists()


def test_signing_at_a_given_moment_checks_that_moment(cast):
    """The observation ends at 30 min: refused a minute before, signed at that minute."""
    visit = factories.infusing_visit(nurse_user=cast.assigned_nurse, patient=cast.patient, ended_minutes_ago=0)
    ends = visit.infusion.ended_at + timedelta(minutes=30)
    take_vitals(visit, cast.assigned_nurse, at=ends, phase=VitalSigns.Phase.POST_30)
    finish_visit(visit, cast.assigned_nurse, now=ends - timedelta(minutes=1))
    with pytest.raises(ValidationError) as refused:
        sign(visit, cast.assigned_nurse, now=ends - timedelta(minutes=1))
    assert list(refused.value.message_dict) == ["waiver_observation"]
    signature = sign(visit, cast.assigned_nurse, now=ends)
    assert signature.signed_at == ends and signature.waivers == {}


# --- the sign-off section ----------------------------------------------------------------------------------------


def chart_page(client, visit) -> str:
    return client.get(reverse("visits:chart", args=[visit.pk])).content.decode()


def test_sign_off_lists_what_is_missing_with_a_link_and_a_waiver_field_each(cast, running):
    page = chart_page(client_for(cast.assigned_nurse), running)
    section = page[page.index('id="section-signoff"') :]
    assert section.index("Infusion not ended") < section.index("Check-out not recorded") < section.index("Nurse")
    for code, anchor in [
        (INFUSION_ENDED, "#section-infusion"),
        (OBSERVATION, "#observation"),
        (VITALS, "#section-vitals"),
        (CHECK_OUT, "#section-checkin"),
    ]:
        assert f'id="signoff-missing-{code}" href="{anchor}"' in section
        assert f'name="waiver_{code}"' in section
    assert section.count("Waive: reason") == 4
    assert "Ready to sign" not in section


def test_sign_off_says_ready_when_nothing_is_missing(cast, ended):
    verification = check_out(ended, cast.assigned_nurse)
    page = chart_page(client_for(cast.assigned_nurse), ended)
    ended_at, out = hhmm(ended.infusion.ended_at, ended), hhmm(verification.checked_out_at, ended)
    assert f"Ready to sign: infusion ended at {ended_at}, observation done, vitals taken, checked out at {out}." in page
    assert "Waive: reason" not in page


@pytest.mark.parametrize("headers", [HTMX, {}])
def test_a_refused_signature_answers_400_with_the_message_at_its_field(cast, ended, headers):
    response = client_for(cast.assigned_nurse).post(
        reverse("visits:sign", args=[ended.pk]),
        {"note": NOTE, "password": PASSWORD, "waiver_check_out": "  "},
        headers=headers,
    )
    assert response.status_code == 400
    html = response.content.decode()
    field = html[html.index('name="waiver_check_out"') :]
    assert "Check-out is not recorded: check out first, or give the reason it is waived." in field[:600]
    assert NOTE in html  # the note typed is kept
    ended.refresh_from_db()
    assert ended.status == Visit.Status.OBSERVING
    assert not VisitSignature.objects.exists()


def test_signed_with_a_waiver_prints_it_on_the_record_and_the_chart(cast, ended):
    nurse = client_for(cast.assigned_nurse)
    response = nurse.post(
        reverse("visits:sign", args=[ended.pk]),
        {"note": NOTE, "password": PASSWORD, "waiver_check_out": REASONS[CHECK_OUT]},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert VisitSignature.objects.get(visit=ended).waivers == {
        CHECK_OUT: {"item": "Check-out not recorded", "reason": REASONS[CHECK_OUT]}
    }
    printed = "Waived at signing: Check-out not recorded — reason: patient&#x27;s home had no signal, left at 14:10"
    record = client_for(cast.coordinator).get(reverse("visits:print", args=[ended.pk]))
    assert record.status_code == 200
    assert printed in record.content.decode()
    assert printed in chart_page(nurse, ended)


def test_a_signature_without_waivers_prints_none(cast, ended):
    check_out(ended, cast.assigned_nurse)
    sign(ended, cast.assigned_nurse)
    record = client_for(cast.coordinator).get(reverse("visits:print", args=[ended.pk])).content.decode()
    assert "Signed electronically by" in record
    assert "Waived at signing" not in record
