"""The patient page's visit history and labelled clinical flags; a new patient's time zone."""

import re
from datetime import timedelta

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patients.forms import PatientCreateForm
from patients.models import Patient
from tests import factories
from tests.conftest import client_for
from visits.models import Reaction, Visit


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def past_visits(patient, count, *, nurse=None, product="Octagam 10%"):
    order = factories.OrderFactory(patient=patient, product=factories.product(product))
    visits = []
    for days_ago in range(1, count + 1):
        visit = factories.VisitFactory(
            order=order,
            nurse=nurse,
            planned_start=timezone.now() - timedelta(days=days_ago),
            status=Visit.Status.SIGNED,
        )
        Reaction.objects.create(visit=visit, onset_at=visit.planned_start, grade=2, action="paused", symptoms=["rash"])
        visits.append(visit)
    return visits


def test_patient_page_lists_the_visit_history_with_therapy_nurse_status_reactions_and_charts(cast):
    visit = past_visits(cast.patient, 1, nurse=cast.assigned_nurse)[0]
    Reaction.objects.create(visit=visit, onset_at=visit.planned_start, is_delayed=True, symptoms=["headache"])
    response = client_for(cast.coordinator).get(reverse("patients:detail", args=[cast.patient.pk]))
    history = text(response).split("Visit history")[1]
    assert "Octagam 10%" in history and "Nora Fieldhouse" in history and "Signed" in history
    assert "2 reactions" in history and "worst grade 2" in history and "(1 delayed)" in history
    assert reverse("visits:chart", args=[visit.pk]) in response.content.decode()


def test_visit_history_dates_are_in_the_patients_zone(cast):
    # 2:30 UTC on a day is the evening before in Chicago (the factories' patient zone).
    order = factories.OrderFactory(patient=cast.patient)
    start = (timezone.now() - timedelta(days=3)).replace(hour=2, minute=30, second=0, microsecond=0)
    factories.VisitFactory(order=order, planned_start=start, status=Visit.Status.COMPLETED)
    page = text(client_for(cast.coordinator).get(reverse("patients:detail", args=[cast.patient.pk])))
    evening = start - timedelta(hours=6)  # CST; the test runs outside DST or one hour off either way
    assert f"{evening:%Y-%m-%d}" in page.split("Visit history")[1].split("Profile")[0]


def chart_links(response) -> int:
    section = response.content.decode().split('id="visit-history"')[1].split("</section>")[0]
    return len(re.findall(r'href="/visits/\d+/"', section))


def test_visit_history_shows_the_20_most_recent_and_links_to_all_of_them(cast):
    past_visits(cast.patient, 23)
    client = client_for(cast.coordinator)
    page = client.get(reverse("patients:detail", args=[cast.patient.pk]))
    words = text(page)
    assert "The 20 most recent of 23 visits" in words and "Show all 23 visits" in words
    assert chart_links(page) == 20
    everything = client.get(reverse("patients:visits", args=[cast.patient.pk]))
    assert everything.status_code == 200 and chart_links(everything) == 23


def test_future_visits_are_not_history_but_the_next_one_is_named(cast):
    past_visits(cast.patient, 1)
    order = factories.OrderFactory(patient=cast.patient)
    factories.VisitFactory(order=order, planned_start=timezone.now() + timedelta(days=5))
    page = text(client_for(cast.coordinator).get(reverse("patients:detail", args=[cast.patient.pk])))
    assert "Next visit:" in page and "(no nurse yet)" in page
    assert "1 visit up to today" in page


def test_a_patient_sees_their_history_without_chart_links(cast):
    past_visits(cast.patient, 2)
    response = client_for(cast.patient_user).get(reverse("patients:detail", args=[cast.patient.pk]))
    assert response.status_code == 200 and "Visit history" in text(response)
    assert chart_links(response) == 0


def test_the_visit_history_page_refuses_other_patients_and_unassigned_nurses(cast):
    url = reverse("patients:visits", args=[cast.patient.pk])
    assert client_for(cast.other_patient_user).get(url).status_code == 404
    assert client_for(cast.unassigned_nurse).get(url).status_code == 404
    assert client_for(cast.assigned_nurse).get(url).status_code == 200


def test_a_bad_page_number_of_the_visit_history_shows_a_page(cast):
    past_visits(cast.patient, 2)
    url = reverse("patients:visits", args=[cast.patient.pk])
    for page in ("abc", "99999999999999999999", "-1", "1\x00"):
        assert client_for(cast.coordinator).get(url, {"page": page}).status_code == 200


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_patient_page_and_visit_history_cost_the_same_queries_for_3_or_30_visits(cast):
    client = client_for(cast.coordinator)
    detail = reverse("patients:detail", args=[cast.patient.pk])
    everything = reverse("patients:visits", args=[cast.patient.pk])
    past_visits(cast.patient, 3, nurse=cast.assigned_nurse)
    factories.VisitFactory(order=factories.OrderFactory(patient=cast.patient), nurse=cast.assigned_nurse)
    client.get(detail)
    small = count_queries(client, detail), count_queries(client, everything)
    past_visits(cast.patient, 27, nurse=factories.nurse(), product="Privigen")
    large = count_queries(client, detail), count_queries(client, everything)
    assert cast.patient.visits.count() == 31
    assert small == large


def test_iga_flags_are_labelled(cast):
    page = text(client_for(cast.coordinator).get(reverse("patients:detail", args=[cast.patient.pk])))
    assert "IgA level: not tested · Anti-IgA antibodies: not tested" in page
    cast.patient.iga_status = Patient.IgAStatus.DEFICIENT
    cast.patient.anti_iga_antibodies = Patient.AntiIgA.ABSENT
    assert cast.patient.iga_summary == "IgA level: deficient · Anti-IgA antibodies: none found"


@override_settings(TIME_ZONE="America/Denver")
def test_a_new_patients_time_zone_is_the_agencys(db):
    form = PatientCreateForm()
    assert form["time_zone"].value() == "America/Denver"
    assert 'value="America/Denver" selected' in str(form["time_zone"])


@override_settings(TIME_ZONE="UTC")
def test_an_agency_zone_without_a_region_is_offered_and_chosen(db):
    form = PatientCreateForm()
    assert form["time_zone"].value() == "UTC" and 'value="UTC" selected' in str(form["time_zone"])


def test_the_registration_page_starts_at_the_agency_zone_not_the_first_in_the_list(cast):
    body = client_for(cast.coordinator).get(reverse("patients:create")).content.decode()
    assert 'value="America/New_York" selected' in body and 'value="Africa/Abidjan" selected' not in body
