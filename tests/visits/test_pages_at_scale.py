"""My day and the notifications page at agency scale: each costs what its one reader needs (her day, her notices),
the same queries for a few or many rows, and never grows with other nurses' visits, other users' notices or the
patients' long histories."""

import datetime as dt
import itertools
import re
from decimal import Decimal

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from tests.conftest import client_for
from visits.models import Notification, Reaction, Visit
from visits.notifications.views import PAGE_SIZE

# Friday 20 November 2026, 10:00 am in New York, 9:00 am in Chicago (the factories' patients).
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
SERIAL = itertools.count()


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def queries_for(client, url) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def visits_of(nurse, count: int, *, past: int = 0) -> list[Visit]:
    """``count`` visits of ``nurse`` today and the next days, each patient with ``past`` signed visits behind her."""
    visits = []
    for n in range(count):
        patient = factories.PatientFactory()
        factories.on_care_team(patient, nurse)
        order = factories.OrderFactory(patient=patient)
        for weeks in range(1, past + 1):
            old = factories.VisitFactory(
                order=order, nurse=nurse, planned_start=NOW - dt.timedelta(weeks=weeks), status=Visit.Status.SIGNED
            )
            Reaction.objects.create(visit=old, onset_at=old.planned_start, grade=1, action="continued")
        visits.append(
            factories.VisitFactory(
                order=order, nurse=nurse, planned_start=NOW + dt.timedelta(hours=n % 8, days=n // 8 % 4)
            )
        )
    return visits


def card_ids(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'id="visit-(\d+)"', page)]


def test_my_day_costs_the_same_queries_for_2_or_24_visits_whatever_the_agency_holds(cast):
    nurse = cast.assigned_nurse
    client = client_for(nurse)
    url = reverse("visits:today")
    mine = visits_of(nurse, 2)
    client.get(url)
    small, _ = queries_for(client, url)

    mine += visits_of(nurse, 22, past=3)
    for other in (cast.unassigned_nurse, factories.nurse()):
        visits_of(other, 16, past=2)
    large, page = queries_for(client, url)

    assert large == small
    assert sorted(card_ids(page)) == sorted(visit.pk for visit in Visit.objects.filter(nurse=nurse, status="scheduled"))
    assert set(card_ids(page)).isdisjoint(Visit.objects.exclude(nurse=nurse).values_list("pk", flat=True))


def test_my_day_shows_her_next_days_only_not_her_whole_schedule(cast):
    nurse = cast.assigned_nurse
    soon = visits_of(nurse, 2)
    later = factories.VisitFactory(
        order=factories.OrderFactory(patient=cast.patient), nurse=nurse, planned_start=NOW + dt.timedelta(days=9)
    )
    page = client_for(nurse).get(reverse("visits:today")).content.decode()
    assert sorted(card_ids(page)) == sorted(visit.pk for visit in soon) and later.pk not in card_ids(page)


def notices(user, count: int, *, about=None) -> None:
    """``count`` in-app notices sent to ``user`` a minute apart, two in three unread, each about ``about``."""
    about_type = ContentType.objects.get_for_model(about) if about is not None else None
    Notification.objects.bulk_create(
        Notification(
            recipient=user,
            channel=Notification.Channel.IN_APP,
            kind=Notification.Kind.CHART_UNSIGNED,
            key=f"scale:{next(SERIAL)}",
            about_type=about_type,
            about_id=about.pk if about is not None else None,
            subject=f"Chart not signed {n}",
            body="Sign the chart",
            url="/alerts/",
            due_at=NOW - dt.timedelta(minutes=n + 1),
            next_attempt_at=NOW - dt.timedelta(minutes=n + 1),
            sent_at=NOW - dt.timedelta(minutes=n + 1),
            read_at=NOW if n % 3 == 0 else None,
        )
        for n in range(count)
    )


@pytest.mark.parametrize("role", ["coordinator", "assigned_nurse"])
def test_the_notifications_page_costs_the_same_queries_for_2_or_80_notices_and_shows_one_page(cast, role):
    reader = cast.user(role)
    client = client_for(reader)
    url = reverse("notifications:inbox")
    visit = factories.VisitFactory(order=factories.OrderFactory(patient=cast.patient), dose_mg=Decimal("28000"))
    notices(reader, 2, about=visit)
    client.get(url)
    small, small_page = queries_for(client, url)

    notices(reader, 78, about=visit)
    for other in (cast.coordinator, cast.assigned_nurse, cast.unassigned_nurse):
        if other != reader:
            notices(other, 120, about=visit)
    large, page = queries_for(client, url)

    assert large == small
    assert len(re.findall(r'id="notification-\d+"', small_page)) == 2
    shown = [int(pk) for pk in re.findall(r'id="notification-(\d+)"', page)]
    newest = Notification.objects.filter(recipient=reader).order_by("-sent_at", "-pk").values_list("pk", flat=True)
    assert len(shown) == PAGE_SIZE and shown == list(newest[:PAGE_SIZE])
    assert "Page 1 of 3" in page
