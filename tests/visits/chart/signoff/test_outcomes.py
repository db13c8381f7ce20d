"""Outcome measures once per cycle, and their chart on the patient's page (issue 4 item 10; DESIGN §2 ranges)."""

import json
import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patients.services import ServiceError
from tests import factories
from tests.conftest import client_for
from visits.chart.rules import ChartLocked
from visits.chart.signoff.services import outcome_record
from visits.models import OutcomeMeasure, Visit

HTMX = {"HX-Request": "true"}
GOOD = {"mmt8": 128, "cdasi_activity": 14, "cdasi_damage": 5, "patient_global": 4}


@pytest.fixture
def order(cast):
    return factories.OrderFactory(patient=cast.patient)


@pytest.fixture
def visit(cast, order):
    return factories.infusing_visit(nurse_user=cast.assigned_nurse, order=order, patient=cast.patient, cycle_number=2)


def record(visit, nurse, **overrides):
    return outcome_record(visit=visit, nurse=nurse, **{**GOOD, **overrides})


def outcome_url(visit) -> str:
    return reverse("visits:outcome_add", args=[visit.pk])


# --- the service ---------------------------------------------------------------------------------------------------


def test_outcome_measures_are_stored_with_the_visit_and_the_patients_date(cast, visit):
    measure = record(visit, cast.assigned_nurse)
    measure.refresh_from_db()
    assert (measure.mmt8, measure.cdasi_activity, measure.cdasi_damage, measure.patient_global) == (128, 14, 5, 4)
    assert measure.visit == visit and measure.patient == cast.patient
    assert measure.measured_on == timezone.localdate(timezone.now(), cast.patient.zone)
    assert measure.recorded_by == cast.assigned_nurse


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mmt8", 151),
        ("mmt8", -1),
        ("cdasi_activity", 101),
        ("cdasi_damage", 33),
        ("patient_global", 11),
        ("patient_global", -1),
    ],
)
def test_scores_outside_their_range_are_refused(cast, visit, field, value):
    with pytest.raises(ValidationError) as refused:
        record(visit, cast.assigned_nurse, **{field: value})
    assert field in refused.value.message_dict
    assert not OutcomeMeasure.objects.exists()


@pytest.mark.parametrize(
    "scores",
    [
        {"mmt8": 150, "cdasi_activity": 100, "cdasi_damage": 32, "patient_global": 10},
        {"mmt8": 0, "cdasi_activity": 0, "cdasi_damage": 0, "patient_global": 0},
    ],
)
def test_the_ends_of_each_range_are_accepted(cast, visit, scores):
    assert record(visit, cast.assigned_nurse, **scores).pk


def test_a_second_entry_in_the_same_cycle_is_refused(cast, visit, order):
    record(visit, cast.assigned_nurse)
    day_two = factories.infusing_visit(
        nurse_user=cast.assigned_nurse, order=order, patient=cast.patient, cycle_number=2, day_number=2
    )
    with pytest.raises(ServiceError, match="once per cycle"):
        record(day_two, cast.assigned_nurse, mmt8=130)
    with pytest.raises(ServiceError, match="once per cycle"):
        record(visit, cast.assigned_nurse, mmt8=131)
    assert list(OutcomeMeasure.objects.values_list("mmt8", flat=True)) == [128]


def test_the_next_cycle_takes_new_measures(cast, visit, order):
    record(visit, cast.assigned_nurse)
    next_cycle = factories.infusing_visit(
        nurse_user=cast.assigned_nurse, order=order, patient=cast.patient, cycle_number=3
    )
    record(next_cycle, cast.assigned_nurse, mmt8=134)
    assert OutcomeMeasure.objects.count() == 2


def test_the_same_cycle_number_of_another_order_is_another_cycle(cast, visit):
    record(visit, cast.assigned_nurse)
    other_order = factories.OrderFactory(patient=cast.patient)
    other = factories.infusing_visit(
        nurse_user=cast.assigned_nurse, order=other_order, patient=cast.patient, cycle_number=2
    )
    record(other, cast.assigned_nurse)
    assert OutcomeMeasure.objects.count() == 2


def test_only_the_visits_nurse_enters_outcome_measures(cast, visit):
    with pytest.raises(ServiceError):
        record(visit, cast.unassigned_nurse)
    assert not OutcomeMeasure.objects.exists()


def test_a_signed_chart_takes_no_outcome_measures(cast, visit):
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.SIGNED)
    visit.refresh_from_db()
    with pytest.raises(ChartLocked):
        record(visit, cast.assigned_nurse)


