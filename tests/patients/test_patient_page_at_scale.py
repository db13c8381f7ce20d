"""The patient page at agency scale: each list that grows with the patient's time in care shows its latest rows and
links to the rest, and the page costs the same queries for a short or a long history, whatever other patients hold."""

import itertools
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patients.models import Diagnosis, LabResult, PriorAuthorization, Team, WeightMeasurement
from patients.selectors import RECENT_RECORDS
from tests import factories
from tests.conftest import client_for
from visits.models import AlertHandling, InfusionRecord, OutcomeMeasure, Reaction, Visit, VitalSigns

SERIAL = itertools.count()  # authorization numbers and alert keys are unique across calls


def history(patient, count: int, *, nurse, handled_by) -> None:
    """``count`` rows in every growing list of ``patient``: the n-th weight, lab, outcome and visit n weeks ago."""
    today = timezone.localdate()
    WeightMeasurement.objects.bulk_create(
        WeightMeasurement(patient=patient, measured_on=today - timedelta(weeks=n), weight_kg=Decimal(60 + n % 30))
        for n in range(count)
    )
    LabResult.objects.bulk_create(
        LabResult(patient=patient, collected_on=today - timedelta(weeks=n), value=Decimal("0.90")) for n in range(count)
    )
    PriorAuthorization.objects.bulk_create(
        PriorAuthorization(
            patient=patient,
            payer="Blue Cross",
            number=f"PA-{next(SERIAL)}",
            valid_from=today - timedelta(days=180 * (n + 1)),
            valid_to=today - timedelta(days=180 * n - 30),
            visits_authorized=24,
        )
        for n in range(count)
    )
    Diagnosis.objects.bulk_create(
        Diagnosis(patient=patient, icd10_code=f"M33.{next(SERIAL)}", description="Dermatomyositis")
        for _ in range(count)
    )
    OutcomeMeasure.objects.bulk_create(
        OutcomeMeasure(
            patient=patient,
            measured_on=today - timedelta(weeks=4 * n),
            mmt8=100 + n % 50,
            cdasi_activity=10,
            cdasi_damage=3,
            patient_global=4,
        )
        for n in range(count)
    )
    AlertHandling.objects.bulk_create(
        AlertHandling(
            key=f"handled-{next(SERIAL)}",
            kind="flagged_vitals",
            state=AlertHandling.State.RESOLVED,
            patient=patient,
            title=f"Alert {n}",
            resolved_at=timezone.now() - timedelta(days=n),
            resolved_by=handled_by,
            note="Called the patient.",
        )
        for n in range(count)
    )
    order = factories.OrderFactory(patient=patient, start_date=today - timedelta(weeks=count + 1))
    for _ in range(count - 1):
        factories.OrderFactory(patient=patient)
    visits = Visit.objects.bulk_create(
        Visit(
            patient=patient,
            order=order,
            nurse=nurse,
            cycle_number=n + 1,
            day_number=1,
            planned_start=timezone.now() - timedelta(weeks=n, days=1),
            planned_minutes=240,
            status=Visit.Status.SIGNED,
        )
        for n in range(count)
    )
    InfusionRecord.objects.bulk_create(
        InfusionRecord(visit=visit, started_at=visit.planned_start + timedelta(minutes=30)) for visit in visits
    )
    VitalSigns.objects.bulk_create(
        VitalSigns(
            visit=visit,
            taken_at=visit.planned_start + timedelta(minutes=minutes),
            phase=phase,
            temperature_c=Decimal("36.8"),
            pulse=76,
            systolic=120,
            diastolic=78,
            respiratory_rate=16,
            spo2=97,
        )
        for visit in visits
        for minutes, phase in ((10, "baseline"), (60, "titration"), (120, "end"))
    )
    Reaction.objects.bulk_create(
        Reaction(visit=visit, onset_at=visit.planned_start, grade=1, action="continued", symptoms=["rash"])
        for visit in visits[::5]
    )


def queries_for(client, url) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def section(page: str, element_id: str) -> str:
    return page.split(f'id="{element_id}"')[1].split("</section>")[0]


@pytest.mark.parametrize("role", ["coordinator", "assigned_nurse", "patient_user"])
def test_the_patient_page_costs_the_same_queries_for_2_or_40_rows_of_every_list(cast, role):
    client = client_for(cast.user(role))
    url = reverse("patients:detail", args=[cast.patient.pk])
    history(cast.patient, 2, nurse=cast.assigned_nurse, handled_by=cast.coordinator)
    client.get(url)
    small, _ = queries_for(client, url)

    history(cast.patient, 38, nurse=cast.assigned_nurse, handled_by=cast.coordinator)
    history(cast.other_patient, 40, nurse=cast.unassigned_nurse, handled_by=cast.coordinator)
    large, page = queries_for(client, url)

    assert WeightMeasurement.objects.filter(patient=cast.patient).count() == 41  # the cast's own weight too
    assert large == small
    assert "Show all 41" in section(page, "weights")


