"""The tablet's offline shell: the service worker, the manifest and the "needs a connection" page hold no user or
patient data, the worker changes when a kept asset does, and My day names exactly the pages the tablet keeps."""

import datetime as dt
import html
import json
import os
import re
import shutil

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection
from django.templatetags.static import static
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from tests.conftest import client_for
from visits.chart.offline.views import SHELL_ASSETS
from visits.models import Visit

# Friday 20 November 2026, 9:00 am in Chicago (the patients' zone), 10:00 am in New York (the agency's).
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
CHICAGO = dt.timezone(dt.timedelta(hours=-6))


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, 0, tzinfo=CHICAGO)


def visit_of(nurse, *, starts, patient=None, **kwargs):
    patient = patient or factories.PatientFactory()
    factories.on_care_team(patient, nurse)
    order = factories.OrderFactory(patient=patient)
    return factories.VisitFactory(order=order, patient=patient, nurse=nurse, planned_start=starts, **kwargs)


def worker(client):
    return client.get(reverse("offline:worker"))


def private_words(cast) -> list[str]:
    """What must never appear in the shell: who is signed in and whose chart she documents."""
    nurse, patient = cast.assigned_nurse, cast.patient
    return [nurse.username, nurse.first_name, nurse.last_name, patient.first_name, patient.last_name]


# --- the service worker -------------------------------------------------------------------------------------------


def test_the_worker_is_javascript_allowed_at_the_root_and_revalidated_each_time(cast):
    response = worker(client_for(None))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"


def test_the_worker_keeps_every_shell_asset_and_the_offline_page(cast):
    script = worker(client_for(None)).content.decode()
    [assets] = re.findall(r"var ASSETS = \[OFFLINE_PAGE\]\.concat\((\[.*?\])\);", script)
    assert json.loads(assets) == [static(path) for path in SHELL_ASSETS]
    assert static("js/outbox.js") in json.loads(assets) and static("css/app.css") in json.loads(assets)
    assert f'var OFFLINE_PAGE = "{reverse("offline:page")}";' in script


def test_the_worker_fetched_by_a_signed_in_nurse_holds_no_user_or_patient_data(cast, clock):
    visit_of(cast.assigned_nurse, starts=at(20, 9), patient=cast.patient)
    anonymous = worker(client_for(None)).content
    signed_in = worker(client_for(cast.assigned_nurse)).content
    assert signed_in == anonymous  # the same script for everyone
    script = signed_in.decode()
    for word in private_words(cast):
        assert word not in script, word
    assert "csrf" not in script.lower()


@pytest.fixture
def copied_static(tmp_path, settings):
    """The static files served from a copy, so a test may change one without touching the real ones."""
    copy = tmp_path / "static"
    shutil.copytree(django_settings.BASE_DIR / "static", copy)
    settings.STATICFILES_DIRS = [copy]
    return copy


def version_of(script: str) -> str:
    [version] = re.findall(r'var SHELL = "shell-([0-9a-f]+)";', script)
    return version


