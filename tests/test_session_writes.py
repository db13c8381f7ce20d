"""A request does not write the session (nor the signed-in device's row) unless a minute has passed since "last
seen" was last written: a nurse moving through her chart costs reads, not a BEGIN/UPDATE/COMMIT per page."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from infusion_site.middleware import LAST_SEEN_AT
from infusion_site.models import UserSession
from tests.conftest import client_for

START = dt.datetime(2026, 12, 2, 14, 0, tzinfo=dt.UTC)


def writes(context, table) -> int:
    """UPDATEs of ``table`` (SQLite and PostgreSQL both quote the name)."""
    return sum(1 for query in context.captured_queries if query["sql"].lstrip().startswith(f'UPDATE "{table}"'))


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def coordinator(cast, clock):
    return client_for(cast.coordinator)


def get(client, clock, seconds_later):
    clock.shift(dt.timedelta(seconds=seconds_later))
    with CaptureQueriesContext(connection) as context:
        assert client.get(reverse("patients:list")).status_code == 200
    return context


def test_two_requests_within_a_minute_write_the_session_once(coordinator, clock):
    first = get(coordinator, clock, 61)
    second = get(coordinator, clock, 30)

    assert writes(first, "django_session") == 1
    assert writes(second, "django_session") == 0
    assert coordinator.session[LAST_SEEN_AT] == (START + dt.timedelta(seconds=61)).timestamp()


def test_a_request_a_minute_later_writes_it_again(coordinator, clock):
    get(coordinator, clock, 61)
    assert writes(get(coordinator, clock, 59), "django_session") == 0
    assert writes(get(coordinator, clock, 2), "django_session") == 1


def test_the_signed_in_device_is_touched_at_most_once_a_minute(cast, coordinator, clock):
    row = UserSession.objects.get(user=cast.coordinator)
    assert row.last_seen_at == START

    first = get(coordinator, clock, 90)
    second = get(coordinator, clock, 20)

    assert writes(first, "infusion_site_usersession") == 1
    assert writes(second, "infusion_site_usersession") == 0
    row.refresh_from_db()
    assert row.last_seen_at == START + dt.timedelta(seconds=90)


def test_requests_within_the_minute_only_read_the_session(coordinator, clock):
    get(coordinator, clock, 61)
    quiet = get(coordinator, clock, 10)
    touching = [query["sql"] for query in quiet.captured_queries if "django_session" in query["sql"]]
    assert touching and all(sql.lstrip().upper().startswith("SELECT") for sql in touching)


def test_idle_logoff_stays_correct_to_the_minute(coordinator, clock, settings):
    get(coordinator, clock, 61)  # written
    get(coordinator, clock, 50)  # the last activity, inside the minute: not written
    idle = settings.SESSION_IDLE_TIMEOUT

    clock.shift(dt.timedelta(seconds=idle - 60))
    assert coordinator.get(reverse("patients:list")).status_code == 200  # never early by more than the minute

    clock.shift(dt.timedelta(seconds=idle + 1))
    response = coordinator.get(reverse("patients:list"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
