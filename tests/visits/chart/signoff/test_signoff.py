"""Observation, the nurse's note, sign-off with the password and the lock, and addenda (issue 4 item 9).

What sign-off needs before it is allowed, and its waivers, are in test_signoff_missing.py; the visits here are
finished as a nurse finishes them (vitals on time, checked out, observation over) unless a test says otherwise.
"""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, reverse
from django.utils import timezone

from patients.services import ServiceError
from tests import factories
from tests.conftest import client_for
from tests.visits.chart.signoff.finishing import finish_visit
from visits.chart.rules import ChartLocked
from visits.chart.signoff.services import (
    addendum_add,
    observation_for,
    outcome_record,
    reaction_record,
    visit_sign,
)
from visits.models import Addendum, OutcomeMeasure, RateChange, Reaction, Visit, VisitSignature

PASSWORD = factories.PASSWORD
HTMX = {"HX-Request": "true"}


@pytest.fixture
def visit(cast):
    """An infusion that ended 45 minutes ago (a later infusion: 30 min observation, so it is over), its vitals
    taken and the nurse checked out: ready to sign."""
    order = factories.OrderFactory(patient=cast.patient)
    visit = factories.infusing_visit(
        nurse_user=cast.assigned_nurse, order=order, patient=cast.patient, ended_minutes_ago=45
    )
    return finish_visit(visit, cast.assigned_nurse)


def sign(visit, nurse, **overrides):
    values = {"visit": visit, "nurse": nurse, "note": "Tolerated well. No reaction.", "password": PASSWORD}
    values.update(overrides)
    return visit_sign(**values)


def chart_page(client, visit) -> str:
    return client.get(reverse("visits:chart", args=[visit.pk])).content.decode()


# --- observation ---------------------------------------------------------------------------------------------------


def test_observation_is_60_minutes_after_a_first_infusion_and_30_after_later_ones(cast, visit):
    ended = visit.infusion.ended_at
    assert observation_for(visit, visit.infusion).ends_at == ended + timedelta(minutes=30)
    visit.is_first_infusion = True
    assert observation_for(visit, visit.infusion).ends_at == ended + timedelta(minutes=60)


def test_observation_has_no_end_before_the_infusion_ends(cast):
    visit = factories.infusing_visit(nurse_user=cast.assigned_nurse, patient=cast.patient)
    observation = observation_for(visit, visit.infusion)
    assert observation.ends_at is None
    assert not observation.is_over(timezone.now())


def test_chart_shows_the_minutes_left_in_the_observation(cast):
    visit = factories.infusing_visit(
        nurse_user=cast.assigned_nurse, patient=cast.patient, ended_minutes_ago=10, is_first_infusion=True
    )
    page = chart_page(client_for(cast.assigned_nurse), visit)
    ends = timezone.localtime(visit.infusion.ended_at + timedelta(minutes=60), cast.patient.zone)
    assert "60 min after a first infusion" in page
    assert f"observe until <strong>{ends:%H:%M}</strong>" in page
    assert "50 min left" in page


def test_chart_shows_a_finished_observation(cast, visit):
    page = chart_page(client_for(cast.assigned_nurse), visit)
    assert "30 min after a later infusion" in page
    assert "observation ended at" in page


# --- signing -------------------------------------------------------------------------------------------------------


def test_signing_with_the_password_saves_the_note_and_locks_the_chart(cast, visit):
    signature = sign(visit, cast.assigned_nurse)
    visit.refresh_from_db()
    assert visit.status == Visit.Status.SIGNED
    assert signature.note == "Tolerated well. No reaction."
    assert signature.signed_by == cast.assigned_nurse


def test_wrong_password_does_not_sign(cast, visit):
    with pytest.raises(ValidationError) as refused:
        sign(visit, cast.assigned_nurse, password="not-my-password")
    assert "not your password" in refused.value.message_dict["password"][0]
    visit.refresh_from_db()
    assert visit.status == Visit.Status.OBSERVING
    assert not VisitSignature.objects.exists()


def test_another_users_password_does_not_sign(cast, visit):
    cast.unassigned_nurse.set_password("colleague-secret")
    cast.unassigned_nurse.save()
    with pytest.raises(ValidationError):
        sign(visit, cast.assigned_nurse, password="colleague-secret")
    assert not VisitSignature.objects.exists()


def test_the_note_is_required_to_sign(cast, visit):
    with pytest.raises(ValidationError) as refused:
        sign(visit, cast.assigned_nurse, note="   ")
    assert "note" in refused.value.message_dict
    assert not VisitSignature.objects.exists()


def test_signing_waits_for_the_end_of_the_infusion(cast):
    visit = finish_visit(factories.infusing_visit(nurse_user=cast.assigned_nurse, patient=cast.patient))
    with pytest.raises(ValidationError) as refused:
        sign(visit, cast.assigned_nurse)
    assert "end of the infusion is not recorded" in refused.value.message_dict["waiver_infusion_ended"][0]
    visit.refresh_from_db()
    assert visit.status == Visit.Status.INFUSING
    assert not VisitSignature.objects.exists()


