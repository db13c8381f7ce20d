"""Two tablets on one chart never overwrite each other (issue 4 item 9).

A versioned section (ChartSection) saved from a stale copy is refused with a message naming what changed, and the
first save stays. Rows that are only ever added (reactions) cannot overwrite anything; once-only entries (outcome
measures, the signature) let the first tablet win.
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from patients.services import ServiceError
from tests import factories
from tests.conftest import client_for
from tests.visits.chart.signoff.finishing import finish_visit
from visits.chart.rules import ChartLocked, StaleSection, section_save
from visits.chart.signoff.services import outcome_record, visit_sign
from visits.models import InfusionRecord, OutcomeMeasure, PreInfusionChecklist, Reaction, VisitSignature

HTMX = {"HX-Request": "true"}


@pytest.fixture
def visit(cast):
    order = factories.OrderFactory(patient=cast.patient)
    return factories.infusing_visit(nurse_user=cast.assigned_nurse, order=order, patient=cast.patient)


@pytest.fixture
def tablets(cast):
    """The same nurse signed in on two tablets."""
    return client_for(cast.assigned_nurse), client_for(cast.assigned_nurse)


# --- section_save itself -------------------------------------------------------------------------------------------


def test_a_stale_save_is_refused_naming_the_field_and_both_values(cast, visit):
    first = InfusionRecord.objects.get(visit=visit)
    second = InfusionRecord.objects.get(visit=visit)
    assert first.version == second.version == 1

    first.volume_infused_ml = Decimal("250.0")
    section_save(instance=first, expected_version=1, by=cast.assigned_nurse, changed_fields=["volume_infused_ml"])
    second.volume_infused_ml = Decimal("260.0")
    with pytest.raises(StaleSection) as refused:
        section_save(instance=second, expected_version=1, by=cast.assigned_nurse, changed_fields=["volume_infused_ml"])

    message = str(refused.value)
    assert "volume infused ml" in message
    assert "now “250.0”" in message and "you had “260.0”" in message
    assert cast.assigned_nurse.get_full_name() in message
    stored = InfusionRecord.objects.get(visit=visit)
    assert (stored.volume_infused_ml, stored.version) == (Decimal("250.0"), 2)


def test_a_fresh_copy_saves_after_a_refusal(cast, visit):
    first = InfusionRecord.objects.get(visit=visit)
    first.volume_infused_ml = Decimal("250.0")
    section_save(instance=first, expected_version=1, by=cast.assigned_nurse, changed_fields=["volume_infused_ml"])
    reloaded = InfusionRecord.objects.get(visit=visit)
    reloaded.volume_infused_ml = Decimal("260.0")
    section_save(
        instance=reloaded,
        expected_version=reloaded.version,
        by=cast.assigned_nurse,
        changed_fields=["volume_infused_ml"],
    )
    assert InfusionRecord.objects.get(visit=visit).volume_infused_ml == Decimal("260.0")


def test_a_stale_save_of_an_identical_value_is_still_refused(cast, visit):
    """The version, not the values, decides: the other tablet may have changed fields this one does not show."""
    first = InfusionRecord.objects.get(visit=visit)
    second = InfusionRecord.objects.get(visit=visit)
    first.volume_infused_ml = Decimal("250.0")
    section_save(instance=first, expected_version=1, by=cast.assigned_nurse, changed_fields=["volume_infused_ml"])
    second.volume_infused_ml = Decimal("250.0")
    with pytest.raises(StaleSection, match="no field differs from yours"):
        section_save(instance=second, expected_version=1, by=cast.assigned_nurse, changed_fields=["volume_infused_ml"])


def test_two_tablets_creating_the_same_section_keep_the_first(cast, visit):
    first = PreInfusionChecklist(visit=visit, identifiers_confirmed=True)
    second = PreInfusionChecklist(visit=visit, identifiers_confirmed=False)
    section_save(instance=first, expected_version=0, by=cast.assigned_nurse, changed_fields=["identifiers_confirmed"])
    with pytest.raises(StaleSection) as refused:
        section_save(
            instance=second, expected_version=0, by=cast.assigned_nurse, changed_fields=["identifiers_confirmed"]
        )
    assert "Two identifiers confirmed" in str(refused.value)
    assert "now “yes” (you had “no”)" in str(refused.value)
    assert PreInfusionChecklist.objects.get(visit=visit).identifiers_confirmed is True


def test_an_invalid_section_is_refused_before_any_write(cast, visit):
    record = InfusionRecord.objects.get(visit=visit)
    record.volume_infused_ml = Decimal("-5")
    with pytest.raises(ValidationError):
        section_save(instance=record, expected_version=1, by=cast.assigned_nurse, changed_fields=["volume_infused_ml"])
    assert InfusionRecord.objects.get(visit=visit).version == 1


# --- two tablets through the chart ---------------------------------------------------------------------------------


def checklist_version(html: str) -> str:
    form = html[html.index('id="checklist-form"') :]
    return re.search(r'<input[^>]*name="version"[^>]*value="(\d+)"', form).group(1)


def checklist_post(version: str, weight: str) -> dict:
    return {
        "version": version,
        "identifiers_confirmed": "on",
        "weight_value": weight,
        "weight_unit": "kg",
        "kit_epinephrine": "on",
        "kit_diphenhydramine": "on",
        "kit_saline": "on",
        "kit_expires_on": (timezone.localdate() + timedelta(days=90)).isoformat(),
        "no_fever_or_infection": "on",
    }


def test_the_later_save_of_a_changed_section_is_refused_and_the_first_stays(cast, visit, tablets):
    one, two = tablets
    chart = reverse("visits:chart", args=[visit.pk])
    url = reverse("visits:checklist_save", args=[visit.pk])
    version_one = checklist_version(one.get(chart).content.decode())
    version_two = checklist_version(two.get(chart).content.decode())
    assert version_one == version_two

    saved = one.post(url, checklist_post(version_one, "70.0"), headers=HTMX)
    assert saved.status_code == 200
    refused = two.post(url, checklist_post(version_two, "75.0"), headers=HTMX)

    assert refused.status_code == 409
    html = refused.content.decode()
    assert "Not saved" in html
    assert "Weight today (kg)" in html
    assert "70.0" in html and "75.0" in html
    assert PreInfusionChecklist.objects.get(visit=visit).weight_today_kg == Decimal("70.0")

    # The refused tablet now shows the saved section; saving from it works.
    fresh = checklist_version(html)
    assert fresh != version_two
    assert two.post(url, checklist_post(fresh, "75.0"), headers=HTMX).status_code == 200
    assert PreInfusionChecklist.objects.get(visit=visit).weight_today_kg == Decimal("75.0")


def test_reactions_from_two_tablets_are_both_kept(cast, visit, tablets):
    url = reverse("visits:reaction_add", args=[visit.pk])
    onset = timezone.localtime(timezone.now() - timedelta(minutes=5), cast.patient.zone).strftime("%Y-%m-%dT%H:%M")
    for tablet, symptom in zip(tablets, ["headache", "itching"], strict=True):
        data = {"onset_at": onset, "symptoms": [symptom], "grade": "1", "action": "continued"}
        assert tablet.post(url, data, headers=HTMX).status_code == 200
    assert sorted(reaction.symptoms[0] for reaction in Reaction.objects.all()) == ["headache", "itching"]


def test_outcome_measures_from_a_second_tablet_do_not_replace_the_first(cast, visit, tablets):
    one, two = tablets
    url = reverse("visits:outcome_add", args=[visit.pk])
    scores = {"mmt8": "120", "cdasi_activity": "20", "cdasi_damage": "4", "patient_global": "5"}
    assert one.post(url, scores, headers=HTMX).status_code == 200
    refused = two.post(url, {**scores, "mmt8": "99"}, headers=HTMX)
    assert refused.status_code == 400
    assert "once per cycle" in refused.content.decode()
    assert OutcomeMeasure.objects.get().mmt8 == 120


def test_outcome_service_keeps_the_first_of_two_tablets(cast, visit):
    values = {
        "visit": visit,
        "nurse": cast.assigned_nurse,
        "cdasi_activity": 20,
        "cdasi_damage": 4,
        "patient_global": 5,
    }
    outcome_record(mmt8=120, **values)
    with pytest.raises(ServiceError):
        outcome_record(mmt8=99, **values)
    assert OutcomeMeasure.objects.get().mmt8 == 120


def test_signing_from_a_second_tablet_after_the_first_is_refused(cast, tablets):
    visit = factories.infusing_visit(nurse_user=cast.assigned_nurse, patient=cast.patient, ended_minutes_ago=40)
    finish_visit(visit, cast.assigned_nurse)
    one, two = tablets
    url = reverse("visits:sign", args=[visit.pk])
    assert one.post(url, {"note": "From tablet one", "password": factories.PASSWORD}, headers=HTMX).status_code == 200
    refused = two.post(url, {"note": "From tablet two", "password": factories.PASSWORD}, headers=HTMX)
    assert refused.status_code == 409
    assert VisitSignature.objects.get().note == "From tablet one"
    with pytest.raises(ChartLocked):
        visit_sign(visit=visit, nurse=cast.assigned_nurse, note="Again", password=factories.PASSWORD)
