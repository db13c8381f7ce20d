"""The privacy officer's search of the audit trail, and the trail's memory of who did what.

/audit/ opens for a holder of ``view_audit_trail`` only; a search by patient, user or date range is posted and kept
in the session (no name, MRN or date of birth in the address), shown 50 a page, newest first, and exported as CSV;
the officer's own searches are entries too. Entries keep the actor's name as written at the time, and a user in the
trail is deactivated, never deleted.
"""

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from infusion_site.audit import UserHasAuditHistory, record_access
from infusion_site.roles import make_privacy_officer
from patients.audit_trail.selectors import EMERGENCY_MARK, SEARCH_MARK
from tests import factories
from tests.conftest import client_for

ACCESS = LogEntry.Action.ACCESS


@pytest.fixture
def officer(cast):
    make_privacy_officer(cast.coordinator)
    return cast.coordinator


def opened_by(user, patient, remote_addr="127.0.0.1"):
    from auditlog.context import set_actor

    with set_actor(user, remote_addr=remote_addr):
        record_access(patient)


def search(client, **criteria):
    return client.post(reverse("audit:search"), {"patient": "", "user": "", "since": "", "until": "", **criteria})


# --- who may search -------------------------------------------------------------------------------------------


def test_a_coordinator_without_the_permission_is_refused(cast):
    assert client_for(cast.coordinator).get(reverse("audit:search")).status_code == 403
    assert client_for(cast.assigned_nurse).get(reverse("audit:search")).status_code == 403
    assert client_for(cast.patient_user).get(reverse("audit:export")).status_code == 403


