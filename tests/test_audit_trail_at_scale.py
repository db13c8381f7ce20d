"""The audit trail at agency size: a page of a search costs the same queries however long the history, and on
PostgreSQL the search by patient reads the expression index infusion_site's 0002 migration builds."""

import pytest
from auditlog.context import set_actor
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from infusion_site.audit import record_patient_accesses
from infusion_site.roles import make_privacy_officer
from patients.audit_trail import views
from patients.audit_trail.selectors import PAGE_SIZE, AuditSearch, audit_entries
from tests import factories
from tests.conftest import client_for


@pytest.fixture
def officer(cast):
    make_privacy_officer(cast.coordinator)
    return client_for(cast.coordinator)


def opened(patient, times: int, *, by) -> None:
    with set_actor(by, remote_addr="203.0.113.9"):
        for _ in range(times):
            record_patient_accesses([patient.pk])


def search(client, **criteria):
    return client.post(reverse("audit:search"), {"patient": "", "user": "", "since": "", "until": "", **criteria})


def test_a_page_of_a_patients_entries_costs_the_same_queries_for_a_long_history(cast, officer):
    search(officer, patient=cast.patient.mrn)

    def measure():
        with CaptureQueriesContext(connection) as queries:
            response = officer.get(reverse("audit:search"))
        assert response.status_code == 200
        return len(queries), response

    opened(cast.patient, 3, by=cast.assigned_nurse)
    opened(cast.other_patient, 3, by=cast.assigned_nurse)
    small_queries, small = measure()
    opened(cast.patient, 120, by=cast.unassigned_nurse)
    opened(cast.other_patient, 40, by=cast.assigned_nurse)
    large_queries, large = measure()

    assert small_queries == large_queries, f"{small_queries} queries for a short history, {large_queries} for 120"
    assert len(small.context["rows"]) < PAGE_SIZE
    assert len(large.context["rows"]) == PAGE_SIZE  # one page shown
    assert large.context["page"].paginator.num_pages > 2
    assert {row.patient for row in large.context["rows"]} == {cast.patient}
    assert "Page 1 of" in large.content.decode()


def test_a_wide_search_counts_only_so_far(cast, officer, monkeypatch):
    monkeypatch.setattr(views, "COUNTED_AT_MOST", 60)
    opened(cast.patient, 70, by=cast.assigned_nurse)
    search(officer, patient=cast.patient.mrn)
    response = officer.get(reverse("audit:search"))
    assert "More than 60 entries (narrow the dates to reach older ones)" in response.content.decode()
    assert response.context["page"].paginator.count == 61
    assert len(response.context["rows"]) == PAGE_SIZE


def test_the_patient_search_matches_the_id_exactly(cast):
    neighbour = factories.PatientFactory()
    asked = AuditSearch(patient_id=cast.patient.pk)
    before = audit_entries(search=asked).count()
    opened(cast.patient, 2, by=cast.assigned_nurse)
    opened(neighbour, 1, by=cast.assigned_nurse)
    found = audit_entries(search=asked)
    assert found.count() == before + 2
    assert {entry.additional_data["patient_id"] for entry in found} == {cast.patient.pk}


@pytest.mark.parametrize(
    ("criteria", "index"),
    [({"patient": True}, "audit_patient_time"), ({"user": True}, "audit_actor_name_time")],
    ids=["patient", "user"],
)
def test_the_search_reads_its_index_on_postgresql(cast, criteria, index):
    if connection.vendor != "postgresql":
        # The migration builds them on PostgreSQL only (auditlog's table, expression indexes): here it did nothing.
        with connection.cursor() as cursor:
            assert index not in connection.introspection.get_constraints(cursor, "auditlog_logentry")
        return
    opened(cast.patient, 5, by=cast.assigned_nurse)
    asked = AuditSearch(
        patient_id=cast.patient.pk if criteria.get("patient") else None,
        user_id=cast.assigned_nurse.pk if criteria.get("user") else None,
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a test table is tiny: ask whether the index can serve
        plan = audit_entries(search=asked)[:PAGE_SIZE].explain()
    assert index in plan, plan