# --- the chart -----------------------------------------------------------------------------------------------------


def test_nurse_enters_outcome_measures_on_the_chart(cast, visit):
    response = client_for(cast.assigned_nurse).post(outcome_url(visit), GOOD, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "128 / 150" in html
    assert "once per cycle" in html
    assert "Save the outcome measures" not in html
    assert OutcomeMeasure.objects.get().visit == visit


def test_plain_post_of_outcome_measures_goes_back_to_the_section(cast, visit):
    response = client_for(cast.assigned_nurse).post(outcome_url(visit), GOOD)
    assert response.status_code == 302
    assert response["Location"].endswith("#section-outcomes")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("mmt8", "151", "MMT-8 runs from 0 to 150."),
        ("mmt8", "-3", "MMT-8 runs from 0 to 150."),
        ("mmt8", "", "Give the MMT-8 score."),
        ("mmt8", "strong", "MMT-8 is a whole number from 0 to 150."),
        ("mmt8", "12.5", "MMT-8 is a whole number from 0 to 150."),
        ("cdasi_activity", "101", "CDASI activity runs from 0 to 100."),
        ("cdasi_damage", "33", "CDASI damage runs from 0 to 32."),
        ("patient_global", "11", "Patient global runs from 0 to 10."),
        ("patient_global", "1e9", "Patient global is a whole number from 0 to 10."),
    ],
)
def test_bad_scores_give_a_field_message_and_change_nothing(cast, visit, field, value, message):
    response = client_for(cast.assigned_nurse).post(outcome_url(visit), {**GOOD, field: value}, headers=HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'id="outcome-' + field + '"' in html
    assert not OutcomeMeasure.objects.exists()


def test_second_entry_from_the_chart_says_it_was_already_entered(cast, visit, order):
    record(visit, cast.assigned_nurse)
    day_two = factories.infusing_visit(
        nurse_user=cast.assigned_nurse, order=order, patient=cast.patient, cycle_number=2, day_number=2
    )
    response = client_for(cast.assigned_nurse).post(outcome_url(day_two), {**GOOD, "mmt8": "99"}, headers=HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert "were already entered on" in html and "once per cycle" in html
    assert "128 / 150" in html  # the cycle's entry, shown instead of the form
    assert OutcomeMeasure.objects.count() == 1


# --- the patient's page --------------------------------------------------------------------------------------------


def add_measures(patient, count: int):
    for index in range(count):
        OutcomeMeasure.objects.create(
            patient=patient,
            measured_on=date(2026, 1, 5) + timedelta(weeks=4 * index),
            mmt8=110 + index,
            cdasi_activity=30 - index,
            cdasi_damage=6,
            patient_global=6 - index,
        )


def series_on(html: str) -> list[dict]:
    found = re.search(r'<script id="outcome-series" type="application/json">(.*?)</script>', html, re.S)
    assert found, "the patient page carries the outcome data for the chart"
    return json.loads(found.group(1))


def test_patient_page_charts_the_outcome_measures_over_time(cast):
    add_measures(cast.patient, 3)
    html = client_for(cast.coordinator).get(reverse("patients:detail", args=[cast.patient.pk])).content.decode()
    assert series_on(html) == [
        {"measured_on": "2026-01-05", "mmt8": 110, "cdasi_activity": 30, "cdasi_damage": 6, "patient_global": 6},
        {"measured_on": "2026-02-02", "mmt8": 111, "cdasi_activity": 29, "cdasi_damage": 6, "patient_global": 5},
        {"measured_on": "2026-03-02", "mmt8": 112, "cdasi_activity": 28, "cdasi_damage": 6, "patient_global": 4},
    ]
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert "cdn" not in html.lower()
    assert 'id="outcomes-mmt8"' in html


def test_patient_sees_their_own_outcome_chart(cast):
    add_measures(cast.patient, 1)
    html = client_for(cast.patient_user).get(reverse("patients:detail", args=[cast.patient.pk])).content.decode()
    assert len(series_on(html)) == 1


def test_patient_page_without_measures_says_so(cast):
    html = client_for(cast.coordinator).get(reverse("patients:detail", args=[cast.patient.pk])).content.decode()
    assert "No outcome measures yet" in html
    assert "outcome-series" not in html


def test_patient_page_queries_do_not_grow_with_outcome_measures(cast):
    client = client_for(cast.coordinator)
    url = reverse("patients:detail", args=[cast.patient.pk])
    add_measures(cast.patient, 1)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    add_measures(cast.patient, 6)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)
