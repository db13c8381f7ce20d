"""The patient's private calendar feed: valid RFC 5545, nothing clinical, revocable and renewable."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from tests import factories
from tests.conftest import client_for
from visits.models import CalendarFeed, Visit

NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
TUESDAY_9AM_CST = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def visit_for(patient, *, at, **kwargs):
    return factories.VisitFactory(
        order=factories.OrderFactory(patient=patient), patient=patient, planned_start=at, **kwargs
    )


def create_feed(cast) -> CalendarFeed:
    """A new address, as the confirmation page sends it (the first one needs no confirmation)."""
    response = client_for(cast.patient_user).post(reverse("portal:calendar_renew"), {"confirmed": "yes"})
    assert response.status_code == 302
    return CalendarFeed.objects.get(patient=cast.patient)


def feed_url(feed) -> str:
    return reverse("portal:calendar_feed", args=[feed.token])


def fetch(url):
    """As a calendar app does: no session."""
    return Client().get(url)


def events(response) -> dict[str, object]:
    calendar = Calendar.from_ical(response.content)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_feed_is_a_valid_calendar_readable_without_signing_in(cast):
    visit = visit_for(cast.patient, at=TUESDAY_9AM_CST, nurse=cast.assigned_nurse)
    feed = create_feed(cast)

    response = fetch(feed_url(feed))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.content.startswith(b"BEGIN:VCALENDAR\r\n")
    assert response.content.endswith(b"END:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in response.content.split(b"\r\n"))  # RFC 5545 §3.1 folding
    calendar = Calendar.from_ical(response.content)
    assert calendar.name == "VCALENDAR"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]).startswith("-//")
    event = events(response)[f"visit-{visit.pk}@testserver"]
    assert event["DTSTART"].dt == TUESDAY_9AM_CST
    assert event["DTSTART"].dt.utcoffset() == dt.timedelta(0)
    assert event["DTEND"].dt == TUESDAY_9AM_CST + dt.timedelta(minutes=visit.planned_minutes)
    assert event["DTSTAMP"].dt.tzinfo is not None
    assert str(event["SUMMARY"]) == "Home nursing visit"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "9:00–9:30 am CST" in str(event["DESCRIPTION"])


def test_feed_has_no_clinical_detail_or_patient_name(cast):
    factories.DiagnosisFactory(patient=cast.patient)
    visit_for(cast.patient, at=TUESDAY_9AM_CST, nurse=cast.assigned_nurse)
    visit_for(cast.patient, at=NOW - dt.timedelta(days=3), status=Visit.Status.SIGNED)
    feed = create_feed(cast)

    body = fetch(feed_url(feed)).content.decode().lower()

    for word in ("octagam", "ivig", "immune globulin", "infusion", "dermatomyositis", "m33", "28000", "dose"):
        assert word not in body.replace("\r\n ", ""), word
    for value in (cast.patient.first_name, cast.patient.last_name, cast.patient.mrn, cast.assigned_nurse.last_name):
        assert value.lower() not in body


def test_feed_keeps_uids_stable_and_marks_cancelled_visits(cast):
    kept = visit_for(cast.patient, at=TUESDAY_9AM_CST)
    cancelled = visit_for(cast.patient, at=TUESDAY_9AM_CST + dt.timedelta(days=1), status=Visit.Status.CANCELLED)
    feed = create_feed(cast)

    first, second = events(fetch(feed_url(feed))), events(fetch(feed_url(feed)))

    assert set(first) == set(second) == {f"visit-{kept.pk}@testserver", f"visit-{cancelled.pk}@testserver"}
    assert str(first[f"visit-{cancelled.pk}@testserver"]["STATUS"]) == "CANCELLED"


def test_feed_holds_upcoming_and_recent_visits_of_this_patient_only(cast):
    upcoming = visit_for(cast.patient, at=TUESDAY_9AM_CST)
    recent = visit_for(cast.patient, at=NOW - dt.timedelta(days=30), status=Visit.Status.SIGNED)
    visit_for(cast.patient, at=NOW - dt.timedelta(days=120), status=Visit.Status.SIGNED)
    visit_for(cast.other_patient, at=TUESDAY_9AM_CST)
    feed = create_feed(cast)

    uids = set(events(fetch(feed_url(feed))))

    assert uids == {f"visit-{upcoming.pk}@testserver", f"visit-{recent.pk}@testserver"}


def test_portal_shows_the_private_address_and_its_buttons(cast):
    client = client_for(cast.patient_user)
    assert "Create my calendar address" in client.get(reverse("portal:home")).content.decode()
    feed = create_feed(cast)

    page = client.get(reverse("portal:home")).content.decode()

    assert f"http://testserver{feed_url(feed)}" in page
    assert f"webcal://testserver{feed_url(feed)}" in page
    assert "Get a new address" in page
    assert "Turn off the address" in page


def test_tokens_are_long_and_random(cast):
    first = create_feed(cast).token
    second = create_feed(cast).token

    assert len(first) >= 43  # 32 random bytes, URL-safe base64
    assert first != second


def test_renewing_gives_a_new_address_and_the_old_one_stops_working(cast):
    visit_for(cast.patient, at=TUESDAY_9AM_CST)
    old = create_feed(cast)

    response = client_for(cast.patient_user).post(reverse("portal:calendar_renew"), {"confirmed": "yes"}, follow=True)

    assert "The old address no longer works." in response.content.decode()
    new = CalendarFeed.objects.get(patient=cast.patient)
    assert new.token != old.token
    assert fetch(feed_url(old)).status_code == 404
    assert fetch(feed_url(new)).status_code == 200


def test_revoking_turns_the_address_off(cast):
    feed = create_feed(cast)

    response = client_for(cast.patient_user).post(reverse("portal:calendar_revoke"), {"confirmed": "yes"}, follow=True)

    assert "Your calendar address is turned off." in response.content.decode()
    assert fetch(feed_url(feed)).status_code == 404
    assert "Create my calendar address" in response.content.decode()


def test_unknown_token_is_404_and_reveals_nothing(cast):
    visit_for(cast.patient, at=TUESDAY_9AM_CST)
    create_feed(cast)

    response = fetch(reverse("portal:calendar_feed", args=["not-a-real-token-" + "x" * 30]))

    assert response.status_code == 404
    assert b"VCALENDAR" not in response.content
    assert cast.patient.last_name.encode() not in response.content


def test_a_patient_cannot_revoke_or_renew_another_patients_feed(cast):
    feed = create_feed(cast)

    client_for(cast.other_patient_user).post(reverse("portal:calendar_revoke"), {"confirmed": "yes"})
    client_for(cast.other_patient_user).post(reverse("portal:calendar_renew"), {"confirmed": "yes"})

    assert fetch(feed_url(feed)).status_code == 200
    assert CalendarFeed.objects.get(patient=cast.other_patient).token != feed.token
