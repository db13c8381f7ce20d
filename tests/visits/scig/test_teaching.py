"""Teaching visits: the visit's nurse ticks what the patient shows back and signs "ready to self-infuse"."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from patients.services import ServiceError
from tests.conftest import client_for
from tests.factories import PASSWORD, VisitFactory
from visits.models import ScigTeaching
from visits.scig import services

ALL = list(services.TEACHING_ITEMS)


def test_the_nurse_saves_items_and_notes(cast, scig_visit):
    teaching = services.teaching_save(
        visit=scig_visit, nurse=cast.assigned_nurse, items=["pump", "preparation"], notes=" Primed well. "
    )
    assert teaching.items == {code: code in ("pump", "preparation") for code in ALL}
    assert teaching.notes == "Primed well."
    assert teaching.order == scig_visit.order and teaching.patient == cast.patient
    assert not teaching.ready_to_self_infuse and teaching.signed_at is None


def test_only_the_visits_nurse_writes_the_teaching(cast, scig_visit):
    with pytest.raises(ServiceError, match="Only the nurse assigned"):
        services.teaching_save(visit=scig_visit, nurse=cast.unassigned_nurse, items=ALL, notes="")
    with pytest.raises(ServiceError, match="Only the nurse assigned"):
        services.teaching_sign(visit=scig_visit, nurse=cast.coordinator, items=ALL, notes="", password=PASSWORD)
    assert not ScigTeaching.objects.exists()


def test_signing_needs_every_item_shown_back(cast, scig_visit):
    with pytest.raises(ValidationError) as refused:
        services.teaching_sign(visit=scig_visit, nurse=cast.assigned_nurse, items=ALL[:-1], notes="", password=PASSWORD)
    assert "Lot recording" in refused.value.message_dict["items"][0]
    assert not services.patient_is_taught(patient=cast.patient)


def test_a_wrong_password_signs_nothing(cast, scig_visit):
    with pytest.raises(ValidationError) as refused:
        services.teaching_sign(visit=scig_visit, nurse=cast.assigned_nurse, items=ALL, notes="", password="nope")
    assert "password" in refused.value.message_dict
    assert not services.patient_is_taught(patient=cast.patient)


def test_signed_teaching_marks_the_patient_ready_and_is_then_locked(cast, scig_visit):
    teaching = services.teaching_sign(
        visit=scig_visit, nurse=cast.assigned_nurse, items=ALL, notes="Ready.", password=PASSWORD
    )
    assert teaching.ready_to_self_infuse and teaching.signed_by == cast.assigned_nurse and teaching.signed_at
    assert services.patient_is_taught(patient=cast.patient, order=scig_visit.order)
    with pytest.raises(ServiceError, match="signed"):
        services.teaching_save(visit=scig_visit, nurse=cast.assigned_nurse, items=[], notes="")


def test_an_ivig_visit_has_no_teaching(cast):
    visit = VisitFactory(patient=cast.patient, nurse=cast.assigned_nurse)
    with pytest.raises(ServiceError, match="SCIG"):
        services.teaching_save(visit=visit, nurse=cast.assigned_nurse, items=[], notes="")
    assert client_for(cast.assigned_nurse).get(reverse("scig:teaching", args=[visit.pk])).status_code == 404


# --- the page -------------------------------------------------------------------------------------------------------


def test_nurse_ticks_then_signs_on_the_page(cast, scig_visit):
    client = client_for(cast.assigned_nurse)
    url = reverse("scig:teaching", args=[scig_visit.pk])
    page = client.get(url)
    assert page.status_code == 200 and b"Patient ready to self-infuse" in page.content
    assert client.post(url, {"items": ["pump"], "notes": "First go"}).status_code == 302
    assert ScigTeaching.objects.get().items["pump"] is True

    sign_url = reverse("scig:teaching_sign", args=[scig_visit.pk])
    refused = client.post(sign_url, {"items": ["pump"], "password": PASSWORD})
    assert refused.status_code == 400 and b"Still to show back" in refused.content
    wrong = client.post(sign_url, {"items": ALL, "password": "not-mine"})
    assert wrong.status_code == 400 and b"That is not your password" in wrong.content
    assert not ScigTeaching.objects.get().signed_at

    assert client.post(sign_url, {"items": ALL, "notes": "All shown back", "password": PASSWORD}).status_code == 302
    signed = client.get(url)
    assert b"Ready to self-infuse" in signed.content and b'id="teaching-form"' not in signed.content


def test_coordinator_reads_but_does_not_write(cast, scig_visit):
    services.teaching_save(visit=scig_visit, nurse=cast.assigned_nurse, items=["pump"], notes="Pump fine")
    client = client_for(cast.coordinator)
    url = reverse("scig:teaching", args=[scig_visit.pk])
    page = client.get(url)
    assert page.status_code == 200 and b"Pump fine" in page.content and b'id="teaching-form"' not in page.content
    assert client.post(url, {"items": ALL}).status_code == 403
    assert client.post(reverse("scig:teaching_sign", args=[scig_visit.pk]), {"items": ALL}).status_code == 403
    assert ScigTeaching.objects.get().items["preparation"] is False


def test_the_chart_links_to_the_teaching(cast, scig_visit):
    page = client_for(cast.assigned_nurse).get(reverse("visits:chart", args=[scig_visit.pk]))
    assert reverse("scig:teaching", args=[scig_visit.pk]).encode() in page.content
