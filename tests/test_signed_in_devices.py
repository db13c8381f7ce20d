"""Signed-in devices: a row per session at sign-in, the user's own list, signing out one device or all others, and
a coordinator ending every session of a staff member (a lost tablet)."""

import pytest
from auditlog.models import LogEntry
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from infusion_site.devices.user_agents import describe_device
from infusion_site.models import UserSession
from tests import factories
from tests.conftest import client_for

ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile "
    "Safari/537.36"
)
IPAD_SAFARI = (
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 "
    "Safari/604.1"
)
WINDOWS_EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 "
    "Edg/131.0.0.0"
)
MAC_FIREFOX = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.mark.parametrize(
    "agent, words",
    [
        (ANDROID_TABLET, "Chrome on an Android tablet"),
        (ANDROID_PHONE, "Chrome on an Android phone"),
        (IPAD_SAFARI, "Safari on an iPad"),
        (WINDOWS_EDGE, "Edge on a Windows computer"),
        (MAC_FIREFOX, "Firefox on a Mac"),
        ("", "Unknown browser"),
        ("curl/8.5.0", "Unknown browser"),
    ],
)
def test_the_browser_is_described_in_plain_words(agent, words):
    assert describe_device(agent) == words


def sign_in(user, agent, address="203.0.113.7"):
    client = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    response = client.post(reverse("login"), {"username": user.username, "password": factories.PASSWORD})
    assert response.status_code == 302
    return client


def test_signing_in_records_the_device(cast):
    client = sign_in(cast.patient_user, ANDROID_TABLET)

    row = UserSession.objects.get(user=cast.patient_user)
    assert row.session_key == client.session.session_key
    assert (row.device, row.client_address) == ("Chrome on an Android tablet", "203.0.113.7")


def test_the_list_shows_own_devices_with_this_one_marked(cast):
    tablet = sign_in(cast.patient_user, ANDROID_TABLET)
    sign_in(cast.patient_user, MAC_FIREFOX)
    sign_in(cast.other_patient_user, IPAD_SAFARI)

    response = tablet.get(reverse("devices:mine"))

    page = response.content.decode()
    assert response.status_code == 200
    assert [row.device for row in response.context["devices"]] == ["Firefox on a Mac", "Chrome on an Android tablet"]
    assert "Safari on an iPad" not in page  # someone else's
    assert page.count("This device") == 1 and page.count("Sign out that device") == 1
    assert "Sign out everywhere else" in page


def test_sign_out_that_device_ends_its_session(cast):
    tablet = sign_in(cast.patient_user, ANDROID_TABLET)
    laptop = sign_in(cast.patient_user, MAC_FIREFOX)
    laptop_row = UserSession.objects.get(session_key=laptop.session.session_key)

    response = tablet.post(reverse("devices:end", args=[laptop_row.pk]))

    assert response.status_code == 302
    assert not UserSession.objects.filter(pk=laptop_row.pk).exists()
    assert not Session.objects.filter(session_key=laptop_row.session_key).exists()
    assert laptop.get(reverse("portal:home")).status_code == 302  # back to the login page
    assert tablet.get(reverse("portal:home")).status_code == 200


def test_a_device_of_someone_else_cannot_be_signed_out(cast):
    mine = sign_in(cast.patient_user, ANDROID_TABLET)
    theirs = sign_in(cast.other_patient_user, IPAD_SAFARI)
    their_row = UserSession.objects.get(session_key=theirs.session.session_key)

    assert mine.post(reverse("devices:end", args=[their_row.pk])).status_code == 404
    assert theirs.get(reverse("portal:home")).status_code == 200


