"""My day: the nurse's visits today in time order, the next days, what each card shows, and a flat query count."""

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from tests.conftest import client_for
from visits.chart.selectors import my_days
from visits.models import NurseProfile, Reaction, Visit

# Friday 20 November 2026, 10:00 am in New York (the agency's zone), 9:00 am in Chicago (the patients').
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
CHICAGO = dt.timezone(dt.timedelta(hours=-6))


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A time on ``day`` November 2026 in Chicago."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=CHICAGO)


def visit_of(nurse, *, starts, patient=None, **kwargs):
    patient = patient or factories.PatientFactory()
    factories.on_care_team(patient, nurse)
    order = kwargs.pop("order", None) or factories.OrderFactory(patient=patient)
    return factories.VisitFactory(order=order, patient=patient, nurse=nurse, planned_start=starts, **kwargs)


def page_of(nurse) -> str:
    response = client_for(nurse).get(reverse("visits:today"))
    assert response.status_code == 200
    return response.content.decode()


def card_ids(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'id="visit-(\d+)"', page)]


def test_my_day_shows_only_her_visits_today_in_time_order(cast):
    nurse = cast.assigned_nurse
    afternoon = visit_of(nurse, starts=at(20, 14))
    morning = visit_of(nurse, starts=at(20, 8, 30))
    visit_of(cast.unassigned_nurse, starts=at(20, 11))  # another nurse's
    visit_of(nurse, starts=at(20, 12), status=Visit.Status.CANCELLED)
    factories.VisitFactory(order=factories.OrderFactory(patient=cast.patient), planned_start=at(20, 10))  # nobody's

    [today, *_] = my_days(nurse=nurse)

    assert today.is_today and today.day == dt.date(2026, 11, 20)
    assert today.visits == [morning, afternoon]
    assert card_ids(page_of(nurse))[:2] == [morning.pk, afternoon.pk]


def test_my_day_lists_the_next_three_days_below_and_not_the_fourth(cast):
    nurse = cast.assigned_nurse
    today = visit_of(nurse, starts=at(20, 9))
    saturday = visit_of(nurse, starts=at(21, 9))
    monday = visit_of(nurse, starts=at(23, 9))
    tuesday = visit_of(nurse, starts=at(24, 9))
    yesterday = visit_of(nurse, starts=at(19, 9))

    days = my_days(nurse=nurse)
    page = page_of(nurse)

    assert [day.day for day in days] == [dt.date(2026, 11, n) for n in (20, 21, 22, 23)]
    assert [[v.pk for v in day.visits] for day in days] == [[today.pk], [saturday.pk], [], [monday.pk]]
    assert card_ids(page) == [today.pk, saturday.pk, monday.pk]
    assert tuesday.pk not in card_ids(page) and yesterday.pk not in card_ids(page)
    assert "Saturday 21 November" in page and "Sunday 22 November" in page


def test_today_ends_at_midnight_in_the_nurses_time_zone(cast):
    nurse = cast.assigned_nurse
    NurseProfile.objects.update_or_create(nurse=nurse, defaults={"time_zone": "America/Los_Angeles"})
    nurse.refresh_from_db()
    # 23:30 on the 20th in Los Angeles is 01:30 on the 21st in Chicago: still her today.
    late = visit_of(nurse, starts=dt.datetime(2026, 11, 20, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-8))))

    [today, tomorrow, *_] = my_days(nurse=nurse)

    assert today.visits == [late]
    assert tomorrow.visits == []


def test_an_infusion_under_way_at_midnight_stays_on_her_today_and_on_the_tablet(cast):
    nurse = cast.assigned_nurse
    # 22:30 on the 19th in New York (her zone); it is still infusing at 00:30 on the 20th. Yesterday's finished
    # and unstarted visits are not brought forward.
    running = visit_of(nurse, starts=dt.datetime(2026, 11, 20, 3, 30, tzinfo=dt.UTC), status=Visit.Status.INFUSING)
    visit_of(nurse, starts=dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC), status=Visit.Status.COMPLETED)
    visit_of(nurse, starts=dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC), status=Visit.Status.SCHEDULED)

    with time_machine.travel(dt.datetime(2026, 11, 20, 5, 30, tzinfo=dt.UTC), tick=False):
        [today, *_] = my_days(nurse=nurse)
        page = page_of(nurse)

    assert today.day == dt.date(2026, 11, 20) and today.visits == [running]
    assert card_ids(page) == [running.pk]
    assert reverse("visits:chart", args=[running.pk]) in page.split("data-offline-keep=", 1)[1].split(">", 1)[0]