def test_signing_during_the_observation_needs_a_reason(cast):
    visit = factories.infusing_visit(nurse_user=cast.assigned_nurse, patient=cast.patient, ended_minutes_ago=5)
    finish_visit(visit, cast.assigned_nurse)
    with pytest.raises(ValidationError) as refused:
        sign(visit, cast.assigned_nurse)
    assert set(refused.value.message_dict) == {"waiver_observation"}
    sign(visit, cast.assigned_nurse, waivers={"observation": "Called to an emergency at the next patient."})
    visit.refresh_from_db()
    assert visit.status == Visit.Status.SIGNED


def test_only_the_visits_nurse_signs(cast, visit):
    with pytest.raises(ServiceError):
        sign(visit, cast.unassigned_nurse)
    assert not VisitSignature.objects.exists()


def test_a_signed_chart_is_not_signed_twice(cast, visit):
    sign(visit, cast.assigned_nurse)
    with pytest.raises(ChartLocked):
        sign(visit, cast.assigned_nurse, note="Changed my mind")
    assert VisitSignature.objects.get().note == "Tolerated well. No reaction."


def test_signing_a_stale_copy_of_a_signed_visit_is_refused(cast, visit):
    """Two tablets: the second one still shows the visit unsigned; the row lock sees the truth."""
    stale = Visit.objects.get(pk=visit.pk)
    sign(visit, cast.assigned_nurse)
    with pytest.raises(ChartLocked):
        sign(stale, cast.assigned_nurse, note="From the other tablet")
    assert VisitSignature.objects.count() == 1


def test_signed_chart_refuses_reactions_and_outcomes(cast, visit):
    sign(visit, cast.assigned_nurse)
    with pytest.raises(ChartLocked):
        reaction_record(
            visit=visit,
            nurse=cast.assigned_nurse,
            onset_at=timezone.now(),
            symptoms=["headache"],
            grade=1,
            action=Reaction.Action.CONTINUED,
        )
    with pytest.raises(ChartLocked):
        outcome_record(
            visit=visit, nurse=cast.assigned_nurse, mmt8=120, cdasi_activity=10, cdasi_damage=3, patient_global=4
        )
    assert not Reaction.objects.exists() and not OutcomeMeasure.objects.exists()


# --- signing from the chart ----------------------------------------------------------------------------------------


def test_nurse_signs_from_the_chart(cast, visit):
    response = client_for(cast.assigned_nurse).post(
        reverse("visits:sign", args=[visit.pk]), {"note": "All well.", "password": PASSWORD}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Signed" in html and "All well." in html
    assert response["HX-Refresh"] == "true"  # every other section is locked now: the whole chart reloads
    visit.refresh_from_db()
    assert visit.status == Visit.Status.SIGNED


def test_wrong_password_on_the_chart_shows_a_field_message_and_keeps_the_note(cast, visit):
    response = client_for(cast.assigned_nurse).post(
        reverse("visits:sign", args=[visit.pk]), {"note": "Typed at length.", "password": "oops"}, headers=HTMX
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "That is not your password; nothing was signed." in html
    assert "Typed at length." in html
    assert "oops" not in html
    visit.refresh_from_db()
    assert visit.status == Visit.Status.OBSERVING


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"note": "", "password": PASSWORD}, "Write the nurse&#x27;s note before signing."),
        ({"note": "Fine", "password": ""}, "Type your password to sign."),
        ({}, "Write the nurse&#x27;s note before signing."),
    ],
)
def test_sign_form_without_note_or_password_changes_nothing(cast, visit, data, message):
    response = client_for(cast.assigned_nurse).post(reverse("visits:sign", args=[visit.pk]), data, headers=HTMX)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not VisitSignature.objects.exists()


def test_signing_before_the_infusion_ended_shows_why(cast):
    visit = finish_visit(factories.infusing_visit(nurse_user=cast.assigned_nurse, patient=cast.patient))
    response = client_for(cast.assigned_nurse).post(
        reverse("visits:sign", args=[visit.pk]), {"note": "Early", "password": PASSWORD}, headers=HTMX
    )
    assert response.status_code == 400
    assert (
        "The end of the infusion is not recorded: record it first, or give the reason it is waived."
        in response.content.decode()
    )
    assert not VisitSignature.objects.exists()


def test_signed_chart_refuses_a_reaction_with_409(cast, visit):
    sign(visit, cast.assigned_nurse)
    response = client_for(cast.assigned_nurse).post(
        reverse("visits:reaction_add", args=[visit.pk]),
        {"onset_at": "2026-01-01T10:00", "symptoms": ["headache"], "grade": "1", "action": "continued"},
        headers=HTMX,
    )
    assert response.status_code == 409
    assert "signed and locked" in response.content.decode()
    assert not Reaction.objects.exists()


@pytest.mark.parametrize("name", ["visits:outcome_add", "visits:sign"])
def test_signed_chart_refuses_my_other_sections_with_409(cast, visit, name):
    sign(visit, cast.assigned_nurse)
    response = client_for(cast.assigned_nurse).post(reverse(name, args=[visit.pk]), {}, headers=HTMX)
    assert response.status_code == 409
    assert "signed and locked" in response.content.decode()


