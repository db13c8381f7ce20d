"""The address of record: REMOTE_ADDR unless we run behind proxies of our own, and then only what they wrote.

The lockout (django-axes) and the audit trail both use ``client_address``; a browser writing X-Forwarded-For must
not choose the address either of them records.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from axes.models import AccessAttempt, AccessFailureLog
from django.test import Client, RequestFactory
from django.urls import reverse

from infusion_site.client_address import client_address
from tests.conftest import client_for
from tests.factories import PASSWORD

LOGIN_URL = "/accounts/login/"
PROJECT = Path(__file__).resolve().parent.parent


def request_with(remote_addr="203.0.113.10", forwarded=None):
    headers = {"REMOTE_ADDR": remote_addr}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


# --- The function ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "forwarded", [None, "", "198.51.100.66", "198.51.100.66, 192.0.2.1", "unknown", "8.8.8.8, 9.9.9.9, 1.1.1.1"]
)
def test_without_trusted_proxies_only_the_connection_counts(settings, forwarded):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request_with("203.0.113.10", forwarded)) == "203.0.113.10"


def test_the_default_trusts_no_proxy():
    assert client_address(request_with("203.0.113.10", "198.51.100.66")) == "203.0.113.10"


@pytest.mark.parametrize(
    "forwarded, expected",
    [
        ("198.51.100.7", "198.51.100.7"),  # the browser's address, as our proxy saw it
        ("6.6.6.6, 198.51.100.7", "198.51.100.7"),  # whatever the browser wrote before it is ignored
        ("6.6.6.6, 7.7.7.7,198.51.100.7", "198.51.100.7"),
        ("not-an-address, 198.51.100.7", "198.51.100.7"),
        ("2001:db8::5", "2001:db8::5"),
        ("6.6.6.6, [2001:db8::5]:4711", "2001:db8::5"),
        ("198.51.100.7:51234", "198.51.100.7"),
    ],
)
def test_behind_one_proxy_only_the_right_most_entry_counts(settings, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request_with("10.0.0.2", forwarded)) == expected


def test_behind_one_proxy_a_request_that_bypassed_it_gets_the_connection_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request_with("192.0.2.44")) == "192.0.2.44"


def test_behind_a_proxy_on_a_unix_socket_the_right_most_entry_still_counts(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request_with("", "6.6.6.6, 198.51.100.7")) == "198.51.100.7"


def test_behind_two_proxies_the_second_entry_from_the_right_counts(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    # browser -> edge proxy (writes 198.51.100.7) -> inner proxy (writes the edge's 10.0.0.9) -> app
    assert client_address(request_with("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.9")) == "198.51.100.7"


def test_an_ipv4_mapped_address_is_recorded_as_ipv4(settings):
    assert client_address(request_with("::ffff:203.0.113.10")) == "203.0.113.10"


def test_a_missing_or_broken_connection_address_is_none():
    assert client_address(request_with("")) is None
    assert client_address(request_with("garbage")) is None


def test_a_negative_proxy_count_stops_the_start_up():
    # Settings are read once at import: a fresh process, as tests/test_production_settings does.
    environment = {**os.environ, "TRUSTED_PROXY_COUNT": "-1", "DJANGO_SETTINGS_MODULE": "infusion_site.settings"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=PROJECT, env=environment, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "TRUSTED_PROXY_COUNT is the number of proxies in front of the app" in result.stderr


# --- The lockout -------------------------------------------------------------------------------------------


def fail(client, username, *, remote_addr, forwarded):
    return client.post(
        LOGIN_URL,
        {"username": username, "password": "wrong-password-123"},
        REMOTE_ADDR=remote_addr,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_a_forged_forwarded_for_neither_changes_the_recorded_address_nor_escapes_the_lockout(cast):
    username = cast.assigned_nurse.username
    for attempt in range(5):  # a fresh forged address every time
        fail(Client(), username, remote_addr="203.0.113.50", forwarded=f"198.51.100.{attempt + 1}")

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.50"}
    assert set(AccessFailureLog.objects.values_list("ip_address", flat=True)) == {"203.0.113.50"}
    locked = Client().post(
        LOGIN_URL,
        {"username": username, "password": PASSWORD},
        REMOTE_ADDR="203.0.113.50",
        HTTP_X_FORWARDED_FOR="198.51.100.99",
    )
    assert locked.status_code == 429


def test_behind_one_proxy_the_lockout_keys_on_the_browser_not_the_proxy(cast, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    username = cast.assigned_nurse.username
    for _ in range(5):
        fail(Client(), username, remote_addr="10.0.0.2", forwarded="6.6.6.6, 198.51.100.7")

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}
    # Another browser behind the same proxy is not locked out by that one...
    other = Client()
    response = other.post(
        LOGIN_URL,
        {"username": username, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="192.0.2.8",
    )
    assert response.status_code == 302
    # ...and the locked browser cannot get out by writing another address in front.
    again = Client().post(
        LOGIN_URL,
        {"username": username, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="192.0.2.8, 198.51.100.7",
    )
    assert again.status_code == 429


# --- The audit trail ---------------------------------------------------------------------------------------


def opened_from(cast, **headers):
    client_for(cast.coordinator).get(reverse("patients:detail", args=[cast.patient.pk]), **headers)
    return LogEntry.objects.get_for_object(cast.patient).filter(action=LogEntry.Action.ACCESS).latest("timestamp")


def test_the_audit_trail_ignores_a_forged_forwarded_for(cast):
    entry = opened_from(cast, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1", HTTP_X_FORWARDED_PORT="1")
    assert entry.remote_addr == "203.0.113.7"
    assert entry.remote_port is None


def test_behind_one_proxy_the_audit_trail_records_the_browser(cast, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    entry = opened_from(cast, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7")
    assert entry.remote_addr == "203.0.113.7"


def test_the_audit_middleware_in_use_is_ours(settings):
    assert "auditlog.middleware.AuditlogMiddleware" not in settings.MIDDLEWARE
    assert "infusion_site.audit_middleware.AuditlogMiddleware" in settings.MIDDLEWARE
    assert settings.AXES_CLIENT_IP_CALLABLE == "infusion_site.client_address.client_address"


def test_visit_verification_records_no_address_of_its_own():
    """EVV's location is the tablet's GPS fix, not an address from the request; should a check-in ever record the
    request's address, it must come from client_address (this test then needs its own case)."""
    checkin = PROJECT / "visits" / "chart" / "checkin"
    sources = "".join(path.read_text() for path in checkin.rglob("*.py"))
    assert "REMOTE_ADDR" not in sources and "X-Forwarded-For" not in sources and "FORWARDED_FOR" not in sources
