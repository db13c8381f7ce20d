"""The alert queue at agency size: each category shows a page, "Show more" adds one, the counts are of every alert,
and the alerts about the coordinator's own teams' patients come first."""

import datetime as dt
import html

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patients.models import Team
from tests import factories
from tests.conftest import client_for
from visits.alerts.selectors import ALERTS_PER_PAGE
from visits.models import Visit

NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
QUEUE = "/alerts/"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def unassigned_visits(count: int, *, team=None, hours_from_now: int = 10) -> list:
    """Unassigned visits within the next 72 hours: one "Unassigned visits" alert each."""
    patient = factories.PatientFactory(team=team)
    order = factories.OrderFactory(patient=patient)
    return Visit.objects.bulk_create(
        Visit(
            patient=patient,
            order=order,
            cycle_number=index + 1,
            planned_start=NOW + dt.timedelta(hours=hours_from_now, minutes=index),
            planned_minutes=120,
        )
        for index in range(count)
    )


def shown_unassigned(page: str) -> int:
    return page.count('data-kind="unassigned_visit"')


def test_a_category_shows_a_page_and_show_more_adds_one_with_the_count_of_every_alert(cast):
    client = client_for(cast.coordinator)
    unassigned_visits(ALERTS_PER_PAGE * 2 + 5)
    page = client.get(QUEUE).content.decode()
    assert shown_unassigned(page) == ALERTS_PER_PAGE
    assert f'data-count="unassigned_visit">{ALERTS_PER_PAGE * 2 + 5}<' in page
    assert f"Show more ({ALERTS_PER_PAGE + 5} not shown)" in page
    assert 'href="?unassigned_visit=2#unassigned_visit"' in page
    assert shown_unassigned(client.get(QUEUE, {"unassigned_visit": 2}).content.decode()) == ALERTS_PER_PAGE * 2
    everything = client.get(QUEUE, {"unassigned_visit": 3}).content.decode()
    assert shown_unassigned(everything) == ALERTS_PER_PAGE * 2 + 5 and "Show more" not in everything
    assert shown_unassigned(client.get(QUEUE, {"unassigned_visit": "lots"}).content.decode()) == ALERTS_PER_PAGE


def test_the_coordinators_own_teams_come_first(cast):
    north = Team.objects.create(name="North")
    north.members.add(cast.coordinator)
    others = unassigned_visits(ALERTS_PER_PAGE, hours_from_now=2)  # sooner, but no team of hers
    ours = unassigned_visits(3, team=north, hours_from_now=30)
    page = html.unescape(client_for(cast.coordinator).get(QUEUE).content.decode())
    section = page[page.index('id="unassigned_visit"') :]
    section = section[: section.index("</section>")]
    first = [f'data-key="unassigned_visit-{visit.pk}"' for visit in ours]
    assert all(key in section for key in first)  # on the first page although they are the least urgent
    assert section.index(first[0]) < section.index(f'data-key="unassigned_visit-{others[0].pk}"')
    assert section.count("data-own-team") == 3


def test_the_queue_costs_the_same_queries_with_ten_times_the_alerts(cast):
    client = client_for(cast.coordinator)
    Team.objects.create(name="North").members.add(cast.coordinator)
    unassigned_visits(30)
    client.get(QUEUE)  # warm caches

    def measure():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(QUEUE)
        assert response.status_code == 200
        # The access log's insert of the patients named is batched by the database's parameter limit: not counted.
        reads = [query for query in queries if "auditlog_logentry" not in query["sql"]]
        return len(reads), len(response.content)

    small, _ = measure()
    unassigned_visits(300)
    large, size = measure()
    assert small == large
    assert size < 300 * 1024  # 330 alerts of the kind, one page of them shown
