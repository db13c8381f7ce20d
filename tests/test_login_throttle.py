"""Guessing at one account from many addresses is slowed; the owner's browser never is (OWASP device cookies).

The cast's patients sign in here: their sign-in is the password alone, so these tests are about the throttle only.

And the sign-in form refuses what no account can have before anything touches the database.
"""

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth import SESSION_KEY
from django.core import signing
from django.test import Client
from django.urls import reverse

from infusion_site import login_throttle
from infusion_site.forms import LoginForm
from tests.factories import PASSWORD

LOGIN_URL = "/accounts/login/"
START = dt.datetime(2026, 12, 2, 14, 0, tzinfo=dt.UTC)
WRONG = "wrong-password-123"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def sign_in(client, username, password=PASSWORD, ip="192.0.2.10"):
    return client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=ip)


def guess(username, times, *, first=1):
    """``times`` wrong passwords, each from its own address (below axes' per-address lockout)."""
    for n in range(first, first + times):
        response = sign_in(Client(), username, WRONG, ip=f"198.51.100.{n}")
        assert response.status_code == 200
        assert "Too many attempts" not in response.content.decode(), "a guess was refused before being checked"


def messages_of(response) -> list[str]:
    return response.context["form"].non_field_errors()


def forbid_password_checks(monkeypatch):
    """From now on, fail the test if a password would be checked."""

    def refuse(*args, **kwargs):
        raise AssertionError("the password was checked")

    monkeypatch.setattr("django.contrib.auth.forms.authenticate", refuse)
    monkeypatch.setattr("infusion_site.views.authenticate", refuse)


@pytest.fixture
def no_password_check(monkeypatch):
    forbid_password_checks(monkeypatch)


# --- The throttle -------------------------------------------------------------------------------------------


def test_nine_failures_from_many_addresses_do_not_slow_the_account(cast, clock):
    guess(cast.patient_user.username, 9)
    client = Client()
    assert sign_in(client, cast.patient_user.username, ip="203.0.113.1").status_code == 302
    assert SESSION_KEY in client.session


def test_after_ten_failures_a_new_browser_is_refused_without_its_password_being_checked(cast, clock, monkeypatch):
    username = cast.patient_user.username
    guess(username, 10)
    failures = AccessFailureLog.objects.count()
    assert failures == 10
    forbid_password_checks(monkeypatch)
    client = Client()
    response = sign_in(client, username, ip="203.0.113.1")

    assert response.status_code == 200
    assert messages_of(response) == ["Too many attempts for this account. Try again in 30 seconds."]
    assert "Too many attempts for this account. Try again in 30 seconds." in response.content.decode()
    assert SESSION_KEY not in client.session
    assert AccessFailureLog.objects.count() == failures  # a refused attempt is not a failure


def test_the_cool_down_ends_and_then_the_right_password_works(cast, clock):
    username = cast.patient_user.username
    guess(username, 10)
    clock.shift(dt.timedelta(seconds=29))
    assert messages_of(sign_in(Client(), username, ip="203.0.113.1")) == [
        "Too many attempts for this account. Try again in 1 second."
    ]
    clock.shift(dt.timedelta(seconds=1))
    client = Client()
    assert sign_in(client, username, ip="203.0.113.1").status_code == 302
    assert SESSION_KEY in client.session


def test_each_further_failure_doubles_the_cool_down_up_to_fifteen_minutes(cast, clock):
    username = cast.patient_user.username
    guess(username, 10)
    expected = [30, 60, 120, 240, 480, 900, 900]
    for n, wait in enumerate(expected):
        clock.shift(dt.timedelta(seconds=wait - 1))
        assert messages_of(sign_in(Client(), username, WRONG, ip="203.0.113.1"))[0].startswith("Too many attempts")
        clock.shift(dt.timedelta(seconds=1))
        response = sign_in(Client(), username, WRONG, ip=f"203.0.113.{n + 10}")
        assert "Too many attempts" not in response.content.decode()  # the password was checked, and was wrong
    refused = sign_in(Client(), username, ip="203.0.113.1")
    assert messages_of(refused) == ["Too many attempts for this account. Try again in 15 minutes."]


def test_the_message_rounds_up_to_whole_minutes(cast, clock):
    username = cast.patient_user.username
    guess(username, 10)
    clock.shift(dt.timedelta(seconds=30))
    guess(username, 1, first=11)
    clock.shift(dt.timedelta(seconds=60))
    guess(username, 1, first=12)  # the 12th failure: 120 s from now
    assert messages_of(sign_in(Client(), username, ip="203.0.113.1")) == [
        "Too many attempts for this account. Try again in 2 minutes."
    ]
    clock.shift(dt.timedelta(seconds=50))
    assert messages_of(sign_in(Client(), username, ip="203.0.113.1")) == [
        "Too many attempts for this account. Try again in 2 minutes."
    ]
    clock.shift(dt.timedelta(seconds=11))
    assert messages_of(sign_in(Client(), username, ip="203.0.113.1")) == [
        "Too many attempts for this account. Try again in 59 seconds."
    ]


