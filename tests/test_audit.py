"""The audit trail: every change to patient data and every opening of a record leaves one entry."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.db import transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from infusion_site.admin import ReadOnlyLogEntryAdmin
from infusion_site.audit import AuditEntryImmutable
from patients.models import LabResult, Patient
from tests import factories
from tests.conftest import client_for

ACCESS, CREATE, UPDATE, DELETE = (
    LogEntry.Action.ACCESS,
    LogEntry.Action.CREATE,
    LogEntry.Action.UPDATE,
    LogEntry.Action.DELETE,
)


def entries(instance, action):
    return LogEntry.objects.get_for_object(instance).filter(action=action)


def registration() -> dict:
    return {
        "mrn": "AUD-1",
        "first_name": "Audra",
        "last_name": "Ledger",
        "date_of_birth": "1970-01-02",
        "sex": "F",
        "address_line1": "1 Main Street",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
        "time_zone": "America/Chicago",
        "height_value": "160",
        "height_unit": "cm",
        "weight_value": "60",
        "weight_unit": "kg",
        "weight_measured_on": timezone.localdate().isoformat(),
        "iga_status": "unknown",
        "anti_iga_antibodies": "unknown",
        "prescriber_name": "Dr. Priya Raman",
        "diagnosis_code": "M33.10",
        "diagnosis_description": "Dermatomyositis",
    }


def test_registering_a_patient_is_audited_with_who_and_from_where(cast):
    response = client_for(cast.coordinator).post(reverse("patients:create"), registration(), REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 302
    patient = Patient.objects.get(mrn="AUD-1")

    created = entries(patient, CREATE).get()
    assert created.actor == cast.coordinator
    assert created.remote_addr == "203.0.113.7"
    assert timezone.now() - created.timestamp < timedelta(minutes=1)
    assert created.timestamp.utcoffset() == timedelta(0)
    for record in (patient.weights.get(), patient.diagnoses.get()):
        entry = entries(record, CREATE).get()
        assert (entry.actor, entry.remote_addr) == (cast.coordinator, "203.0.113.7")


def test_registration_that_is_refused_leaves_no_entry(cast):
    # Only patient data counts: signing in may record the staff member's device (infusion_site.devices).
    changes = LogEntry.objects.exclude(action=ACCESS).filter(content_type__app_label__in=["patients", "visits"])
    before = changes.count()
    response = client_for(cast.coordinator).post(reverse("patients:create"), {**registration(), "height_value": "999"})
    assert response.status_code == 200
    assert changes.count() == before


def test_each_opening_of_a_patient_page_writes_one_access_entry(cast):
    url = reverse("patients:detail", args=[cast.patient.pk])
    client = client_for(cast.assigned_nurse)
    before = entries(cast.patient, ACCESS).count()

    client.get(url)
    assert entries(cast.patient, ACCESS).count() == before + 1
    client.get(url)
    assert entries(cast.patient, ACCESS).count() == before + 2

    latest = entries(cast.patient, ACCESS).latest("timestamp")
    assert (latest.actor, latest.remote_addr) == (cast.assigned_nurse, "127.0.0.1")
    assert not entries(cast.other_patient, ACCESS).exists()


def test_a_refused_opening_writes_no_access_entry(cast):
    response = client_for(cast.unassigned_nurse).get(reverse("patients:detail", args=[cast.patient.pk]))
    assert response.status_code == 404
    assert not entries(cast.patient, ACCESS).exists()


def test_patient_opening_their_portal_is_audited(cast):
    response = client_for(cast.patient_user).get(reverse("portal:home"))
    assert response.status_code == 200
    assert entries(cast.patient, ACCESS).get().actor == cast.patient_user


def test_editing_a_patient_writes_one_update_entry(cast):
    patient = cast.patient
    before = entries(patient, UPDATE).count()
    data = {
        **registration(),
        "mrn": patient.mrn,
        "first_name": "Changed",
        "last_name": patient.last_name,
        "latitude": str(patient.latitude),
        "longitude": str(patient.longitude),
    }
    response = client_for(cast.coordinator).post(reverse("patients:edit", args=[patient.pk]), data)
    assert response.status_code == 302

    assert entries(patient, UPDATE).count() == before + 1
    update = entries(patient, UPDATE).latest("timestamp")
    assert update.actor == cast.coordinator
    assert update.changes_dict["first_name"][1] == "Changed"


def test_adding_and_removing_records_is_audited(cast):
    client = client_for(cast.coordinator)
    client.post(
        reverse("patients:record_add", args=[cast.patient.pk, "creatinine"]),
        {"creatinine-collected_on": timezone.localdate().isoformat(), "creatinine-value": "0.8"},
    )
    lab = LabResult.objects.get(patient=cast.patient)
    assert entries(lab, CREATE).get().actor == cast.coordinator

    member = cast.patient.care_team_members.get()
    client.post(reverse("patients:care_team_remove", args=[cast.patient.pk, cast.assigned_nurse.pk]))
    removed = LogEntry.objects.get(action=DELETE, object_pk=str(member.pk))
    assert removed.actor == cast.coordinator


def test_weight_and_diagnosis_models_are_registered_for_audit(cast):
    weight = factories.WeightFactory(patient=cast.patient)
    diagnosis = factories.DiagnosisFactory(patient=cast.patient)
    assert entries(weight, CREATE).count() == 1
    assert entries(diagnosis, CREATE).count() == 1


# --- Entries are append-only -----------------------------------------------------------------


@pytest.fixture
def entry(cast):
    cast.patient.first_name = "Edited"
    cast.patient.save()
    return entries(cast.patient, UPDATE).latest("timestamp")


def test_an_entry_cannot_be_edited(entry):
    entry.remote_addr = "198.51.100.1"
    with pytest.raises(AuditEntryImmutable):
        entry.save()
    entry.refresh_from_db()
    assert entry.remote_addr != "198.51.100.1"


def test_an_entry_cannot_be_deleted(entry):
    with pytest.raises(AuditEntryImmutable), transaction.atomic():
        entry.delete()
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_entries_cannot_be_deleted_in_bulk(entry):
    count = LogEntry.objects.count()
    with pytest.raises(AuditEntryImmutable), transaction.atomic():
        LogEntry.objects.all().delete()
    assert LogEntry.objects.count() == count


def test_admin_offers_no_add_change_or_delete_of_entries(entry):
    superuser = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    request = RequestFactory().get("/admin/auditlog/logentry/")
    request.user = superuser
    model_admin = admin.site._registry[LogEntry]

    assert isinstance(model_admin, ReadOnlyLogEntryAdmin)
    assert model_admin.has_view_permission(request, entry)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)
    assert not model_admin.get_actions(request)


def test_admin_urls_refuse_to_change_or_delete_an_entry(entry):
    superuser = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client = client_for(superuser)
    change_url = reverse("admin:auditlog_logentry_change", args=[entry.pk])

    assert client.get(reverse("admin:auditlog_logentry_changelist")).status_code == 200
    assert client.get(reverse("admin:auditlog_logentry_add")).status_code == 403
    assert client.get(reverse("admin:auditlog_logentry_delete", args=[entry.pk])).status_code == 403
    assert client.post(reverse("admin:auditlog_logentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert client.post(change_url, {"remote_addr": "198.51.100.1"}).status_code == 403
    assert LogEntry.objects.filter(pk=entry.pk, remote_addr=entry.remote_addr).exists()
