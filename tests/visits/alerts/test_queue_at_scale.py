"""The alert queue at agency size: a big kind is counted and paged by the database (resolved alerts left out there),
the page costs the same queries whatever the number of alerts, and the coordinator's own teams come first."""

import datetime as dt
import html
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patients.models import Team
from tests import factories
from tests.conftest import client_for
from visits.alerts import registry
from visits.alerts.selectors import ALERTS_PER_PAGE, collect_alerts, open_rows
from visits.alerts.services import alert_resolve
from visits.models import Notification, Visit, VisitVerification

NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 20)
QUEUE = "/alerts/"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def unassigned_visits(count: int, *, team=None, hours_from_now: int = 10) -> list:
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


def ending_authorizations(count: int, *, team=None, days_left: int = 10) -> list:
    return [
        factories.AuthorizationFactory(
            patient=factories.PatientFactory(team=team), valid_to=TODAY + dt.timedelta(days=days_left)
        )
        for _ in range(count)
    ]


def resolve(kind: str, about, coordinator) -> None:
    [alert] = [alert for alert in collect_alerts(kinds={kind}) if alert.about == about]
    alert_resolve(alert=alert, note="Handled", by=coordinator)


def section(page: str, kind: str) -> str:
    page = html.unescape(page)
    part = page[page.index(f'id="{kind}"') :]
    return part[: part.index("</section>")]