def test_an_unknown_username_gets_the_same_answer(cast, clock):
    guess("nobody-by-this-name", 10)
    guess(cast.patient_user.username, 10)
    unknown = sign_in(Client(), "nobody-by-this-name", ip="203.0.113.1")
    known = sign_in(Client(), cast.patient_user.username, ip="203.0.113.1")
    assert (
        messages_of(unknown) == messages_of(known) == ["Too many attempts for this account. Try again in 30 seconds."]
    )


def test_the_throttle_is_per_username(cast, clock):
    guess(cast.patient_user.username, 10)
    assert sign_in(Client(), cast.other_patient_user.username, ip="198.51.100.1").status_code == 302


def test_failures_older_than_the_window_no_longer_count(cast, clock):
    username = cast.patient_user.username
    guess(username, 9)
    clock.shift(dt.timedelta(minutes=61))
    guess(username, 1, first=20)
    assert sign_in(Client(), username, ip="203.0.113.1").status_code == 302


def test_the_settings_choose_the_limit_and_the_cool_down(cast, clock, settings):
    settings.LOGIN_THROTTLE_FAILURES = 3
    settings.LOGIN_THROTTLE_FIRST_COOLDOWN_SECONDS = 120
    guess(cast.patient_user.username, 3)
    assert messages_of(sign_in(Client(), cast.patient_user.username, ip="203.0.113.1")) == [
        "Too many attempts for this account. Try again in 2 minutes."
    ]


# --- The owner's browser ----------------------------------------------------------------------------------


def test_the_owners_browser_that_signed_in_before_is_never_slowed(cast, clock):
    username = cast.patient_user.username
    tablet = Client()
    assert sign_in(tablet, username, ip="192.0.2.10").status_code == 302
    tablet.post(reverse("logout"))
    guess(username, 10)
    assert messages_of(sign_in(Client(), username, ip="203.0.113.1"))[0].startswith("Too many attempts")

    response = sign_in(tablet, username, ip="192.0.2.10")

    assert response.status_code == 302
    assert int(tablet.session[SESSION_KEY]) == cast.patient_user.pk


