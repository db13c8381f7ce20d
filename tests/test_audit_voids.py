"""Removing a chart row is a recorded void, never a delete: the vial stays, struck through with who and why, on
the chart and the print view; the tally leaves it out; a lot recall still finds it, marked voided."""

from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from patients.audit_trail.selectors import what_happened
from patients.services import ServiceError
from tests.conftest import client_for
from tests.factories import OrderFactory, VisitFactory
from visits.chart.checklist import services
from visits.models import VialUsed, Visit

HTMX = {"HTTP_HX_REQUEST": "true"}
G = 1000


@pytest.fixture
def visit(cast):
    """An Octagam 10% visit today with a day's dose of 20 g."""
    return VisitFactory(
        order=OrderFactory(patient=cast.patient),
        nurse=cast.assigned_nurse,
        planned_start=timezone.now(),
        status=Visit.Status.INFUSING,
        dose_mg=Decimal("20000"),
    )


def add(visit, lot="B1", size=10 * G):
    return services.vial_add(
        visit=visit,
        nurse=visit.nurse,
        product=visit.order.product,
        lot_number=lot,
        expires_on=services.patient_today(visit).replace(year=2100),
        size_mg=size,
    )


def take_back(client, visit, vial, reason="Entered twice", **extra):
    return client.post(
        reverse("visits:vial_remove", args=[visit.pk, vial.pk]), {f"void-{vial.pk}-reason": reason}, **extra
    )


def test_a_void_keeps_the_row_with_who_when_and_why(visit):
    vial = add(visit)
    services.vial_void(vial=vial, nurse=visit.nurse, reason="  Entered twice ")
    vial.refresh_from_db()
    assert vial.voided_by == visit.nurse
    assert vial.void_reason == "Entered twice"
    assert timezone.now() - vial.voided_at < timezone.timedelta(minutes=1)
    assert VialUsed.objects.filter(pk=vial.pk).exists()


def test_a_void_without_a_reason_is_refused_and_changes_nothing(visit):
    vial = add(visit)
    with pytest.raises(ValidationError) as refused:
        services.vial_void(vial=vial, nurse=visit.nurse, reason="   ")
    assert "reason" in refused.value.message_dict
    vial.refresh_from_db()
    assert vial.voided_at is None


def test_a_vial_is_voided_only_once(visit):
    vial = add(visit)
    services.vial_void(vial=vial, nurse=visit.nurse, reason="Wrong lot")
    with pytest.raises(ServiceError):
        services.vial_void(vial=vial, nurse=visit.nurse, reason="Again")
    vial.refresh_from_db()
    assert vial.void_reason == "Wrong lot"


def test_the_database_refuses_a_void_without_a_reason(visit):
    from django.db import IntegrityError, transaction

    vial = add(visit)
    with pytest.raises(IntegrityError), transaction.atomic():
        VialUsed.objects.filter(pk=vial.pk).update(voided_at=timezone.now(), void_reason="")


def test_the_tally_leaves_a_voided_vial_out(visit):
    kept, mistaken = add(visit, lot="KEEP", size=20 * G), add(visit, lot="MISTAKE", size=10 * G)
    assert services.vial_tally(visit=visit).total_mg == 30 * G
    services.vial_void(vial=mistaken, nurse=visit.nurse, reason="Entered twice")
    tally = services.vial_tally(visit=visit)
    assert tally.total_mg == 20 * G
    assert tally.matches
    assert [vial.pk for vial in tally.vials] == [kept.pk]


def test_the_form_asks_for_the_reason_next_to_the_field(visit, cast):
    vial = add(visit)
    response = take_back(client_for(cast.assigned_nurse), visit, vial, reason="", **HTMX)
    assert response.status_code == 400
    assert "Say why this vial is taken back" in response.content.decode()
    vial.refresh_from_db()
    assert vial.voided_at is None


def test_the_chart_shows_the_voided_vial_struck_through_with_its_reason(visit, cast):
    vial = add(visit, lot="LOTVOID")
    client = client_for(cast.assigned_nurse)
    response = take_back(client, visit, vial, reason="Wrong patient's vial", **HTMX)
    assert response.status_code == 200
    page = client.get(reverse("visits:chart", args=[visit.pk])).content.decode()
    assert f'<tr id="vial-{vial.pk}" class="row-voided">' in page
    assert "<del>LOTVOID</del>" in page
    assert "Wrong patient&#x27;s vial" in page
    # No second take-back button for a voided vial.
    assert f'action="{reverse("visits:vial_remove", args=[visit.pk, vial.pk])}"' not in page


def test_the_print_view_shows_the_void(visit, cast):
    vial = add(visit, lot="LOTPRINT")
    services.vial_void(vial=vial, nurse=visit.nurse, reason="Entered twice")
    page = client_for(cast.coordinator).get(reverse("visits:print", args=[visit.pk])).content.decode()
    assert "<del>LOTPRINT</del>" in page
    assert "Entered twice" in page


def test_a_recall_still_finds_a_voided_vial_marked_voided(visit, cast):
    vial = add(visit, lot="RECALLED")
    services.vial_void(vial=vial, nurse=visit.nurse, reason="Entered twice")
    page = client_for(cast.coordinator).get(reverse("visits:recall"), {"lot": "RECALLED"}).content.decode()
    assert f"recall-visit-{visit.pk}" in page
    assert "voided" in page


def test_the_void_is_an_audit_entry_read_as_voided(visit, cast):
    vial = add(visit)
    take_back(client_for(cast.assigned_nurse), visit, vial, reason="Entered twice", **HTMX)
    entry = LogEntry.objects.get_for_object(vial).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.actor == cast.assigned_nurse
    assert what_happened(entry) == "voided"
    assert entry.additional_data["patient_id"] == cast.patient.pk
    assert not LogEntry.objects.get_for_object(vial).filter(action=LogEntry.Action.DELETE).exists()