def measure(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(QUEUE)
    assert response.status_code == 200
    # The access log's insert of the patients named is batched by the database's parameter limit: not counted.
    reads = [query for query in queries if "auditlog_logentry" not in query["sql"]]
    return len(reads), response.content.decode()


def test_the_queue_costs_the_same_queries_with_twenty_times_the_alerts(cast):
    north = Team.objects.create(name="North")
    north.members.add(cast.coordinator)
    elsewhere = Team.objects.create(name="South")
    client = client_for(cast.coordinator)
    unassigned_visits(2, team=north)
    unassigned_visits(1, team=elsewhere)
    authorizations = ending_authorizations(3, team=elsewhere)
    resolve("authorization", authorizations[0], cast.coordinator)
    client.get(QUEUE)  # warm caches

    small, page = measure(client)
    assert 'data-count="authorization">2<' in page

    unassigned_visits(57, team=elsewhere)
    authorizations += ending_authorizations(57, team=elsewhere)
    for authorization in authorizations[1:4]:
        resolve("authorization", authorization, cast.coordinator)
    large, page = measure(client)

    assert small == large
    assert 'data-count="unassigned_visit">60<' in page
    assert 'data-count="authorization">56<' in page  # 60, less the 4 resolved
    assert section(page, "unassigned_visit").count('data-kind="unassigned_visit"') == ALERTS_PER_PAGE
    assert section(page, "authorization").count('data-kind="authorization"') == ALERTS_PER_PAGE
    counts = [int(count) for count in re.findall(r'data-count="\w+">(\d+)<', page)]
    assert f"<strong>{sum(counts)}</strong> to handle" in page and sum(counts) >= 116


def test_resolved_alerts_are_left_out_by_the_database_and_never_shown(cast):
    authorizations = ending_authorizations(3)
    resolve("authorization", authorizations[1], cast.coordinator)

    page = client_for(cast.coordinator).get(QUEUE).content.decode()

    assert 'data-count="authorization">2<' in page
    assert f'data-key="authorization-{authorizations[1].pk}-ending"' not in page
    assert f'data-key="authorization-{authorizations[0].pk}-ending"' in page


def test_own_teams_come_first_and_show_more_pages_a_database_kind(cast):
    north = Team.objects.create(name="North")
    north.members.add(cast.coordinator)
    others = ending_authorizations(ALERTS_PER_PAGE + 5, days_left=2)  # urgent, but no team of hers
    ours = ending_authorizations(2, team=north, days_left=12)
    client = client_for(cast.coordinator)

    first = section(client.get(QUEUE).content.decode(), "authorization")

    keys = [f'data-key="authorization-{authorization.pk}-ending"' for authorization in ours]
    assert all(key in first for key in keys)
    assert first.index(keys[1]) < first.index(f'data-key="authorization-{others[0].pk}-ending"')
    assert first.count("data-own-team") == 2
    assert "Show more (7 not shown)" in first
    assert 'href="?authorization=2#authorization"' in first
    everything = section(client.get(QUEUE, {"authorization": 2}).content.decode(), "authorization")
    assert everything.count('data-kind="authorization"') == ALERTS_PER_PAGE + 7
    assert "Show more" not in everything


def test_each_database_source_spells_its_key_in_sql_as_the_alert_does(cast):
    unassigned_visits(2)
    tight = factories.AuthorizationFactory(
        patient=cast.patient, visits_authorized=1, valid_to=TODAY + dt.timedelta(days=5)
    )
    factories.VisitFactory(patient=cast.patient, order=factories.OrderFactory(patient=cast.patient), planned_start=NOW)
    database_sources = [source for source in registry.SOURCES.values() if source.in_database]
    unsigned_visits(2, nurse=factories.nurse())
    failed_notifications(2, cast.patient_user)
    assert {"unassigned_visit", "authorization", "unsigned_chart", "notification_failed"} <= {
        source.kind for source in database_sources
    }
    now = NOW
    for source in database_sources:
        rows = list(open_rows(source, now=now))
        assert [row.alert_key for row in rows] == [source.build(row, now=now).key for row in rows]
        assert sorted(alert.key for alert in source.collect(now=now)) == sorted(row.alert_key for row in rows)
    assert f"authorization-{tight.pk}-ending-few_left" in [alert.key for alert in collect_alerts()]


def unsigned_visits(count: int, *, nurse) -> list:
    """Completed visits planned to have ended 8 hours ago (and a minute earlier each), not signed."""
    patient = factories.PatientFactory()
    order = factories.OrderFactory(patient=patient)
    return Visit.objects.bulk_create(
        Visit(
            patient=patient,
            order=order,
            cycle_number=index + 1,
            nurse=nurse,
            status=Visit.Status.COMPLETED,
            planned_start=NOW - dt.timedelta(hours=10, minutes=index),
            planned_minutes=120,
        )
        for index in range(count)
    )


def test_unsigned_charts_are_counted_and_paged_by_the_database(cast):
    client = client_for(cast.coordinator)
    visits = unsigned_visits(3, nurse=cast.assigned_nurse)
    # Planned to end 2 hours ago, but checked out 7 hours ago: on the queue, due at its check-out.
    [checked_out] = unsigned_visits(1, nurse=cast.assigned_nurse)
    Visit.objects.filter(pk=checked_out.pk).update(planned_start=NOW - dt.timedelta(hours=3), planned_minutes=60)
    VisitVerification.objects.create(
        visit=checked_out,
        nurse=cast.assigned_nurse,
        service="IVIG",
        checked_in_at=NOW - dt.timedelta(hours=8),
        checked_out_at=NOW - dt.timedelta(hours=7),
    )
    [unstaffed] = unsigned_visits(1, nurse=None)
    Visit.objects.filter(pk=unstaffed.pk).update(status=Visit.Status.SCHEDULED)  # no nurse, never started: no chart
    resolve("unsigned_chart", visits[0], cast.coordinator)
    client.get(QUEUE)  # warm caches

    small, page = measure(client)
    assert 'data-count="unsigned_chart">3<' in page

    visits += unsigned_visits(40, nurse=cast.assigned_nurse)
    resolve("unsigned_chart", visits[5], cast.coordinator)
    large, page = measure(client)

    assert small == large
    assert 'data-count="unsigned_chart">42<' in page  # 44, less the 2 resolved
    assert section(page, "unsigned_chart").count('data-kind="unsigned_chart"') == ALERTS_PER_PAGE
    assert f'data-key="unsigned_chart-{visits[0].pk}"' not in page
    source = registry.SOURCES["unsigned_chart"]
    rows = list(open_rows(source, now=NOW))
    assert rows[0].alert_due == NOW - dt.timedelta(hours=8, minutes=39)
    assert [row.alert_due for row in rows if row.pk == checked_out.pk] == [NOW - dt.timedelta(hours=7)]
    assert [row.alert_key for row in rows] == [source.build(row, now=NOW).key for row in rows]
    resolved = {f"unsigned_chart-{visits[0].pk}", f"unsigned_chart-{visits[5].pk}"}
    listed = [alert.key for alert in source.collect(now=NOW) if alert.key not in resolved]
    assert sorted(listed) == sorted(row.alert_key for row in rows)


def failed_notifications(count: int, recipient, *, start: int = 0) -> list:
    """Messages given up on, a minute apart, the last (with microseconds) an hour ago."""
    return Notification.objects.bulk_create(
        Notification(
            recipient=recipient,
            channel="email",
            kind="visit_reminder",
            key=f"failed-{start + index}",
            subject="s",
            body="b",
            due_at=NOW,
            next_attempt_at=NOW,
            failed_at=NOW - dt.timedelta(hours=1, minutes=start + index, microseconds=999_999),
            last_error="Mailbox full",
        )
        for index in range(count)
    )


def test_failed_notifications_are_counted_and_paged_by_the_database_under_their_failure_time(cast):
    client = client_for(cast.coordinator)
    notifications = failed_notifications(3, cast.patient_user)
    resolve("notification_failed", notifications[0], cast.coordinator)
    client.get(QUEUE)  # warm caches

    small, page = measure(client)
    assert 'data-count="notification_failed">2<' in page

    notifications += failed_notifications(40, cast.patient_user, start=3)
    resolve("notification_failed", notifications[7], cast.coordinator)
    large, page = measure(client)

    assert small == large
    assert 'data-count="notification_failed">41<' in page
    assert section(page, "notification_failed").count('data-kind="notification_failed"') == ALERTS_PER_PAGE
    source = registry.SOURCES["notification_failed"]
    rows = list(open_rows(source, now=NOW))
    assert [row.alert_key for row in rows] == [source.build(row, now=NOW).key for row in rows]
    seconds = int((NOW - dt.timedelta(hours=1, minutes=42, microseconds=999_999)).timestamp())
    assert rows[0].alert_key == f"notification_failed-{notifications[42].pk}-{seconds}"
    # Sent again and failed again: a new fact, back on the queue although the first failure was resolved.
    Notification.objects.filter(pk=notifications[0].pk).update(failed_at=NOW - dt.timedelta(minutes=5))
    assert notifications[0].pk in [row.pk for row in open_rows(source, now=NOW)]