def test_the_device_cookie_is_signed_httponly_and_names_the_account(cast, clock):
    client = Client()
    response = sign_in(client, cast.patient_user.username)
    cookie = response.cookies[login_throttle.DEVICE_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/accounts/"
    assert cookie["max-age"] == 180 * 24 * 3600
    assert signing.loads(cookie.value, salt=login_throttle.DEVICE_COOKIE_SALT) == [cast.patient_user.username]


def test_a_failed_sign_in_sets_no_device_cookie(cast, clock):
    response = sign_in(Client(), cast.patient_user.username, WRONG)
    assert login_throttle.DEVICE_COOKIE not in response.cookies


def test_a_forged_or_foreign_device_cookie_does_not_help(cast, clock):
    username = cast.patient_user.username
    colleague = Client()
    assert sign_in(colleague, cast.other_patient_user.username).status_code == 302
    guess(username, 10)

    # A cookie for another account on this browser is no cookie for this one.
    assert messages_of(sign_in(colleague, username, ip="203.0.113.1"))[0].startswith("Too many attempts")
    forged = Client()
    forged.cookies[login_throttle.DEVICE_COOKIE] = signing.dumps([username], salt="some-other-salt")
    assert messages_of(sign_in(forged, username, ip="203.0.113.1"))[0].startswith("Too many attempts")
    unsigned = Client()
    unsigned.cookies[login_throttle.DEVICE_COOKIE] = username
    assert messages_of(sign_in(unsigned, username, ip="203.0.113.1"))[0].startswith("Too many attempts")


def test_an_expired_device_cookie_no_longer_counts(cast, clock):
    username = cast.patient_user.username
    tablet = Client()
    sign_in(tablet, username)
    clock.shift(dt.timedelta(days=181))
    guess(username, 10)
    assert messages_of(sign_in(tablet, username))[0].startswith("Too many attempts")


def test_one_browser_remembers_each_account_signed_in_on_it(cast, clock):
    shared = Client()
    for user in (cast.patient_user, cast.other_patient_user):
        assert sign_in(shared, user.username).status_code == 302
        shared.post(reverse("logout"))
    guess(cast.patient_user.username, 10)
    guess(cast.other_patient_user.username, 10, first=50)
    assert sign_in(shared, cast.patient_user.username).status_code == 302
    shared.post(reverse("logout"))
    assert sign_in(shared, cast.other_patient_user.username).status_code == 302


def test_the_lockout_per_username_and_address_still_applies_to_the_owners_browser(cast, clock):
    username = cast.patient_user.username
    tablet = Client()
    sign_in(tablet, username, ip="192.0.2.10")
    tablet.post(reverse("logout"))
    for _ in range(5):
        sign_in(tablet, username, WRONG, ip="192.0.2.10")
    assert sign_in(tablet, username, ip="192.0.2.10").status_code == 429


# --- The in-place resume after the idle logoff ------------------------------------------------------------


def resume(client, username, password=PASSWORD, ip="192.0.2.10"):
    return client.post(reverse("resume_session"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_resuming_is_throttled_for_a_browser_that_never_signed_in(cast, clock, monkeypatch):
    guess(cast.patient_user.username, 10)
    forbid_password_checks(monkeypatch)
    response = resume(Client(), cast.patient_user.username, ip="203.0.113.1")
    assert response.status_code == 429
    assert response.json() == {"error": "Too many attempts for this account. Try again in 30 seconds."}


def test_resuming_wrong_passwords_count_towards_the_throttle(cast, clock):
    for n in range(10):
        assert resume(Client(), cast.patient_user.username, WRONG, ip=f"198.51.100.{n + 1}").status_code == 400
    assert messages_of(sign_in(Client(), cast.patient_user.username, ip="203.0.113.1"))[0].startswith("Too many")


def test_the_owners_own_browser_resumes_during_an_attack(cast, clock):
    username = cast.patient_user.username
    tablet = Client()
    sign_in(tablet, username)
    clock.shift(dt.timedelta(minutes=16))  # the idle logoff
    guess(username, 10)
    response = resume(tablet, username)
    assert response.status_code == 200 and response.json()["csrf"]
    assert int(tablet.session[SESSION_KEY]) == cast.patient_user.pk


# --- What the form refuses before the database ----------------------------------------------------------------


@pytest.mark.parametrize(
    "username, password, field, message",
    [
        ("x" * 151, PASSWORD, "username", "A username has at most 150 characters; this one has 151."),
        ("x" * 300, PASSWORD, "username", "A username has at most 150 characters; this one has 300."),
        ("nurse\x00", PASSWORD, "username", "Null characters are not allowed."),
        ("nurse\x1b[31m", PASSWORD, "username", "this one has an invisible control character"),
        ("nurse\n1", PASSWORD, "username", "this one has an invisible control character"),
        ("nurse1", "p" * 4097, "password", "A password has at most 4096 characters; this one has 4097."),
        ("nurse1", "pass\x00word", "password", "Null characters are not allowed."),
    ],
)
def test_impossible_input_is_refused_at_its_field_before_the_database(
    cast, username, password, field, message, django_assert_num_queries, no_password_check
):
    with django_assert_num_queries(0):
        form = LoginForm(request=None, data={"username": username, "password": password})
        assert not form.is_valid()
    assert any(message in error for error in form.errors[field])
    assert not AccessAttempt.objects.exists() and not AccessFailureLog.objects.exists()


def test_a_300_character_username_on_the_page_is_a_message_next_to_the_field(cast):
    response = sign_in(Client(), "x" * 300)
    assert response.status_code == 200
    assert response.context["form"].errors["username"] == ["A username has at most 150 characters; this one has 300."]
    assert 'id="error_1_id_username"' in response.content.decode()
    assert not AccessAttempt.objects.exists()


def test_the_longest_username_and_password_are_checked_normally(cast):
    response = sign_in(Client(), "u" * 150, "p" * 4096)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()  # wrong, as any wrong password
    assert AccessFailureLog.objects.filter(username="u" * 150).count() == 1


@pytest.mark.parametrize(
    "data", [{"username": "x" * 300, "password": "y"}, {"username": "nurse\x1b", "password": "y"}, {"username": "a"}]
)
def test_resuming_refuses_impossible_input(cast, data, no_password_check):
    response = Client().post(reverse("resume_session"), data)
    assert response.status_code == 400 and response.json()["error"]
    assert not AccessAttempt.objects.exists()


# --- The message ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "seconds, text",
    [(1, "1 second"), (30, "30 seconds"), (59, "59 seconds"), (60, "1 minute"), (61, "2 minutes"), (900, "15 minutes")],
)
def test_wait_message(seconds, text):
    assert login_throttle.wait_message(seconds) == f"Too many attempts for this account. Try again in {text}."


def test_cooldown_grows_and_stops_at_the_ceiling(settings):
    waits = [login_throttle.cooldown_seconds(n) for n in (9, 10, 11, 12, 15, 16, 1000)]
    assert waits == [0, 30, 60, 120, 900, 900, 900]
