"""Registering and editing patients, their dated records, care team and portal invitation."""

import re
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from infusion_site.roles import PATIENT, role_of
from patients import services
from patients.models import (
    CareTeamMember,
    Diagnosis,
    LabResult,
    Patient,
    PortalInvitation,
    PriorAuthorization,
    WeightMeasurement,
)
from tests import factories
from tests.conftest import client_for

User = get_user_model()
CREATE_URL = reverse("patients:create")


def today() -> date:
    return timezone.localdate()


def iso(day: date) -> str:
    return day.strftime("%Y-%m-%d")


def assert_field_error(response, html_name: str, message: str) -> None:
    """The message is rendered in the error block of that very field, not only somewhere on the page."""
    pattern = rf'id="error_\d+_id_{re.escape(html_name)}"[^>]*>\s*<strong>{re.escape(escape(message))}</strong>'
    assert re.search(pattern, response.content.decode()), f"{message!r} is not shown next to {html_name}"


def registration(**overrides) -> dict:
    data = {
        "mrn": "NEW-4242",
        "first_name": "Odessa",
        "last_name": "Farnsworth",
        "date_of_birth": "1969-08-21",
        "sex": "F",
        "phone": "+1 217 555 0142",
        "email": "odessa@example.org",
        "address_line1": "40 Cedar Lane",
        "address_line2": "",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62704",
        "latitude": "39.781700",
        "longitude": "-89.650100",
        "time_zone": "America/Chicago",
        "height_value": "165",
        "height_unit": "cm",
        "weight_value": "70",
        "weight_unit": "kg",
        "weight_measured_on": iso(today()),
        "allergies": "",
        "no_known_allergies": "on",
        "iga_status": "normal",
        "anti_iga_antibodies": "absent",
        "risk_notes": "",
        "prescriber_name": "Dr. Priya Raman",
        "prescriber_phone": "",
        "prescriber_npi": "",
        "diagnosis_code": "M33.10",
        "diagnosis_description": "Dermatomyositis",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def profile_of(patient: Patient, **overrides) -> dict:
    """What the edit form posts back for an unchanged patient."""
    data = {
        "mrn": patient.mrn,
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "date_of_birth": iso(patient.date_of_birth),
        "sex": patient.sex,
        "phone": patient.phone,
        "email": patient.email,
        "address_line1": patient.address_line1,
        "address_line2": patient.address_line2,
        "city": patient.city,
        "state": patient.state,
        "postal_code": patient.postal_code,
        "latitude": str(patient.latitude),
        "longitude": str(patient.longitude),
        "time_zone": patient.time_zone,
        "height_value": str(patient.height_cm),
        "height_unit": "cm",
        "allergies": patient.allergies,
        "iga_status": patient.iga_status,
        "anti_iga_antibodies": patient.anti_iga_antibodies,
        "risk_notes": patient.risk_notes,
        "prescriber_name": patient.prescriber_name,
        "prescriber_phone": patient.prescriber_phone,
        "prescriber_npi": patient.prescriber_npi,
    }
    data.update(overrides)
    return data


# --- Registering a patient -----------------------------------------------------------


def test_coordinator_registers_patient_with_weight_in_pounds_and_height_in_inches(cast):
    client = client_for(cast.coordinator)
    response = client.post(
        CREATE_URL, registration(weight_value="154.3", weight_unit="lb", height_value="65", height_unit="in")
    )

    patient = Patient.objects.get(mrn="NEW-4242")
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:detail", args=[patient.pk])
    assert patient.height_cm == Decimal("165.1")
    weight = patient.weights.get()
    assert weight.weight_kg == Decimal("70.0")
    assert weight.entered_unit == "lb"
    assert weight.measured_on == today()
    assert weight.recorded_by == cast.coordinator
    assert patient.diagnoses.get().icd10_code == "M33.10"

    page = client.get(response["Location"]).content.decode()
    assert "70.0 kg" in page
    assert "165.1 cm" in page


def test_registration_stores_the_mrn_in_capitals(cast):
    client_for(cast.coordinator).post(CREATE_URL, registration(mrn=" new-77 "))
    assert Patient.objects.filter(mrn="NEW-77").exists()


def test_nurse_cannot_register_a_patient(cast):
    before = Patient.objects.count()
    response = client_for(cast.assigned_nurse).post(CREATE_URL, registration())
    assert response.status_code == 403
    assert Patient.objects.count() == before


def assert_refused(cast, data, html_name, message):
    """Nothing is created, the form comes back, and the message sits next to the field."""
    counts = (Patient.objects.count(), WeightMeasurement.objects.count(), Diagnosis.objects.count())
    response = client_for(cast.coordinator).post(CREATE_URL, data)

    assert response.status_code == 200
    assert "form" in response.context
    assert message in response.context["form"].errors[html_name]
    assert_field_error(response, html_name, message)
    assert "Nothing was saved" in response.content.decode()
    assert (Patient.objects.count(), WeightMeasurement.objects.count(), Diagnosis.objects.count()) == counts


def test_date_of_birth_in_the_future_is_refused(cast):
    tomorrow = iso(today() + timedelta(days=1))
    assert_refused(
        cast, registration(date_of_birth=tomorrow), "date_of_birth", "The date of birth cannot be in the future."
    )


def test_duplicate_mrn_is_refused_whatever_its_case(cast):
    assert_refused(cast, registration(mrn=cast.patient.mrn.lower()), "mrn", "Another patient already has this MRN.")


@pytest.mark.parametrize(
    ("value", "unit", "message"),
    [
        ("800", "lb", "Enter a weight between 4.4 and 771.6 lb."),
        ("3", "lb", "Enter a weight between 4.4 and 771.6 lb."),
        ("351", "kg", "Enter a weight between 2 and 350 kg."),
        ("1.5", "kg", "Enter a weight between 2 and 350 kg."),
    ],
)
def test_weight_out_of_range_is_refused_in_the_unit_typed(cast, value, unit, message):
    assert_refused(cast, registration(weight_value=value, weight_unit=unit), "weight_value", message)


@pytest.mark.parametrize(
    ("value", "unit", "message"),
    [
        ("300", "cm", "Enter a height between 40 and 250 cm."),
        ("30", "cm", "Enter a height between 40 and 250 cm."),
        ("120", "in", "Enter a height between 15.7 and 98.4 in."),
        ("12", "in", "Enter a height between 15.7 and 98.4 in."),
    ],
)
def test_height_out_of_range_is_refused_in_the_unit_typed(cast, value, unit, message):
    assert_refused(cast, registration(height_value=value, height_unit=unit), "height_value", message)


@pytest.mark.parametrize("field", ["height_value", "weight_value", "latitude"])
def test_letters_in_a_number_field_are_refused(cast, field):
    assert_refused(cast, registration(**{field: "seventy"}), field, "Enter a number.")


def test_latitude_without_longitude_is_refused(cast):
    assert_refused(
        cast, registration(longitude=""), "longitude", "Give both latitude and longitude of the home, or neither."
    )


def test_allergies_with_no_known_allergies_ticked_is_refused(cast):
    assert_refused(
        cast,
        registration(allergies="Penicillin: hives", no_known_allergies="on"),
        "no_known_allergies",
        "Allergies are listed; untick “No known allergies”.",
    )


def test_weighing_date_in_the_future_is_refused(cast):
    tomorrow = iso(today() + timedelta(days=1))
    assert_refused(
        cast,
        registration(weight_measured_on=tomorrow),
        "weight_measured_on",
        "The weighing date cannot be in the future.",
    )


# --- Editing ---------------------------------------------------------------------------


def test_coordinator_changes_height_in_inches_and_it_is_stored_in_cm(cast):
    patient = cast.patient
    response = client_for(cast.coordinator).post(
        reverse("patients:edit", args=[patient.pk]),
        profile_of(patient, height_value="70", height_unit="in", phone="+1 217 555 0000"),
    )

    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.height_cm == Decimal("177.8")
    assert patient.phone == "+1 217 555 0000"


def test_edit_form_shows_the_stored_height_in_cm(cast):
    response = client_for(cast.coordinator).get(reverse("patients:edit", args=[cast.patient.pk]))
    form = response.context["form"]
    assert form["height_value"].value() == Decimal("165.0")
    assert form["height_unit"].value() == "cm"


def test_edit_refuses_out_of_range_height_and_keeps_the_old_one(cast):
    patient = cast.patient
    response = client_for(cast.coordinator).post(
        reverse("patients:edit", args=[patient.pk]), profile_of(patient, height_value="110", height_unit="in")
    )

    assert response.status_code == 200
    assert_field_error(response, "height_value", "Enter a height between 15.7 and 98.4 in.")
    patient.refresh_from_db()
    assert patient.height_cm == Decimal("165.0")


def test_edit_keeps_the_mrn_its_own(cast):
    """Saving a patient with their own MRN is not a duplicate."""
    patient = cast.patient
    response = client_for(cast.coordinator).post(
        reverse("patients:edit", args=[patient.pk]), profile_of(patient, first_name="Renamed")
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.first_name == "Renamed"


def test_edit_refuses_another_patients_mrn(cast):
    patient = cast.patient
    response = client_for(cast.coordinator).post(
        reverse("patients:edit", args=[patient.pk]), profile_of(patient, mrn=cast.other_patient.mrn)
    )
    assert response.status_code == 200
    assert_field_error(response, "mrn", "Another patient already has this MRN.")


# --- Dated records on the patient page --------------------------------------------------


def add_record(cast, section, data, patient=None, user=None):
    patient = patient or cast.patient
    url = reverse("patients:record_add", args=[patient.pk, section])
    return client_for(user or cast.coordinator).post(url, {f"{section}-{key}": value for key, value in data.items()})


def test_adding_a_weight_in_pounds_stores_kg(cast):
    before = cast.patient.weights.count()
    response = add_record(cast, "weights", {"measured_on": iso(today()), "weight_value": "150", "weight_unit": "lb"})

    assert response.status_code == 302
    assert response["Location"] == reverse("patients:detail", args=[cast.patient.pk]) + "#weights"
    assert cast.patient.weights.count() == before + 1
    weight = cast.patient.weights.latest()
    assert (weight.weight_kg, weight.entered_unit, weight.recorded_by) == (Decimal("68.0"), "lb", cast.coordinator)


def test_weight_dated_in_the_future_is_refused(cast):
    before = WeightMeasurement.objects.count()
    response = add_record(
        cast, "weights", {"measured_on": iso(today() + timedelta(days=1)), "weight_value": "70", "weight_unit": "kg"}
    )

    assert response.status_code == 400
    assert_field_error(response, "weights-measured_on", "This date is in the future.")
    assert WeightMeasurement.objects.count() == before


def test_weight_out_of_range_on_the_patient_page_is_refused(cast):
    before = WeightMeasurement.objects.count()
    response = add_record(cast, "weights", {"measured_on": iso(today()), "weight_value": "900", "weight_unit": "lb"})

    assert response.status_code == 400
    assert_field_error(response, "weights-weight_value", "Enter a weight between 4.4 and 771.6 lb.")
    assert WeightMeasurement.objects.count() == before


def test_adding_a_creatinine_result(cast):
    response = add_record(cast, "creatinine", {"collected_on": iso(today() - timedelta(days=2)), "value": "1.1"})

    assert response.status_code == 302
    lab = cast.patient.lab_results.get()
    assert (lab.test, lab.value, lab.unit, lab.recorded_by) == (
        "creatinine",
        Decimal("1.10"),
        "mg/dL",
        cast.coordinator,
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("25", "Serum creatinine above 20 mg/dL is not plausible; check the value and unit (mg/dL)."),
        ("0.05", "Serum creatinine is at least 0.1 mg/dL; check the value and unit."),
    ],
)
def test_implausible_creatinine_is_refused(cast, value, message):
    response = add_record(cast, "creatinine", {"collected_on": iso(today()), "value": value})

    assert response.status_code == 400
    assert_field_error(response, "creatinine-value", message)
    assert not LabResult.objects.exists()


def authorization(**overrides):
    data = {
        "payer": "Aetna",
        "member_id": "W123456",
        "number": "PA-777",
        "therapy": "IVIG 2 g/kg q4w",
        "valid_from": iso(today()),
        "valid_to": iso(today() + timedelta(days=180)),
        "visits_authorized": "12",
    }
    data.update(overrides)
    return data


def test_adding_a_prior_authorization(cast):
    response = add_record(cast, "authorizations", authorization())

    assert response.status_code == 302
    added = cast.patient.authorizations.get()
    assert (added.payer, added.number, added.visits_authorized) == ("Aetna", "PA-777", 12)


@pytest.mark.parametrize("days", [0, -1])
def test_authorization_ending_on_or_before_its_start_is_refused(cast, days):
    response = add_record(cast, "authorizations", authorization(valid_to=iso(today() + timedelta(days=days))))

    assert response.status_code == 400
    assert_field_error(response, "authorizations-valid_to", "The authorization must end after it starts.")
    assert not PriorAuthorization.objects.exists()


def test_adding_a_primary_diagnosis_demotes_the_previous_primary(cast):
    old = factories.DiagnosisFactory(patient=cast.patient, icd10_code="M33.10", is_primary=True)
    response = add_record(
        cast,
        "diagnoses",
        {"icd10_code": " m33.12 ", "description": "Dermatomyositis with myopathy", "is_primary": "on"},
    )

    assert response.status_code == 302
    new = cast.patient.diagnoses.get(icd10_code="M33.12")
    old.refresh_from_db()
    assert new.is_primary and not old.is_primary


def test_a_diagnosis_already_on_the_list_is_refused_with_a_message(cast):
    factories.DiagnosisFactory(patient=cast.patient, icd10_code="M33.10")
    response = add_record(cast, "diagnoses", {"icd10_code": "m33.10", "description": "Dermatomyositis again"})

    assert response.status_code == 400
    assert_field_error(response, "diagnoses-icd10_code", "This diagnosis is already on the patient's list.")
    assert cast.patient.diagnoses.count() == 1


def test_the_same_diagnosis_may_be_recorded_for_another_patient(cast):
    factories.DiagnosisFactory(patient=cast.other_patient, icd10_code="M33.10")
    response = add_record(cast, "diagnoses", {"icd10_code": "M33.10", "description": "Dermatomyositis"})

    assert response.status_code == 302
    assert cast.patient.diagnoses.get().icd10_code == "M33.10"


def test_an_authorization_number_already_used_with_that_payer_is_refused(cast):
    factories.AuthorizationFactory(patient=cast.other_patient, payer="Aetna", number="PA-777")
    response = add_record(cast, "authorizations", authorization())

    assert response.status_code == 400
    assert "Prior authorization with this Payer and Authorization number already exists." in response.content.decode()
    assert not cast.patient.authorizations.exists()


def test_unknown_section_is_not_found(cast):
    before = (WeightMeasurement.objects.count(), LabResult.objects.count())
    response = add_record(cast, "visits", {"measured_on": iso(today())})
    assert response.status_code == 404
    assert (WeightMeasurement.objects.count(), LabResult.objects.count()) == before


def test_nurse_cannot_add_records(cast):
    before = WeightMeasurement.objects.count()
    response = add_record(
        cast,
        "weights",
        {"measured_on": iso(today()), "weight_value": "70", "weight_unit": "kg"},
        user=cast.assigned_nurse,
    )
    assert response.status_code == 403
    assert WeightMeasurement.objects.count() == before


# --- Care team ------------------------------------------------------------------------------


def test_coordinator_adds_a_nurse_to_the_care_team(cast):
    url = reverse("patients:care_team_add", args=[cast.patient.pk])
    response = client_for(cast.coordinator).post(url, {"nurse": cast.unassigned_nurse.pk})

    assert response.status_code == 302
    assert set(cast.patient.care_team.all()) == {cast.assigned_nurse, cast.unassigned_nurse}


def test_coordinator_removes_a_nurse_from_the_care_team(cast):
    url = reverse("patients:care_team_remove", args=[cast.patient.pk, cast.assigned_nurse.pk])
    response = client_for(cast.coordinator).post(url)

    assert response.status_code == 302
    assert not CareTeamMember.objects.filter(patient=cast.patient).exists()


def test_care_team_form_offers_only_nurses_not_yet_on_the_team(cast):
    response = client_for(cast.coordinator).get(reverse("patients:detail", args=[cast.patient.pk]))
    offered = set(response.context["care_team_form"].fields["nurse"].queryset)
    assert offered == {cast.unassigned_nurse}


@pytest.mark.parametrize("who", ["coordinator", "patient_user"])
def test_a_non_nurse_cannot_join_a_care_team(cast, who):
    url = reverse("patients:care_team_add", args=[cast.patient.pk])
    response = client_for(cast.coordinator).post(url, {"nurse": cast.user(who).pk})

    assert response.status_code == 400
    assert "Select a valid choice" in response.context["care_team_form"].errors["nurse"][0]
    assert list(cast.patient.care_team.all()) == [cast.assigned_nurse]


def test_care_team_service_refuses_a_non_nurse(cast):
    with pytest.raises(services.ServiceError, match="Only nurses"):
        services.care_team_add(patient=cast.patient, nurse=cast.coordinator)
    assert list(cast.patient.care_team.all()) == [cast.assigned_nurse]


# --- Portal invitation ----------------------------------------------------------------------

INVITED_EMAIL = "odessa.farnsworth@example.org"
GOOD_PASSWORD = "violet-harbour-lantern-42"


@pytest.fixture
def uninvited(cast):
    return factories.PatientFactory(first_name="Odessa", last_name="Farnsworth", email=INVITED_EMAIL)


def invite(cast, patient, email=INVITED_EMAIL):
    return client_for(cast.coordinator).post(reverse("patients:invite", args=[patient.pk]), {"email": email})


def sign_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_inviting_creates_a_patient_account_without_a_usable_password(cast, uninvited):
    response = invite(cast, uninvited, email="Odessa.Farnsworth@Example.org")

    assert response.status_code == 302
    uninvited.refresh_from_db()
    user = uninvited.user
    assert user.username == user.email == INVITED_EMAIL
    assert role_of(user) == PATIENT
    assert user.groups.filter(name=PATIENT).exists()
    assert not user.has_usable_password()
    invitation = PortalInvitation.objects.get()
    assert (invitation.patient, invitation.email, invitation.invited_by) == (uninvited, INVITED_EMAIL, cast.coordinator)
    assert invitation.sent_at is None
    assert mail.outbox == []  # sent by the worker, after commit


def test_invitation_email_carries_a_set_password_link(cast, uninvited):
    invite(cast, uninvited)
    invitation = PortalInvitation.objects.get()

    assert services.invitation_send(invitation_id=invitation.pk) is True

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [INVITED_EMAIL]
    assert "Odessa" not in message.body and "Farnsworth" not in message.body  # emails greet no one by name
    assert re.search(r"https?://\S+/accounts/reset/[\w-]+/[\w-]+/", message.body)
    invitation.refresh_from_db()
    assert invitation.sent_at is not None and invitation.attempts == 1


def test_invitation_is_emailed_once_however_often_it_is_sent(cast, uninvited):
    invite(cast, uninvited)
    invitation = PortalInvitation.objects.get()

    assert services.invitation_send(invitation_id=invitation.pk) is True
    assert services.invitation_send(invitation_id=invitation.pk) is False

    assert len(mail.outbox) == 1


def set_password_page(client, invitation):
    """Follow the emailed link as a browser would: it redirects to the set-password form."""
    services.invitation_send(invitation_id=invitation.pk)
    link = re.search(r"https?://\S+/accounts/reset/\S+/", mail.outbox[-1].body).group(0)
    response = client.get(urlsplit(link).path)
    assert response.status_code == 302
    assert response["Location"].endswith("/set-password/")
    form_page = client.get(response["Location"])
    assert form_page.status_code == 200
    assert form_page.context["validlink"] is True
    return response["Location"]


def test_patient_sets_a_password_from_the_link_and_signs_in(cast, uninvited):
    invite(cast, uninvited)
    client = client_for(None)
    url = set_password_page(client, PortalInvitation.objects.get())

    response = client.post(url, {"new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_complete")

    signed_in = sign_in(client_for(None), INVITED_EMAIL, GOOD_PASSWORD)
    assert signed_in.status_code == 302
    assert int(signed_in.wsgi_request.session["_auth_user_id"]) == User.objects.get(username=INVITED_EMAIL).pk


def test_set_password_link_works_once(cast, uninvited):
    invite(cast, uninvited)
    client = client_for(None)
    url = set_password_page(client, PortalInvitation.objects.get())
    client.post(url, {"new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD})

    again = client_for(None).get(urlsplit(re.search(r"https?://\S+", mail.outbox[0].body).group(0)).path, follow=True)
    assert again.context["validlink"] is False


def test_short_password_is_refused_with_a_message(cast, uninvited):
    invite(cast, uninvited)
    client = client_for(None)
    url = set_password_page(client, PortalInvitation.objects.get())

    response = client.post(url, {"new_password1": "plum-tree-9", "new_password2": "plum-tree-9"})

    assert response.status_code == 200
    assert "This password is too short. It must contain at least 12 characters." in response.content.decode()
    assert not User.objects.get(username=INVITED_EMAIL).has_usable_password()
    assert sign_in(client_for(None), INVITED_EMAIL, "plum-tree-9").status_code == 200  # login form again


def test_inviting_a_patient_who_already_has_an_account_changes_nothing(cast):
    users_before = User.objects.count()
    response = invite(cast, cast.patient, email="someone.new@example.org")

    assert response.status_code == 400
    assert "This patient already has a portal account." in response.content.decode()
    assert User.objects.count() == users_before
    assert not PortalInvitation.objects.exists()
    cast.patient.refresh_from_db()
    assert cast.patient.user == cast.patient_user


def test_inviting_with_an_email_that_already_has_an_account_is_refused(cast, uninvited):
    factories.UserFactory(username=INVITED_EMAIL)
    users_before = User.objects.count()
    response = invite(cast, uninvited, email=INVITED_EMAIL.upper())

    assert response.status_code == 400
    assert_field_error(response, "email", "An account with this email already exists.")
    assert User.objects.count() == users_before
    assert not PortalInvitation.objects.exists()
    uninvited.refresh_from_db()
    assert uninvited.user is None