def test_each_list_shows_its_latest_rows_and_links_to_all_of_them(cast):
    history(cast.patient, 40, nurse=cast.assigned_nurse, handled_by=cast.coordinator)
    history(cast.other_patient, 40, nurse=cast.unassigned_nurse, handled_by=cast.coordinator)
    page = client_for(cast.coordinator).get(reverse("patients:detail", args=[cast.patient.pk])).content.decode()

    weights = section(page, "weights")
    dates = re.findall(r"<td>(\d{4}-\d{2}-\d{2})</td>", weights)
    assert len(dates) == RECENT_RECORDS and dates == sorted(dates, reverse=True)
    assert dates[0] == f"{timezone.localdate():%Y-%m-%d}"
    for key, total in (("weights", 41), ("creatinine", 40), ("authorizations", 40), ("diagnoses", 40)):
        link = reverse("patients:records", args=[cast.patient.pk, key])
        assert f'href="{link}">Show all {total}</a>' in section(page, key)
    assert len(re.findall(r"data-alert-key=", page)) == RECENT_RECORDS
    assert len(re.findall(r'href="/orders/\d+/"', section(page, "orders"))) == RECENT_RECORDS
    assert f'{reverse("patients:records", args=[cast.patient.pk, "orders"])}">Show all 40' in page
    outcomes = section(page, "outcomes")
    assert outcomes.count("<tr><td>") == 40  # the chart keeps about three years of cycles
    assert len(re.findall(r'href="/visits/\d+/"', section(page, "visit-history"))) == 20


def test_the_outcome_chart_reads_oldest_first_while_the_table_is_latest_first(cast):
    history(cast.patient, 3, nurse=cast.assigned_nurse, handled_by=cast.coordinator)
    response = client_for(cast.coordinator).get(reverse("patients:detail", args=[cast.patient.pk]))
    page = response.content.decode()
    series = re.search(r'id="outcome-series"[^>]*>(.*?)</script>', page).group(1)
    chart_dates = re.findall(r"\d{4}-\d{2}-\d{2}", series)
    table_dates = re.findall(r"<tr><td>(\d{4}-\d{2}-\d{2})</td>", section(page, "outcomes"))
    assert chart_dates == sorted(chart_dates) and table_dates == sorted(table_dates, reverse=True)
    assert len(chart_dates) == len(table_dates) == 3


def test_a_list_page_shows_every_row_latest_first_in_pages(cast):
    history(cast.patient, 60, nurse=cast.assigned_nurse, handled_by=cast.coordinator)
    client = client_for(cast.assigned_nurse)
    url = reverse("patients:records", args=[cast.patient.pk, "creatinine"])
    first = client.get(url).content.decode()
    second = client.get(url, {"page": 2}).content.decode()
    first_dates = re.findall(r"<td>(\d{4}-\d{2}-\d{2})</td>", first)
    second_dates = re.findall(r"<td>(\d{4}-\d{2}-\d{2})</td>", second)
    assert (len(first_dates), len(second_dates)) == (50, 10)
    assert first_dates + second_dates == sorted(first_dates + second_dates, reverse=True)
    assert "60 in all" in first and "Page 1 of 2" in first


def test_a_list_page_costs_the_same_queries_for_2_or_60_rows(cast):
    client = client_for(cast.coordinator)
    url = reverse("patients:records", args=[cast.patient.pk, "alerts"])
    history(cast.patient, 2, nurse=cast.assigned_nurse, handled_by=cast.coordinator)
    client.get(url)
    small, _ = queries_for(client, url)
    history(cast.patient, 58, nurse=cast.assigned_nurse, handled_by=cast.coordinator)
    large, page = queries_for(client, url)
    assert large == small and page.count("data-alert-key=") == 50


def test_the_alerts_handled_are_staff_work_and_an_unknown_list_is_not_found(cast):
    history(cast.patient, 2, nurse=cast.assigned_nurse, handled_by=cast.coordinator)
    alerts = reverse("patients:records", args=[cast.patient.pk, "alerts"])
    assert client_for(cast.patient_user).get(alerts).status_code == 404
    assert client_for(cast.assigned_nurse).get(alerts).status_code == 200
    assert client_for(cast.unassigned_nurse).get(alerts).status_code == 404
    nowhere = reverse("patients:records", args=[cast.patient.pk, "audit"])
    assert client_for(cast.coordinator).get(nowhere).status_code == 404


def test_a_bad_page_number_of_a_list_page_shows_a_page(cast):
    history(cast.patient, 2, nurse=cast.assigned_nurse, handled_by=cast.coordinator)
    url = reverse("patients:records", args=[cast.patient.pk, "weights"])
    for page in ("abc", "99999999999999999999", "-1", "1\x00", "9999-12-31"):
        response = client_for(cast.coordinator).get(url, {"page": page})
        assert response.status_code == 200 and "kg" in response.content.decode()


def test_the_care_team_choice_offers_the_patients_team_not_the_agency(cast):
    team = Team.objects.create(name="North")
    cast.patient.team = team
    cast.patient.save()
    on_team = factories.nurse(username="nurse-north", first_name="Nadia", last_name="Northcott")
    team.members.add(on_team)
    factories.nurse(username="nurse-south", first_name="Sven", last_name="Southgate")
    page = client_for(cast.coordinator).get(reverse("patients:detail", args=[cast.patient.pk])).content.decode()
    care_team = section(page, "care-team")
    assert "Nadia Northcott" in care_team and "Sven Southgate" not in care_team