def test_anonymous_is_sent_to_sign_in(cast):
    response = client_for(None).get(reverse("audit:search"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_privacy_officer_opens_the_search(officer):
    response = client_for(officer).get(reverse("audit:search"))
    assert response.status_code == 200
    assert 'for="id_patient"' in response.content.decode()


# --- the search -----------------------------------------------------------------------------------------------


def test_search_by_patient_lists_who_opened_and_changed_the_record(officer, cast):
    opened_by(cast.assigned_nurse, cast.patient, remote_addr="203.0.113.9")
    opened_by(cast.assigned_nurse, cast.other_patient)
    factories.WeightFactory(patient=cast.patient)  # a created row of the patient's record
    client = client_for(officer)

    response = search(client, patient=cast.patient.mrn)
    assert response.status_code == 302
    assert cast.patient.mrn not in response["Location"] and "Delacroix" not in response["Location"]

    page = client.get(response["Location"]).content.decode()
    assert "Nora Fieldhouse (nurse-assigned)" in page
    assert "203.0.113.9" in page
    assert "Opened · Patient record" in page
    assert "Created · Weight" in page
    assert "Okonkwo" not in page  # the other patient's entries are not this search's


def test_search_by_user_lists_what_they_opened(officer, cast):
    opened_by(cast.assigned_nurse, cast.patient)
    opened_by(cast.unassigned_nurse, cast.other_patient)
    client = client_for(officer)
    search(client, user="nurse-assigned")
    page = client.get(reverse("audit:search")).content.decode()
    assert "Delacroix" in page
    assert "Umar Hadleigh" not in page


def test_search_by_date_range_uses_local_days(officer, cast):
    with time_machine.travel(timezone.now() - timedelta(days=40)):
        opened_by(cast.assigned_nurse, cast.other_patient)
    opened_by(cast.assigned_nurse, cast.patient)
    client = client_for(officer)
    today = timezone.localdate()
    search(client, user="nurse-assigned", since=(today - timedelta(days=7)).isoformat(), until=today.isoformat())
    page = client.get(reverse("audit:search")).content.decode()
    assert "Delacroix" in page
    assert "Okonkwo" not in page


def test_bad_input_is_refused_next_to_the_field_and_keeps_the_last_search(officer, cast):
    client = client_for(officer)
    search(client, patient=cast.patient.mrn)
    kept = client.session["audit_search"]
    response = search(client, patient="Nobody-By-That-Name", since="2026-12-10", until="2026-12-01")
    assert response.status_code == 400
    page = response.content.decode()
    assert "No patient matches" in page
    assert "The end of the range is before its start." in page
    assert client.session["audit_search"] == kept


def test_several_matching_patients_ask_for_the_mrn(officer, cast):
    factories.PatientFactory(first_name="Marisol", last_name="Delacroix-Smith")
    response = search(client_for(officer), patient="Delacroix")
    assert response.status_code == 400
    assert "Give the MRN to choose one." in response.content.decode()


def test_results_are_paged_fifty_newest_first(officer, cast):
    for _ in range(55):
        opened_by(cast.assigned_nurse, cast.patient)
    client = client_for(officer)
    search(client, user="nurse-assigned")
    first = client.get(reverse("audit:search"))
    rows = first.context["rows"]
    total = first.context["page"].paginator.count
    assert len(rows) == 50
    assert total >= 55  # the 55 openings, and whatever else the sign-in recorded of her
    stamps = [(row.entry.timestamp, row.entry.pk) for row in rows]
    assert stamps == sorted(stamps, reverse=True)
    second = client.get(reverse("audit:search"), {"page": 2}).context["rows"]
    assert len(second) == total - 50
    assert second[0].entry.timestamp <= rows[-1].entry.timestamp


def test_the_officers_own_search_is_audited(officer, cast):
    client = client_for(officer)
    search(client, patient=cast.patient.mrn)
    entry = LogEntry.objects.filter(additional_data__has_key=SEARCH_MARK).get()
    assert entry.actor == officer
    assert entry.additional_data["patient_id"] == cast.patient.pk
    # Opening the results names the patients shown: those are accesses too.
    client.get(reverse("audit:search"))
    assert (
        LogEntry.objects.filter(action=ACCESS, actor=officer, additional_data__patient_id=cast.patient.pk)
        .exclude(additional_data__has_key=SEARCH_MARK)
        .exists()
    )


def test_an_entry_under_emergency_access_is_marked(officer, cast):
    from auditlog.context import set_actor

    with set_actor(cast.unassigned_nurse):
        LogEntry.objects.log_create(
            cast.patient, force_log=True, action=ACCESS, changes={}, additional_data={EMERGENCY_MARK: 1}
        )
    client = client_for(officer)
    search(client, patient=cast.patient.mrn)
    assert "emergency access" in client.get(reverse("audit:search")).content.decode()


def test_the_export_holds_the_same_search_as_csv(officer, cast):
    opened_by(cast.assigned_nurse, cast.patient, remote_addr="203.0.113.9")
    client = client_for(officer)
    assert client.get(reverse("audit:export")).status_code == 302  # nothing searched yet
    search(client, patient=cast.patient.mrn)
    response = client.get(reverse("audit:export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["When (local)", "Who (as recorded)", "What"]
    opened = [row for row in rows[1:] if row[2] == "opened" and row[7] == "203.0.113.9"]
    assert opened and opened[0][1] == "Nora Fieldhouse (nurse-assigned)"
    assert opened[0][6] == cast.patient.mrn
    assert LogEntry.objects.filter(actor=officer, additional_data__has_key="audit_export").exists()


# --- history does not change ----------------------------------------------------------------------------------


def test_renaming_a_user_never_changes_who_the_trail_says(officer, cast):
    opened_by(cast.assigned_nurse, cast.patient)
    nurse = cast.assigned_nurse
    nurse.first_name, nurse.last_name, nurse.is_active = "Renamed", "Person", False
    nurse.save()
    entry = LogEntry.objects.filter(action=ACCESS, actor=nurse).latest("pk")
    assert entry.additional_data["actor_name"] == "Nora Fieldhouse"
    assert entry.additional_data["actor_username"] == "nurse-assigned"
    client = client_for(officer)
    search(client, patient=cast.patient.mrn)
    page = client.get(reverse("audit:search")).content.decode()
    assert "Nora Fieldhouse (nurse-assigned)" in page
    assert "Renamed Person" not in page


def test_a_user_in_the_trail_cannot_be_deleted_in_code(cast):
    opened_by(cast.assigned_nurse, cast.patient)
    with pytest.raises(UserHasAuditHistory), transaction.atomic():
        cast.assigned_nurse.delete()
    assert get_user_model().objects.filter(pk=cast.assigned_nurse.pk).exists()


def test_a_user_with_no_entries_can_still_be_deleted(cast):
    stranger = factories.UserFactory(username="never-worked")
    stranger.delete()
    assert not get_user_model().objects.filter(username="never-worked").exists()


@pytest.fixture
def superuser(db):
    return factories.UserFactory(username="root", is_staff=True, is_superuser=True)


def test_the_admin_refuses_to_delete_a_user_in_the_trail_and_says_why(cast, superuser):
    opened_by(cast.assigned_nurse, cast.patient)
    client = client_for(superuser)
    url = reverse("admin:auth_user_delete", args=[cast.assigned_nurse.pk])
    response = client.post(url, {"post": "yes"}, follow=True)
    assert get_user_model().objects.filter(pk=cast.assigned_nurse.pk).exists()
    assert "deactivate it instead" in response.content.decode()


def test_the_admin_offers_deactivation_instead_of_bulk_delete(cast, superuser):
    client = client_for(superuser)
    response = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "deactivate_users", "_selected_action": [cast.assigned_nurse.pk]},
    )
    assert response.status_code == 302
    cast.assigned_nurse.refresh_from_db()
    assert not cast.assigned_nurse.is_active
    model_admin = admin.site._registry[get_user_model()]
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = superuser
    assert "delete_selected" not in model_admin.get_actions(request)


def test_opening_a_patient_in_the_admin_is_an_access(cast, superuser):
    response = client_for(superuser).get(reverse("admin:patients_patient_change", args=[cast.patient.pk]))
    assert response.status_code == 200
    entry = LogEntry.objects.filter(action=ACCESS, actor=superuser).latest("pk")
    assert entry.additional_data["patient_id"] == cast.patient.pk


def test_opening_a_notice_about_a_visit_in_the_admin_is_an_access_of_its_patient(cast, superuser):
    from visits.models import Notification

    visit = factories.VisitFactory(order=factories.OrderFactory(patient=cast.patient))
    now = timezone.now()
    notice = Notification.objects.create(
        recipient=cast.patient_user,
        channel="email",
        kind="chart_unsigned",
        key="audit-admin",
        subject="Reminder",
        body="Tomorrow",
        about=visit,
        due_at=now,
        next_attempt_at=now,
    )
    response = client_for(superuser).get(reverse("admin:visits_notification_change", args=[notice.pk]))
    assert response.status_code == 200
    entry = LogEntry.objects.filter(action=ACCESS, actor=superuser).latest("pk")
    assert entry.additional_data["patient_id"] == cast.patient.pk