def test_the_worker_changes_when_a_kept_asset_changes_and_not_otherwise(cast, copied_static):
    client = client_for(None)
    before = worker(client).content.decode()
    assert worker(client).content.decode() == before  # stable while nothing changes

    outbox = copied_static / "js" / "outbox.js"
    stat = outbox.stat()
    os.utime(outbox, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    after = worker(client).content.decode()

    assert version_of(after) != version_of(before)
    assert after.replace(version_of(after), "") == before.replace(version_of(before), "")


def test_the_worker_does_not_change_when_an_asset_it_does_not_keep_changes(cast, copied_static):
    client = client_for(None)
    before = version_of(worker(client).content.decode())
    other = copied_static / "js" / "journal_chart.js"
    assert "js/journal_chart.js" not in SHELL_ASSETS
    stat = other.stat()
    os.utime(other, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert version_of(worker(client).content.decode()) == before


# --- the manifest and the offline page ----------------------------------------------------------------------------


def test_the_manifest_is_json_opening_on_my_day_with_an_icon(cast):
    response = client_for(cast.assigned_nurse).get(reverse("offline:manifest"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content)
    assert data["start_url"] == "/visits/today/" == reverse("visits:today")
    assert data["display"] == "standalone" and data["scope"] == "/"
    [icon] = data["icons"]
    assert icon["src"] == static("icons/app.svg") and icon["type"] == "image/svg+xml"
    for word in private_words(cast):
        assert word not in response.content.decode()


@pytest.mark.parametrize("role", ["anonymous", "assigned_nurse", "coordinator"])
def test_the_offline_page_says_it_needs_a_connection_and_names_nobody(cast, role):
    visit_of(cast.assigned_nurse, starts=NOW, patient=cast.patient)
    response = client_for(cast.user(role)).get(reverse("offline:page"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "needs a connection" in page
    assert f'href="{reverse("visits:today")}"' in page
    words = private_words(cast) + [cast.coordinator.username, cast.coordinator.first_name, "Sign out"]
    for word in words:
        assert word not in page, word


# --- what My day asks the tablet to keep --------------------------------------------------------------------------


def kept_pages(nurse) -> list[str]:
    response = client_for(nurse).get(reverse("visits:today"))
    assert response.status_code == 200
    [raw] = re.findall(r'data-offline-keep="([^"]*)"', response.content.decode())
    return json.loads(html.unescape(raw))


def chart_and_next(visit) -> list[str]:
    return [reverse("visits:chart", args=[visit.pk]), reverse("visits:next", args=[visit.pk])]


def test_my_day_keeps_her_visits_today_and_tomorrow_and_nothing_else(cast, clock):
    nurse = cast.assigned_nurse
    afternoon = visit_of(nurse, starts=at(20, 14))
    morning = visit_of(nurse, starts=at(20, 8), patient=cast.patient)
    tomorrow = visit_of(nurse, starts=at(21, 10))
    day_after = visit_of(nurse, starts=at(22, 10))  # on My day, not kept
    yesterday = visit_of(nurse, starts=at(19, 10))
    cancelled = visit_of(nurse, starts=at(20, 11), status=Visit.Status.CANCELLED)
    anothers = visit_of(cast.unassigned_nurse, starts=at(20, 12))

    kept = kept_pages(nurse)

    assert kept == [reverse("visits:today"), *chart_and_next(morning), *chart_and_next(afternoon)] + chart_and_next(
        tomorrow
    )
    for visit in (day_after, yesterday, cancelled, anothers):
        assert reverse("visits:chart", args=[visit.pk]) not in kept


def test_my_day_keeps_tomorrow_by_the_nurses_own_time_zone(cast, clock):
    from visits.models import NurseProfile

    nurse = cast.assigned_nurse
    NurseProfile.objects.update_or_create(nurse=nurse, defaults={"time_zone": "America/Los_Angeles"})
    # 23:30 on the 21st in Los Angeles is 01:30 on the 22nd in Chicago: still her tomorrow.
    late = visit_of(nurse, starts=dt.datetime(2026, 11, 21, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-8))))
    # 00:30 on the 22nd in Los Angeles: the day after.
    after = visit_of(nurse, starts=dt.datetime(2026, 11, 22, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=-8))))
    nurse.refresh_from_db()

    kept = kept_pages(nurse)

    assert kept == [reverse("visits:today"), *chart_and_next(late)]
    assert reverse("visits:chart", args=[after.pk]) not in kept


def test_my_day_with_no_visits_keeps_only_itself(cast, clock):
    assert kept_pages(cast.assigned_nurse) == [reverse("visits:today")]


def test_my_day_query_count_is_the_same_with_one_and_five_kept_visits(cast, clock):
    nurse, url = cast.assigned_nurse, reverse("visits:today")
    client = client_for(nurse)

    visit_of(nurse, starts=at(20, 8))
    client.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as one:
        response = client.get(url)
    assert len(re.findall(r"/visits/\d+/next/", html.unescape(response.content.decode()))) == 1

    for hour in (9, 10, 11):
        visit_of(nurse, starts=at(20, hour))
    visit_of(nurse, starts=at(21, 9))
    with CaptureQueriesContext(connection) as five:
        response = client.get(url)

    assert len(kept_pages(nurse)) == 1 + 2 * 5
    assert len(five) == len(one), [query["sql"] for query in five.captured_queries]
