"""The patient registry list: search, pagination, who sees whom, and flat query counts.

The search is a POST whose query the session holds: GET shows the held query's results and no address carries it.
"""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.conftest import client_for

LIST_URL = reverse("patients:list")


def listed_mrns(response) -> set[str]:
    assert response.status_code == 200
    return {patient.mrn for patient in response.context["page"].object_list}


@pytest.fixture
def registry(cast):
    """Three patients with names no faker name contains, plus the cast's two."""
    return {
        "zebulon": factories.PatientFactory(
            mrn="QX-1001", first_name="Zebulon", last_name="Quixley", date_of_birth=date(1962, 11, 3)
        ),
        "zelda": factories.PatientFactory(
            mrn="QX-1002", first_name="Zelda", last_name="Quixley", date_of_birth=date(1988, 1, 30)
        ),
        "marigold": factories.PatientFactory(
            mrn="TW-2001", first_name="Marigold", last_name="Thistlewood", date_of_birth=date(1962, 11, 4)
        ),
    }


def search(cast, query, user=None, client=None):
    """Search as the registry's form does: POST the query, follow the redirect to the plain list."""
    client = client or client_for(user or cast.coordinator)
    posted = client.post(LIST_URL, {"q": query})
    assert posted.status_code == 302
    assert posted["Location"] == LIST_URL  # the query is not in the address it sends the browser to
    return client.get(LIST_URL)


def test_search_by_part_of_a_last_name_finds_everyone_with_it(cast, registry):
    assert listed_mrns(search(cast, "quix")) == {"QX-1001", "QX-1002"}


def test_search_by_part_of_a_first_name(cast, registry):
    assert listed_mrns(search(cast, "marig")) == {"TW-2001"}


def test_search_by_two_words_needs_both_to_match(cast, registry):
    assert listed_mrns(search(cast, "zelda quixley")) == {"QX-1002"}
    assert listed_mrns(search(cast, "Quixley Zeb")) == {"QX-1001"}
    assert listed_mrns(search(cast, "Zelda Thistlewood")) == set()


def test_search_by_mrn_ignores_case(cast, registry):
    assert listed_mrns(search(cast, "tw-2001")) == {"TW-2001"}
    assert listed_mrns(search(cast, "QX-1002")) == {"QX-1002"}


def test_search_by_mrn_is_exact_not_a_prefix(cast, registry):
    assert listed_mrns(search(cast, "QX-100")) == set()


def test_search_by_iso_date_of_birth(cast, registry):
    assert listed_mrns(search(cast, "1962-11-03")) == {"QX-1001"}


def test_search_by_us_date_of_birth(cast, registry):
    assert listed_mrns(search(cast, "11/04/1962")) == {"TW-2001"}
    assert listed_mrns(search(cast, "1/30/1988")) == {"QX-1002"}


def test_search_without_match_says_so(cast, registry):
    response = search(cast, "Nobodyhere")
    assert listed_mrns(response) == set()
    assert "No patient matches" in response.content.decode()


def test_empty_search_lists_everyone_visible(cast, registry):
    assert listed_mrns(search(cast, "")) == {
        cast.patient.mrn,
        cast.other_patient.mrn,
        "QX-1001",
        "QX-1002",
        "TW-2001",
    }


def test_registry_shows_25_patients_a_page(cast):
    factories.PatientFactory.create_batch(28)  # 30 with the cast's two
    client = client_for(cast.coordinator)

    first = client.get(LIST_URL)
    second = client.get(LIST_URL, {"page": 2})

    assert first.context["page"].paginator.count == 30
    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 5
    assert listed_mrns(first).isdisjoint(listed_mrns(second))
    assert "Page 2 of 2" in second.content.decode()


def test_search_results_are_paginated_and_keep_the_query(cast):
    factories.PatientFactory.create_batch(27, last_name="Pemberton-Vale")
    client = client_for(cast.coordinator)
    search(cast, "pemberton", client=client)
    response = client.get(LIST_URL, {"page": 2})

    assert len(response.context["page"].object_list) == 2
    page = response.content.decode()
    assert 'href="?page=1"' in page  # paging links carry the page number only
    assert "q=" not in page


def test_search_query_never_appears_in_an_address(cast, registry):
    client = client_for(cast.coordinator)
    response = search(cast, "1962-11-03", client=client)

    assert listed_mrns(response) == {"QX-1001"}
    assert response.request["QUERY_STRING"] == ""
    page = response.content.decode()
    assert "?q=" not in page and "q=1962" not in page
    # The field shows the held query, so the coordinator sees what the list is filtered by.
    assert 'value="1962-11-03"' in page


def test_a_query_in_the_address_is_ignored(cast, registry):
    """Old bookmarks with ?q= show the held query's results, not a search from the address."""
    response = client_for(cast.coordinator).get(LIST_URL, {"q": "quixley"})
    assert len(listed_mrns(response)) == 5


def test_clear_forgets_the_held_query(cast, registry):
    client = client_for(cast.coordinator)
    search(cast, "quixley", client=client)

    cleared = client.post(LIST_URL, {"q": "quixley", "clear": "1"})

    assert cleared.status_code == 302
    assert len(listed_mrns(client.get(LIST_URL))) == 5
    assert "patients_registry_query" not in client.session


