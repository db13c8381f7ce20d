"""Signing in and out, lockout, session lifetime, password length and the public allowlist.

Everything goes through the real views with the test client, so the login form,
django-axes, SessionLifetimeMiddleware and LoginRequiredMiddleware all take part.
"""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY, get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from infusion_site.forms import LoginForm
from tests.conftest import client_for, pass_second_step, second_factor
from tests.factories import PASSWORD

LOGIN_URL = "/accounts/login/"
LOGOUT_URL = "/accounts/logout/"
PASSWORD_CHANGE_URL = "/accounts/password_change/"
MONDAY_MORNING = dt.datetime(2026, 3, 2, 13, 0, tzinfo=dt.UTC)
LOCKED_MESSAGE = "Sign-in locked"
IDLE_MESSAGE = "You were signed out after 15 minutes without activity."
LIFETIME_MESSAGE = "Your session reached its 12-hour limit."


def sign_in(client: Client, username: str, password: str = PASSWORD, ip: str = "192.0.2.10"):
    response = client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=ip)
    if response.status_code == 302:  # then the second step staff pass (infusion_site/mfa, tests/test_mfa.py)
        pass_second_step(client, get_user_model().objects.get(username=username), REMOTE_ADDR=ip)
    return response


def is_signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def assert_signed_in(client: Client, home: str = "/schedule/"):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == home


def assert_sent_to_login_with(client: Client, message: str):
    response = client.get("/", follow=True)
    assert response.redirect_chain == [(f"{LOGIN_URL}?next=/", 302)]
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not is_signed_in(client)
    # The session is gone for good: the next request is anonymous too, and no message repeats.
    again = client.get("/")
    assert again.status_code == 302
    assert again["Location"].startswith(LOGIN_URL)


# --- Login and logout ---------------------------------------------------------------


def test_login_page_shows_our_sign_in_form(db):
    response = Client().get(LOGIN_URL)

    assert response.status_code == 200
    assert "registration/login.html" in [template.name for template in response.templates]
    assert isinstance(response.context["form"], LoginForm)
    page = response.content.decode()
    assert "Sign in" in page
    assert 'autocomplete="username"' in page
    assert 'autocomplete="current-password"' in page
    assert reverse("password_reset") in page


@pytest.mark.parametrize(
    "role, home",
    [
        ("coordinator", "/schedule/"),
        ("assigned_nurse", "/visits/today/"),
        ("unassigned_nurse", "/visits/today/"),
        ("patient_user", "/portal/"),
    ],
)
def test_good_login_sends_each_role_to_its_home_via_root(cast, role, home):
    client = Client()
    user = cast.user(role)
    if role != "patient_user":  # staff pass the second step first (infusion_site/mfa), then reach their home
        second_factor(user)
        response = client.post(LOGIN_URL, {"username": user.username, "password": PASSWORD}, follow=True)
        assert response.redirect_chain == [("/", 302), (f"{reverse('mfa:verify')}?next=%2F", 302)]
        pass_second_step(client, user)

    # Signing in again in a verified session (same user) keeps it verified.
    response = client.post(LOGIN_URL, {"username": user.username, "password": PASSWORD}, follow=True)

    assert response.redirect_chain == [("/", 302), (home, 302)]
    assert response.status_code == 200
    assert is_signed_in(client)
    assert int(client.session[SESSION_KEY]) == cast.user(role).pk


def test_wrong_password_shows_the_form_again_and_does_not_sign_in(cast):
    client = Client()

    response = sign_in(client, cast.coordinator.username, "not-the-password")

    assert response.status_code == 200
    assert isinstance(response.context["form"], LoginForm)
    assert response.context["form"].errors
    assert not is_signed_in(client)


def test_logout_needs_post(cast):
    client = Client()
    sign_in(client, cast.coordinator.username)

    assert client.get(LOGOUT_URL).status_code == 405
    assert is_signed_in(client)


def test_logout_by_post_ends_the_session(cast):
    client = Client()
    sign_in(client, cast.coordinator.username)
    assert_signed_in(client)

    response = client.post(LOGOUT_URL)

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert not is_signed_in(client)
    after = client.get("/patients/")
    assert after.status_code == 302
    assert after["Location"] == f"{LOGIN_URL}?next=/patients/"