def test_card_opens_the_chart_and_shows_window_patient_address_and_status(cast):
    visit = visit_of(cast.assigned_nurse, starts=at(20, 9), patient=cast.patient)

    page = page_of(cast.assigned_nurse)

    card = page[page.index(f'id="visit-{visit.pk}"') :]
    card = card[: card.index("</article>")]
    assert f'href="{reverse("visits:chart", args=[visit.pk])}"' in card
    assert "stretched-link" in card  # the whole card is the link
    assert "09:00–09:30" in card  # arrival window in the patient's time zone
    assert cast.patient.full_name in card
    assert "12 Elm Street" in card and "Springfield" in card
    assert "Scheduled" in card


def test_map_link_opens_the_devices_maps_app_at_the_home_coordinates_without_the_patients_name(cast):
    visit_of(cast.assigned_nurse, starts=at(20, 9), patient=cast.patient)

    page = page_of(cast.assigned_nurse)

    [link] = re.findall(r'href="(geo:[^"]*)"', page)
    assert link == "geo:39.781700,-89.650100"
    assert "openstreetmap" not in page
    assert cast.patient.first_name not in link and cast.patient.last_name not in link


def test_map_link_falls_back_to_the_street_address_without_coordinates(cast):
    patient = factories.PatientFactory(latitude=None, longitude=None)
    visit_of(cast.assigned_nurse, starts=at(20, 9), patient=patient)

    [link] = re.findall(r'href="(geo:[^"]*)"', page_of(cast.assigned_nurse))

    assert link == "geo:0,0?q=12%20Elm%20Street%2C%20Springfield%2C%20IL%2C%2062701"
    assert patient.last_name not in link


def test_immune_globulin_dose_is_shown_in_grams_and_others_in_mg(cast):
    nurse = cast.assigned_nurse
    visit_of(nurse, starts=at(20, 9), dose_mg=Decimal("28000"), volume_ml=Decimal("280"))
    rituximab = factories.OrderFactory(product=factories.product("Rituxan"), dose_rule="flat_mg")
    visit_of(
        nurse, starts=at(20, 14), order=rituximab, patient=rituximab.patient, dose_mg=Decimal("1000"), volume_ml=500
    )

    page = page_of(nurse)

    assert "28 g · 280 mL" in page
    assert "1000 mg · 500 mL" in page


def test_card_flags_first_infusion_allergies_risks_last_reaction_and_product_switch(cast):
    nurse = cast.assigned_nurse
    patient = factories.PatientFactory(allergies="Penicillin: hives", renal_risk=True, thrombosis_risk=True)
    earlier = visit_of(nurse, starts=at(1, 9), patient=patient)
    Reaction.objects.create(visit=earlier, onset_at=at(1, 10), symptoms=["chills"], grade=1, action="continued")
    Reaction.objects.create(visit=earlier, onset_at=at(1, 11), symptoms=["rash_hives"], grade=2, action="paused")
    order = factories.OrderFactory(patient=patient, product_switch=True)
    visit_of(nurse, starts=at(20, 9), patient=patient, order=order, is_first_infusion=True)
    plain = factories.PatientFactory()
    visit_of(nurse, starts=at(20, 14), patient=plain)

    page = page_of(nurse)

    flagged, unflagged = page.split(plain.full_name)
    assert "First infusion" in flagged
    assert "Allergies: Penicillin: hives" in flagged
    assert "Renal risk" in flagged and "Thrombosis risk" in flagged
    assert "Last reaction: grade 2, 1 Nov 2026" in flagged  # the most recent, not the first
    assert "Product switch" in flagged
    for flag in ("First infusion", "Allergies", "Renal risk", "Last reaction", "Product switch"):
        assert flag not in unflagged


def test_my_day_with_no_visits_says_so(cast):
    assert "No visits for you today." in page_of(cast.assigned_nurse)


def test_coordinator_and_patient_cannot_open_my_day(cast):
    assert client_for(cast.coordinator).get(reverse("visits:today")).status_code == 403
    assert client_for(cast.patient_user).get(reverse("visits:today")).status_code == 403


def make_visits(nurse, count: int) -> None:
    for n in range(count):
        patient = factories.PatientFactory(allergies="Latex" if n % 2 else "", renal_risk=bool(n % 3))
        visit = visit_of(nurse, starts=at(20 + n % 4, 8 + n % 9), patient=patient, is_first_infusion=bool(n % 2))
        Reaction.objects.create(visit=visit, onset_at=at(1, 9), symptoms=["chills"], grade=1, action="continued")


def test_my_day_query_count_is_the_same_for_two_and_twelve_visits(cast):
    nurse = cast.assigned_nurse
    client = client_for(nurse)
    url = reverse("visits:today")

    make_visits(nurse, 2)
    client.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    make_visits(nurse, 10)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)

    assert len(card_ids(response.content.decode())) == 12
    assert len(many) == len(few), [query["sql"] for query in many.captured_queries]