def test_held_query_belongs_to_its_own_session(cast, registry):
    search(cast, "quixley")
    assert len(listed_mrns(client_for(cast.coordinator).get(LIST_URL))) == 5


def test_too_long_query_is_refused_next_to_the_field_and_keeps_the_held_one(cast, registry):
    client = client_for(cast.coordinator)
    search(cast, "quixley", client=client)

    response = client.post(LIST_URL, {"q": "x" * 101})

    assert response.status_code == 400
    assert "at most 100 characters" in response.content.decode()
    assert {patient.mrn for patient in response.context["page"].object_list} == {"QX-1001", "QX-1002"}
    assert client.session["patients_registry_query"] == "quixley"


def test_nurse_sees_only_patients_on_their_care_team(cast, registry):
    factories.on_care_team(registry["zelda"], cast.assigned_nurse)

    assert listed_mrns(client_for(cast.assigned_nurse).get(LIST_URL)) == {cast.patient.mrn, "QX-1002"}
    assert listed_mrns(client_for(cast.unassigned_nurse).get(LIST_URL)) == set()


def test_nurse_search_stays_inside_their_care_team(cast, registry):
    assert listed_mrns(search(cast, "quixley", user=cast.assigned_nurse)) == set()
    assert listed_mrns(search(cast, cast.other_patient.mrn, user=cast.assigned_nurse)) == set()
    assert listed_mrns(search(cast, cast.patient.mrn, user=cast.assigned_nurse)) == {cast.patient.mrn}


def test_patients_cannot_open_the_registry(cast):
    assert client_for(cast.patient_user).get(LIST_URL).status_code == 403


def test_list_shows_latest_weight_and_care_team(cast):
    factories.WeightFactory(
        patient=cast.patient, measured_on=timezone.localdate() - timedelta(days=1), weight_kg="68.4"
    )
    response = search(cast, cast.patient.mrn)
    page = response.content.decode()

    assert "68.4 kg" in page  # one decimal, as stored, on every database
    nurse = cast.assigned_nurse
    assert (nurse.get_full_name() or nurse.username) in page


# --- Query counts stay flat as data grows -----------------------------------------


def add_patients_with_history(count: int, nurses) -> None:
    for patient in factories.PatientFactory.create_batch(count):
        for days_ago in (3, 40, 90):
            factories.WeightFactory(patient=patient, measured_on=timezone.localdate() - timedelta(days=days_ago))
        for nurse in nurses:
            factories.on_care_team(patient, nurse)


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_registry_list_query_count_does_not_grow_with_patients(cast):
    nurses = [cast.assigned_nurse, cast.unassigned_nurse]
    client = client_for(cast.coordinator)
    add_patients_with_history(1, nurses)  # 3 patients with the cast
    client.get(LIST_URL)  # warm per-process caches (content types, sessions)

    small = count_queries(client, LIST_URL)
    add_patients_with_history(27, nurses)  # 30 patients
    large = count_queries(client, LIST_URL)

    assert small == large


def test_nurse_list_query_count_does_not_grow_with_patients(cast):
    nurse = cast.assigned_nurse
    client = client_for(nurse)
    add_patients_with_history(2, [nurse])
    client.get(LIST_URL)

    small = count_queries(client, LIST_URL)
    add_patients_with_history(20, [nurse, cast.unassigned_nurse])
    large = count_queries(client, LIST_URL)

    assert small == large


def test_patient_page_query_count_does_not_grow_with_records(cast):
    patient = cast.patient
    url = reverse("patients:detail", args=[patient.pk])
    client = client_for(cast.coordinator)
    client.get(url)

    small = count_queries(client, url)
    for days_ago in range(10, 200, 10):
        factories.WeightFactory(patient=patient, measured_on=timezone.localdate() - timedelta(days=days_ago))
        factories.CreatinineFactory(patient=patient, collected_on=timezone.localdate() - timedelta(days=days_ago))
        factories.AuthorizationFactory(
            patient=patient,
            valid_from=timezone.localdate() - timedelta(days=days_ago + 30),
            valid_to=timezone.localdate() + timedelta(days=days_ago),
        )
    for code in ("M33.10", "M33.12", "D83.9", "E11.9"):
        factories.DiagnosisFactory(patient=patient, icd10_code=code, is_primary=code == "M33.10")
    for _ in range(4):
        factories.on_care_team(patient, factories.nurse())
    large = count_queries(client, url)

    assert patient.weights.count() == 20
    assert small == large


def test_nurse_patient_page_query_count_does_not_grow_with_records(cast):
    patient = cast.patient
    url = reverse("patients:detail", args=[patient.pk])
    client = client_for(cast.assigned_nurse)
    client.get(url)

    small = count_queries(client, url)
    for days_ago in range(10, 100, 10):
        factories.WeightFactory(patient=patient, measured_on=timezone.localdate() - timedelta(days=days_ago))
        factories.CreatinineFactory(patient=patient, collected_on=timezone.localdate() - timedelta(days=days_ago))
    large = count_queries(client, url)

    assert small == large