# --- Lockout (django-axes) ------------------------------------------------------------


def fail_to_sign_in(client: Client, username: str, times: int, ip: str):
    for _ in range(times):
        response = sign_in(client, username, "wrong-password-123", ip=ip)
    return response


def test_four_failed_logins_do_not_lock(cast):
    client = Client()
    fail_to_sign_in(client, cast.assigned_nurse.username, 4, ip="198.51.100.7")

    response = sign_in(client, cast.assigned_nurse.username, ip="198.51.100.7")

    assert response.status_code == 302
    assert is_signed_in(client)


def test_five_failed_logins_lock_that_username_from_that_ip_even_with_the_right_password(cast):
    client = Client()
    for attempt in range(1, 5):
        response = sign_in(client, cast.assigned_nurse.username, "wrong-password-123", ip="198.51.100.7")
        assert response.status_code == 200, f"attempt {attempt} should show the form again"
        assert LOCKED_MESSAGE not in response.content.decode()
    sign_in(client, cast.assigned_nurse.username, "wrong-password-123", ip="198.51.100.7")

    response = sign_in(client, cast.assigned_nurse.username, PASSWORD, ip="198.51.100.7")

    assert response.status_code == 429
    assert "registration/locked_out.html" in [template.name for template in response.templates]
    page = response.content.decode()
    assert LOCKED_MESSAGE in page
    assert "too many failed sign-in attempts" in page
    assert not is_signed_in(client)
    assert client.get("/")["Location"].startswith(LOGIN_URL)


def test_lockout_does_not_lock_another_username_from_the_same_ip(cast):
    fail_to_sign_in(Client(), cast.assigned_nurse.username, 5, ip="198.51.100.7")
    client = Client()

    response = sign_in(client, cast.unassigned_nurse.username, ip="198.51.100.7")

    assert response.status_code == 302
    assert is_signed_in(client)
    assert int(client.session[SESSION_KEY]) == cast.unassigned_nurse.pk


def test_lockout_does_not_lock_the_same_username_from_another_ip(cast):
    fail_to_sign_in(Client(), cast.assigned_nurse.username, 5, ip="198.51.100.7")
    client = Client()

    response = sign_in(client, cast.assigned_nurse.username, ip="203.0.113.42")

    assert response.status_code == 302
    assert is_signed_in(client)
    # …while the locked pair stays locked.
    assert sign_in(Client(), cast.assigned_nurse.username, ip="198.51.100.7").status_code == 429


# --- Idle logoff and absolute lifetime ---------------------------------------------------


@pytest.fixture
def frozen_clock():
    with time_machine.travel(MONDAY_MORNING, tick=False) as traveller:
        yield traveller


def test_request_within_fifteen_minutes_keeps_the_session_alive(cast, frozen_clock):
    client = Client()
    assert sign_in(client, cast.coordinator.username).status_code == 302

    frozen_clock.shift(dt.timedelta(minutes=14))
    assert_signed_in(client)
    # The 14-minute request reset the idle clock: 28 minutes after sign-in is still fine.
    frozen_clock.shift(dt.timedelta(minutes=14))
    assert_signed_in(client)
    frozen_clock.shift(dt.timedelta(minutes=15))
    assert_signed_in(client)


def test_more_than_fifteen_minutes_idle_signs_the_user_out_with_a_message(cast, frozen_clock):
    client = Client()
    sign_in(client, cast.coordinator.username)
    frozen_clock.shift(dt.timedelta(minutes=14))
    assert_signed_in(client)

    frozen_clock.shift(dt.timedelta(minutes=15, seconds=1))

    assert_sent_to_login_with(client, IDLE_MESSAGE)


def test_session_ends_after_twelve_hours_however_active(cast, frozen_clock):
    client = Client()
    sign_in(client, cast.assigned_nurse.username)
    for _ in range(12 * 6):  # every 10 minutes for 12 hours
        frozen_clock.shift(dt.timedelta(minutes=10))
        assert_signed_in(client, home="/visits/today/")

    frozen_clock.shift(dt.timedelta(minutes=10))

    assert_sent_to_login_with(client, LIFETIME_MESSAGE)


