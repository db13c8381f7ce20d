"""The chart costs what one visit needs, whatever the agency's size (issue 15): its queries do not grow with the
visit's vital signs, rate changes or offline entries, nor with the patient's other visits or other patients', and
what several sections read (the plan, the infusion state, the check-in record) is worked out once per request."""

import re
import uuid
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.conftest import client_for
from visits.chart import state as chart_state_module
from visits.chart.infusion import services as infusion_services
from visits.chart.offline.selectors import OFFLINE_ENTRIES_SHOWN
from visits.models import Addendum, ClientWrite, RateChange, Visit, VisitSignature, VitalSigns

HTMX = {"HX-Request": "true"}


def take_sets(visit, count, *, start=None):
    start = start or timezone.now() - timedelta(hours=2, minutes=10)
    for number in range(count):
        VitalSigns.objects.create(
            visit=visit,
            taken_at=start + timedelta(minutes=3 * number),
            phase=VitalSigns.Phase.BASELINE if number == 0 else VitalSigns.Phase.TITRATION,
            temperature_c=Decimal("36.8"),
            pulse=70 + number,
            systolic=120,
            diastolic=78,
            respiratory_rate=16,
            spo2=97,
            pain=0,
        )


def change_rates(visit, count):
    """``count`` more changes at the pump after the plan's steps: back to 84, up to 126, and so on."""
    started = visit.infusion.started_at
    for number in range(count):
        RateChange.objects.create(
            visit=visit,
            at=started + timedelta(minutes=65 + 3 * number),
            kind=RateChange.Kind.DECREASE if number % 2 == 0 else RateChange.Kind.INCREASE,
            rate_ml_per_hr=Decimal(84 if number % 2 == 0 else 126),
        )


def other_visits(patient, nurse, count):
    """Documented visits of ``patient`` (for ``nurse``'s) earlier in the month, each with its vitals."""
    for number in range(count):
        done = factories.infusing_visit(
            nurse_user=nurse,
            order=factories.OrderFactory(patient=patient),
            planned_start=timezone.now() - timedelta(days=number + 1, hours=2),
            ended_minutes_ago=60 * 24 * (number + 1),
        )
        take_sets(done, 2, start=done.planned_start)


def other_patients(count):
    for _ in range(count):
        visit = factories.infusing_visit(nurse_user=factories.nurse())
        take_sets(visit, 3)


def sign(visit, nurse):
    VisitSignature.objects.create(visit=visit, note="Tolerated well.", signed_by=nurse)
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.SIGNED)


def queries_of(client, url, **extra) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def vital_rows(html: str) -> int:
    table = html[html.index('id="vitals-table"') :]
    return table[: table.index("</table>")].count("<tr") - 1  # less the header row


@pytest.fixture
def infusing(cast):
    visit = factories.infusing_visit(
        nurse_user=cast.assigned_nurse, rates=(42, 84), order=factories.OrderFactory(patient=cast.patient)
    )
    take_sets(visit, 3)
    return visit


def test_in_progress_chart_costs_the_same_queries_for_few_or_many_rows(cast, infusing):
    client = client_for(cast.assigned_nurse)
    url = reverse("visits:chart", args=[infusing.pk])
    other_visits(cast.patient, cast.assigned_nurse, 1)
    client.get(url)
    few, page = queries_of(client, url)
    assert vital_rows(page) == 3

    take_sets(infusing, 27, start=timezone.now() - timedelta(hours=1, minutes=35))
    change_rates(infusing, 10)
    other_visits(cast.patient, cast.assigned_nurse, 19)
    other_patients(3)
    many, page = queries_of(client, url)

    assert VitalSigns.objects.filter(visit=infusing).count() == 30
    assert RateChange.objects.filter(visit=infusing).count() == 12
    assert Visit.objects.filter(patient=cast.patient).count() == 21
    assert many == few
    assert vital_rows(page) == 30  # every set of the visit stays in view at the bedside
    assert few <= 32


def test_documented_chart_costs_the_same_queries_for_few_or_many_rows(cast):
    visit = factories.infusing_visit(
        nurse_user=cast.assigned_nurse, order=factories.OrderFactory(patient=cast.patient), ended_minutes_ago=90
    )
    take_sets(visit, 3)
    sign(visit, cast.assigned_nurse)
    Addendum.objects.create(visit=visit, author=cast.assigned_nurse, text="First", written_at=timezone.now())
    client = client_for(cast.coordinator)
    url = reverse("visits:chart", args=[visit.pk])
    client.get(url)
    few, page = queries_of(client, url)
    assert "Signed" in page

    take_sets(visit, 20, start=timezone.now() - timedelta(hours=1, minutes=50))
    for number in range(9):
        Addendum.objects.create(visit=visit, author=cast.coordinator, text=f"More {number}", written_at=timezone.now())
    other_visits(cast.patient, cast.assigned_nurse, 12)
    other_patients(3)
    many, page = queries_of(client, url)

    assert many == few
    assert vital_rows(page) == 23
    assert len(re.findall(r'id="addendum-\d+"', page)) == 10


