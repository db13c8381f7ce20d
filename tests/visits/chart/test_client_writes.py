"""Exactly once on the server: a chart write carrying the tablet's own id is applied once, whatever the retries,
double taps, replays after a crash or two replays racing. The unique key is in the database, not a cache."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.conftest import client_for
from visits.models import ClientWrite, Visit, VisitSignature, VitalSigns

SET = factories.VITALS_FORM


def checked_in(cast):
    order = factories.OrderFactory(patient=cast.patient)
    return factories.VisitFactory(
        order=order,
        patient=cast.patient,
        nurse=cast.assigned_nurse,
        status=Visit.Status.CHECKED_IN,
        planned_start=timezone.now() - timedelta(minutes=30),
    )


def post_set(client, visit, client_id, **extra):
    return client.post(
        reverse("visits:vitals_add", args=[visit.pk]),
        {**SET, "client_id": str(client_id), **extra},
        HTTP_HX_REQUEST="true",
    )


def test_the_same_entry_sent_twice_is_saved_once_and_answered_as_saved(cast):
    visit, client, entry = checked_in(cast), client_for(cast.assigned_nurse), uuid.uuid4()
    recorded = (timezone.now() - timedelta(minutes=20)).isoformat()
    first = post_set(client, visit, entry, client_at=recorded)
    again = post_set(client, visit, entry, client_at=recorded)
    assert (first.status_code, again.status_code) == (200, 200)
    assert "Already saved at" in again.content.decode() and "nothing was changed" in again.content.decode()
    assert VitalSigns.objects.filter(visit=visit).count() == 1
    write = ClientWrite.objects.get(client_id=entry)
    assert (write.visit, write.user, write.action) == (visit, cast.assigned_nurse, "vitals_add")
    assert write.client_at.isoformat() == recorded and write.received_at > write.client_at


def test_entries_without_an_id_are_saved_each_time_as_before(cast):
    visit, client = checked_in(cast), client_for(cast.assigned_nurse)
    client.post(reverse("visits:vitals_add", args=[visit.pk]), SET, HTTP_HX_REQUEST="true")
    client.post(reverse("visits:vitals_add", args=[visit.pk]), SET, HTTP_HX_REQUEST="true")
    assert VitalSigns.objects.filter(visit=visit).count() == 2
    assert not ClientWrite.objects.exists()


def test_a_refused_entry_does_not_use_up_its_id(cast):
    visit, client, entry = checked_in(cast), client_for(cast.assigned_nurse), uuid.uuid4()
    refused = post_set(client, visit, entry, pulse="400")
    assert refused.status_code == 400 and not ClientWrite.objects.exists()
    assert post_set(client, visit, entry).status_code == 200
    assert VitalSigns.objects.filter(visit=visit).count() == 1


def test_an_entry_applied_before_the_signature_is_answered_as_saved_after_it(cast):
    visit, client, entry = checked_in(cast), client_for(cast.assigned_nurse), uuid.uuid4()
    post_set(client, visit, entry)
    VisitSignature.objects.create(visit=visit, note="Done.", signed_by=cast.assigned_nurse)
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.SIGNED)
    replay = post_set(client, visit, entry)
    assert replay.status_code == 200 and "Already saved" in replay.content.decode()
    fresh = post_set(client, visit, uuid.uuid4())
    assert fresh.status_code == 409 and "signed and locked" in fresh.content.decode()
    assert VitalSigns.objects.filter(visit=visit).count() == 1


def test_an_id_used_by_another_entry_or_another_nurse_is_refused_and_changes_nothing(cast):
    visit, entry = checked_in(cast), uuid.uuid4()
    post_set(client_for(cast.assigned_nurse), visit, entry)
    rate = client_for(cast.assigned_nurse).post(
        reverse("visits:infusion_rate", args=[visit.pk]),
        {"kind": "pause", "version": "0", "client_id": str(entry)},
        HTTP_HX_REQUEST="true",
    )
    assert rate.status_code == 409 and "belongs to another entry" in rate.content.decode()
    assert VitalSigns.objects.filter(visit=visit).count() == 1


@pytest.mark.parametrize("value", ["not-a-uuid", "\x00", "9" * 500])
def test_an_unreadable_id_is_refused_with_a_message(cast, value):
    visit = checked_in(cast)
    response = client_for(cast.assigned_nurse).post(
        reverse("visits:vitals_add", args=[visit.pk]), {**SET, "client_id": value}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400 and "not readable" in response.content.decode()
    assert not VitalSigns.objects.filter(visit=visit).exists()


@pytest.mark.parametrize("value", ["2026-13-40T00:00", "9999-12-31T23:59:00", "2026-12-01\x00"])
def test_an_unreadable_or_zoneless_recorded_time_is_refused(cast, value):
    visit = checked_in(cast)
    response = post_set(client_for(cast.assigned_nurse), visit, uuid.uuid4(), client_at=value)
    assert response.status_code == 400
    assert not VitalSigns.objects.filter(visit=visit).exists()


@pytest.mark.django_db(transaction=True)
def test_two_replays_racing_save_the_entry_once(cast):
    """Two requests with the same id at the same moment, each on its own database connection: the second waits
    on the unique key until the first commits, then is answered as already saved."""
    visit, entry = checked_in(cast), uuid.uuid4()
    start, answers = threading.Barrier(2), []

    def send():
        try:
            client = client_for(cast.assigned_nurse)
            start.wait(timeout=10)
            answers.append(post_set(client, visit, entry).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) == [200, 200]
    assert VitalSigns.objects.filter(visit=visit).count() == 1
    assert ClientWrite.objects.filter(client_id=entry).count() == 1


def test_a_double_tapped_check_in_is_answered_as_saved_not_as_a_conflict(cast):
    order = factories.OrderFactory(patient=cast.patient)
    visit = factories.VisitFactory(
        order=order, patient=cast.patient, nurse=cast.assigned_nurse, planned_start=timezone.now()
    )
    client, entry = client_for(cast.assigned_nurse), str(uuid.uuid4())
    url = reverse("visits:check_in", args=[visit.pk])
    first = client.post(url, {"version": "0", "client_id": entry}, HTTP_HX_REQUEST="true")
    again = client.post(url, {"version": "0", "client_id": entry}, HTTP_HX_REQUEST="true")
    assert (first.status_code, again.status_code) == (200, 200)
    assert "Already saved at" in again.content.decode()
    assert visit.verifications.count() == 1