def test_sign_out_everywhere_else_keeps_this_device(cast):
    tablet = sign_in(cast.patient_user, ANDROID_TABLET)
    others = [sign_in(cast.patient_user, agent) for agent in (MAC_FIREFOX, IPAD_SAFARI)]
    stranger = sign_in(cast.other_patient_user, WINDOWS_EDGE)

    tablet.post(reverse("devices:end_others"))

    assert list(UserSession.objects.filter(user=cast.patient_user).values_list("session_key", flat=True)) == [
        tablet.session.session_key
    ]
    assert all(client.get(reverse("portal:home")).status_code == 302 for client in others)
    assert tablet.get(reverse("portal:home")).status_code == 200
    assert stranger.get(reverse("portal:home")).status_code == 200


def test_sign_out_everywhere_else_also_ends_a_session_begun_before_devices_were_recorded(cast):
    tablet = sign_in(cast.patient_user, ANDROID_TABLET)
    old = sign_in(cast.patient_user, MAC_FIREFOX)
    UserSession.objects.filter(session_key=old.session.session_key).delete()

    tablet.post(reverse("devices:end_others"))

    assert old.get(reverse("portal:home")).status_code == 302


def test_signing_out_deletes_the_row(cast):
    client = sign_in(cast.patient_user, ANDROID_TABLET)
    client.post(reverse("logout"))
    assert not UserSession.objects.filter(user=cast.patient_user).exists()


def test_coordinator_ends_every_session_of_a_nurse_and_it_is_audited(cast):
    tablet = client_for(cast.assigned_nurse)
    phone = client_for(cast.assigned_nurse)
    colleague = client_for(cast.unassigned_nurse)
    coordinator = client_for(cast.coordinator)
    staff_page = coordinator.get(reverse("devices:staff")).content.decode()
    assert reverse("devices:staff_devices", args=[cast.assigned_nurse.pk]) in staff_page
    assert "2 devices" in staff_page

    response = coordinator.post(reverse("devices:staff_end", args=[cast.assigned_nurse.pk]))

    assert response.status_code == 302
    assert not UserSession.objects.filter(user=cast.assigned_nurse).exists()
    assert tablet.get(reverse("visits:today")).status_code == 302
    assert phone.get(reverse("visits:today")).status_code == 302
    assert colleague.get(reverse("visits:today")).status_code == 200
    entry = LogEntry.objects.filter(content_type__model="user", object_pk=str(cast.assigned_nurse.pk)).get()
    assert entry.actor == cast.coordinator
    assert entry.additional_data["sessions_ended"] == 2
    deleted = LogEntry.objects.filter(content_type__model="usersession", action=LogEntry.Action.DELETE)
    assert deleted.count() == 2 and all(entry.actor == cast.coordinator for entry in deleted)
    # The session key is a credential: it never reaches the audit trail.
    for session in LogEntry.objects.filter(content_type__model="usersession"):
        assert "session_key" not in (session.changes or {})


def test_only_coordinators_end_staff_sessions(cast):
    client_for(cast.assigned_nurse)
    for user in (cast.unassigned_nurse, cast.patient_user):
        assert client_for(user).post(reverse("devices:staff_end", args=[cast.assigned_nurse.pk])).status_code == 403
        assert client_for(user).get(reverse("devices:staff")).status_code == 403
    assert UserSession.objects.filter(user=cast.assigned_nurse).exists()


def test_a_patient_is_not_a_staff_member_to_end(cast):
    coordinator = client_for(cast.coordinator)
    assert coordinator.get(reverse("devices:staff_devices", args=[cast.patient_user.pk])).status_code == 404
    assert coordinator.post(reverse("devices:staff_end", args=[cast.patient_user.pk])).status_code == 404


def test_a_session_begun_before_rows_were_kept_gets_its_row_when_next_seen(cast, settings):
    client = client_for(cast.patient_user)
    UserSession.objects.all().delete()
    session = client.session
    session["_last_seen_at"] -= 120  # a minute has passed: this request writes "last seen"
    session.save()

    client.get(reverse("portal:home"))

    assert UserSession.objects.filter(user=cast.patient_user, session_key=client.session.session_key).exists()