def test_the_vitals_section_alone_costs_the_same_queries_for_3_or_30_sets(cast, infusing):
    client = client_for(cast.assigned_nurse)
    url = reverse("visits:chart", args=[infusing.pk]) + "?section=vitals"
    client.get(url, headers=HTMX)
    few, part = queries_of(client, url, headers=HTMX)
    assert part.lstrip().count('id="section-vitals"') == 1 and 'id="section-infusion"' not in part
    assert vital_rows(part) == 3

    take_sets(infusing, 27, start=timezone.now() - timedelta(hours=1, minutes=35))
    change_rates(infusing, 10)
    other_visits(cast.patient, cast.assigned_nurse, 5)
    many, part = queries_of(client, url, headers=HTMX)

    assert many == few
    assert vital_rows(part) == 30


@pytest.mark.parametrize("key", ["infusion", "signoff", "checkin", "reactions"])
def test_each_section_alone_costs_the_same_queries_for_few_or_many_rows(cast, infusing, key):
    client = client_for(cast.assigned_nurse)
    url = reverse("visits:chart", args=[infusing.pk]) + f"?section={key}"
    client.get(url, headers=HTMX)
    few, _part = queries_of(client, url, headers=HTMX)
    take_sets(infusing, 20, start=timezone.now() - timedelta(hours=1, minutes=35))
    change_rates(infusing, 10)
    many, part = queries_of(client, url, headers=HTMX)
    assert many == few
    assert f'id="section-{key}"' in part


def test_the_chart_works_out_the_infusion_state_and_the_plan_once(cast, infusing):
    client = client_for(cast.assigned_nurse)
    url = reverse("visits:chart", args=[infusing.pk])
    client.get(url)
    with (
        mock.patch.object(chart_state_module, "infusion_state", wraps=infusion_services.infusion_state) as state,
        mock.patch.object(infusion_services, "visit_plan", wraps=infusion_services.visit_plan) as plan,
        mock.patch.object(infusion_services.vitals, "due_list", wraps=infusion_services.vitals.due_list) as due,
    ):
        page = client.get(url).content.decode()
    # Infusion, vitals and sign-off all read it; the "what is next" strip is its own request.
    assert state.call_count == 1
    assert plan.call_count == 1
    assert due.call_count == 1
    assert 'id="section-infusion"' in page and 'id="section-vitals"' in page and 'id="section-signoff"' in page


def test_the_context_processors_run_once_for_all_the_sections(cast, infusing):
    client = client_for(cast.assigned_nurse)
    url = reverse("visits:chart", args=[infusing.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    unread_counts = [q["sql"] for q in queries if "visits_notification" in q["sql"] and "COUNT" in q["sql"]]
    assert len(unread_counts) == 1
    assert page.count('name="csrfmiddlewaretoken"') >= 4  # each section's forms still carry the token
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert len(token) == 64


def test_the_check_in_record_is_read_once(cast, infusing):
    from visits.models import VisitVerification

    VisitVerification.objects.create(
        visit=infusing, nurse=cast.assigned_nurse, checked_in_at=infusing.infusion.started_at - timedelta(minutes=20)
    )
    client = client_for(cast.assigned_nurse)
    url = reverse("visits:chart", args=[infusing.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    assert len([q for q in queries if 'FROM "visits_visitverification"' in q["sql"]]) == 1
    assert "Check out" in page


def offline_entry(visit, nurse, minutes_ago):
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return ClientWrite.objects.create(
        client_id=uuid.uuid4(),
        visit=visit,
        user=nurse,
        action="vitals_add",
        client_at=at,
        received_at=at + timedelta(seconds=1),
        kept_on_tablet=True,
    )


def offline_list(page: str) -> str:
    part = page[page.index('id="offline-entries"') :]
    return part[: part.index("</section>")]


def test_entries_recorded_offline_are_listed_latest_first_a_page_at_a_time(cast, infusing):
    client = client_for(cast.assigned_nurse)
    url = reverse("visits:chart", args=[infusing.pk])
    for minutes_ago in (50, 40):
        offline_entry(infusing, cast.assigned_nurse, minutes_ago)
    ClientWrite.objects.create(  # sent at once: not listed, however many there are
        client_id=uuid.uuid4(), visit=infusing, user=cast.assigned_nurse, action="vitals_add", client_at=timezone.now()
    )
    client.get(url)
    few, page = queries_of(client, url)
    assert offline_list(page).count("<li>") == 2 and 'id="offline-entries-all"' not in page

    for number in range(OFFLINE_ENTRIES_SHOWN + 5):
        offline_entry(infusing, cast.assigned_nurse, 30 - number)
    many, page = queries_of(client, url)
    listed = offline_list(page)

    assert many == few
    assert listed.count("<li>") == OFFLINE_ENTRIES_SHOWN
    zone = infusing.patient.zone
    latest = ClientWrite.objects.filter(visit=infusing, kept_on_tablet=True).order_by("-received_at")
    expected = [timezone.localtime(entry.client_at, zone).strftime("%H:%M") for entry in latest]
    assert re.findall(r"recorded (\d\d:\d\d)", listed) == expected[:OFFLINE_ENTRIES_SHOWN]  # latest first
    assert 'id="offline-entries-all"' in listed

    _count, page = queries_of(client, url + "?offline=all")
    listed = offline_list(page)
    assert listed.count("<li>") == OFFLINE_ENTRIES_SHOWN + 7
    assert 'id="offline-entries-all"' not in listed