def documenting_endpoints() -> list[str]:
    """Every visits: URL that takes a visit pk and writes to its chart (pages and addenda excepted)."""
    # Check-out is not an edit of the chart: it comes before signing, and is still allowed after it. Discarding an
    # entry the tablet could not send changes no record: an entry refused because the chart was signed is discarded.
    reads_or_addenda = {"chart", "print", "next", "addendum_add", "check_out", "outbox_discard"}
    resolver = get_resolver().namespace_dict["visits"][1]
    return sorted(
        f"visits:{pattern.name}"
        for pattern in resolver.url_patterns
        if pattern.name and set(pattern.pattern.regex.groupindex) == {"pk"} and pattern.name not in reads_or_addenda
    )


@pytest.mark.parametrize("name", documenting_endpoints())
def test_nobody_edits_a_signed_chart(cast, visit, name):
    sign(visit, cast.assigned_nurse)
    before = (RateChange.objects.count(), Reaction.objects.count(), visit.vitals.count())
    response = client_for(cast.assigned_nurse).post(reverse(name, args=[visit.pk]), {}, headers=HTMX)
    assert response.status_code == 409, f"{name}: {response.status_code}"
    assert (RateChange.objects.count(), Reaction.objects.count(), visit.vitals.count()) == before


def test_signed_chart_shows_no_forms_but_the_addendum(cast, visit):
    sign(visit, cast.assigned_nurse)
    page = chart_page(client_for(cast.assigned_nurse), visit)
    assert "Record the reaction" not in page
    assert "Sign and lock the chart" not in page
    assert "Save the outcome measures" not in page
    assert "Add the addendum" in page


# --- addenda -------------------------------------------------------------------------------------------------------


def test_addendum_before_signing_is_refused(cast, visit):
    with pytest.raises(ValidationError) as refused:
        addendum_add(visit=visit, author=cast.assigned_nurse, text="Forgot the lot")
    assert "sign first; edit the chart instead" in refused.value.message_dict["text"][0]
    assert not Addendum.objects.exists()


def test_addenda_after_signing_keep_author_time_and_order(cast, visit):
    sign(visit, cast.assigned_nurse)
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        first = addendum_add(visit=visit, author=cast.assigned_nurse, text="60-min vitals: all normal.")
    with time_machine.travel(timezone.now() + timedelta(hours=3), tick=False):
        second = addendum_add(visit=visit, author=cast.coordinator, text="Prescriber informed.")
    assert list(visit.addenda.all()) == [first, second]
    assert first.author == cast.assigned_nurse and second.author == cast.coordinator
    assert first.written_at < second.written_at
    assert VisitSignature.objects.get().note == "Tolerated well. No reaction."


def test_only_the_visits_nurse_or_a_coordinator_adds_an_addendum(cast, visit):
    sign(visit, cast.assigned_nurse)
    colleague = factories.nurse(username="nurse-colleague")
    factories.on_care_team(cast.patient, colleague)
    with pytest.raises(ServiceError):
        addendum_add(visit=visit, author=colleague, text="Not mine to add")
    response = client_for(colleague).post(reverse("visits:addendum_add", args=[visit.pk]), {"text": "Not mine"})
    assert response.status_code == 403
    assert not Addendum.objects.exists()


def test_empty_addendum_is_refused(cast, visit):
    sign(visit, cast.assigned_nurse)
    with pytest.raises(ValidationError):
        addendum_add(visit=visit, author=cast.assigned_nurse, text="  ")
    response = client_for(cast.assigned_nurse).post(
        reverse("visits:addendum_add", args=[visit.pk]), {"text": ""}, headers=HTMX
    )
    assert response.status_code == 400
    assert "Write the addendum." in response.content.decode()
    assert not Addendum.objects.exists()


def test_addendum_from_the_chart_before_signing_says_sign_first(cast, visit):
    response = client_for(cast.assigned_nurse).post(
        reverse("visits:addendum_add", args=[visit.pk]), {"text": "Late entry"}, headers=HTMX
    )
    assert response.status_code == 400
    assert "sign first; edit the chart instead" in response.content.decode()
    assert not Addendum.objects.exists()


def test_addenda_are_shown_in_order_on_the_chart(cast, visit):
    sign(visit, cast.assigned_nurse)
    nurse = client_for(cast.assigned_nurse)
    nurse.post(reverse("visits:addendum_add", args=[visit.pk]), {"text": "First correction"})
    response = client_for(cast.coordinator).post(
        reverse("visits:addendum_add", args=[visit.pk]), {"text": "Second, by the coordinator"}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("First correction") < html.index("Second, by the coordinator")
    assert cast.coordinator.get_full_name() in html


def test_chart_queries_do_not_grow_with_addenda(cast, visit):
    sign(visit, cast.assigned_nurse)
    client = client_for(cast.coordinator)
    url = reverse("visits:chart", args=[visit.pk])
    addendum_add(visit=visit, author=cast.assigned_nurse, text="One")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for number in range(4):
        addendum_add(visit=visit, author=cast.coordinator if number % 2 else cast.assigned_nurse, text=f"More {number}")
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)