def test_idle_timeout_comes_from_settings(cast, frozen_clock, settings):
    settings.SESSION_IDLE_TIMEOUT = 60
    client = Client()
    sign_in(client, cast.coordinator.username)
    frozen_clock.shift(dt.timedelta(seconds=59))
    assert_signed_in(client)

    frozen_clock.shift(dt.timedelta(seconds=61))

    assert_sent_to_login_with(client, "without activity")


def test_absolute_lifetime_comes_from_settings(cast, frozen_clock, settings):
    settings.SESSION_ABSOLUTE_LIFETIME = 3600
    client = Client()
    sign_in(client, cast.coordinator.username)
    for _ in range(6):
        frozen_clock.shift(dt.timedelta(minutes=10))
        assert_signed_in(client)

    frozen_clock.shift(dt.timedelta(minutes=1))

    assert_sent_to_login_with(client, "Your session reached its 1-hour limit.")


# --- Password length ---------------------------------------------------------------------


def change_password(client: Client, new_password: str):
    return client.post(
        PASSWORD_CHANGE_URL,
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )


def test_password_shorter_than_twelve_characters_is_refused(cast):
    eleven = "vq7-Tz4!mRw"
    assert len(eleven) == 11

    response = change_password(client_for(cast.coordinator), eleven)

    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    cast.coordinator.refresh_from_db()
    assert cast.coordinator.check_password(PASSWORD)
    assert not cast.coordinator.check_password(eleven)


def test_password_of_twelve_characters_is_accepted(cast):
    twelve = "vq7-Tz4!mRw2"
    assert len(twelve) == 12
    client = client_for(cast.coordinator)

    response = change_password(client, twelve)

    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    cast.coordinator.refresh_from_db()
    assert cast.coordinator.check_password(twelve)
    assert is_signed_in(client)  # changing the password keeps this session


# --- The public allowlist ------------------------------------------------------------------

PUBLIC_URL_NAMES = {
    "healthz",
    "login",
    "resume_session",  # signing in again in place after the idle logoff: the same checks as the sign-in page
    # The tablet's offline shell: the service worker, the manifest and the "needs a connection" page hold no data.
    "offline:worker",
    "offline:manifest",
    "offline:page",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "admin:login",
    "portal:calendar_feed",
}


def url_patterns(resolver=None, namespace=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_patterns(pattern, inner)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name}", pattern.callback


def test_only_the_allowlisted_views_are_open_without_login():
    public = {name for name, view in url_patterns() if not getattr(view, "login_required", True)}

    assert public == PUBLIC_URL_NAMES


@pytest.mark.parametrize("url", ["/healthz", "/accounts/login/", "/accounts/password_reset/"])
def test_public_page_answers_anonymously_without_patient_data(cast, url):
    # Names no page template could contain by chance.
    cast.patient.first_name, cast.patient.last_name = "Wilhelmina", "Quartermaine"
    cast.other_patient.first_name, cast.other_patient.last_name = "Thaddeus", "Okonkwo-Lindqvist"
    cast.patient.save()
    cast.other_patient.save()

    response = Client().get(url)

    assert response.status_code == 200
    page = response.content.decode()
    for patient in (cast.patient, cast.other_patient):
        for value in (patient.mrn, patient.first_name, patient.last_name):
            assert value not in page


def test_a_page_refreshing_itself_does_not_keep_the_session_alive(cast):
    client = Client()
    with time_machine.travel(dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC), tick=False) as clock:
        assert client.post(reverse("login"), {"username": "coord", "password": PASSWORD}).status_code == 302
        for _ in range(3):  # the chart's strip polls every minute; the nurse has put the tablet down
            clock.shift(dt.timedelta(minutes=5))
            client.get(reverse("patients:list"), HTTP_X_BACKGROUND_POLL="1")
        clock.shift(dt.timedelta(minutes=1))  # 16 minutes since the nurse last touched the page
        response = client.get(reverse("patients:list"), HTTP_HX_REQUEST="true")
    # In-page: 401 and nothing swapped, so the page can ask for the password in place (see test_resume_session).
    assert (response.status_code, response["X-Signed-Out"], response["HX-Reswap"]) == (401, "1", "none")
    assert SESSION_KEY not in client.session
