"""The board at agency size: one team at a time, nurse rows and the unassigned paged, a patient search instead of a
select of every patient, and one shared nurse picker instead of a select of every nurse on every card."""

import html
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients.models import Team
from tests import factories
from tests.conftest import client_for
from tests.visits.board.test_assignment import NOW, at, available_nurse, visit_at
from visits.board import selectors
from visits.board.views import SESSION_TEAM
from visits.models import Visit

BOARD = "/schedule/"
HTMX = {"HTTP_HX_REQUEST": "true"}
WEEK = {"week": "2026-11-23", "view": "week"}
PAGE_LIMIT = 300 * 1024  # bytes of HTML a board page may weigh, whatever the agency holds


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):  # Monday 16 November 2026
        yield


def text(response) -> str:
    return html.unescape(response.content.decode())


def team_with(name: str, *members) -> Team:
    team = Team.objects.create(name=name, region=f"{name} region")
    team.members.add(*members)
    return team


def build_agency(*, team: Team, nurses: int, visits: int, prefix: str = "n", first_day: int = 23, days: int = 7):
    """``nurses`` nurses in ``team`` and ``visits`` visits of the team's patients over ``days`` days from
    ``first_day`` of November (next week by default), two thirds assigned."""
    staff = [factories.nurse(username=f"{prefix}{index}", first_name=f"Nurse{index:03}") for index in range(nurses)]
    team.members.add(*staff)
    orders = []
    for index in range(10):
        patient = factories.PatientFactory(team=team, last_name=f"Patient{prefix}{index:03}")
        orders.append(factories.OrderFactory(patient=patient))
    Visit.objects.bulk_create(
        Visit(
            patient=orders[index % 10].patient,
            order=orders[index % 10],
            cycle_number=index + 1,
            planned_start=at(first_day + index % days, 8 + index % 9),
            planned_minutes=120,
            nurse=staff[index % nurses] if index % 3 else None,
        )
        for index in range(visits)
    )
    return staff


@pytest.fixture
def coordinator(cast):
    return client_for(cast.coordinator)


# --- size and cost at agency scale ------------------------------------------------------------------------------------


def test_a_board_page_stays_small_and_costs_the_same_queries_for_a_large_team(cast, coordinator):
    team = team_with("North", cast.coordinator)

    def measure():
        with CaptureQueriesContext(connection) as queries:
            response = coordinator.get(BOARD, WEEK)
        assert response.status_code == 200
        return len(queries), len(response.content), response

    coordinator.get(BOARD, WEEK)  # warm caches and remember the view
    build_agency(team=team, nurses=4, visits=30, prefix="s")
    small_queries, _, _ = measure()
    build_agency(team=team, nurses=56, visits=370, prefix="l")  # 60 nurses, 400 visits in the week, one team
    assert Visit.objects.count() == 400
    large_queries, size, response = measure()

    assert size < PAGE_LIMIT, f"{size} bytes"
    assert small_queries == large_queries, f"{small_queries} queries for 30 visits, {large_queries} for 400"
    page = response.content.decode()
    assert "<select" not in page.replace('<select class="form-select" name="team"', "").replace(
        '<select name="therapy"', ""
    ), "no select of nurses or patients"
    assert page.count('data-nurse="') <= selectors.NURSES_PER_PAGE
    assert "Nurses, page 1 of" in text(response)
    assert text(response).count("Assign…") <= selectors.CARDS_PER_PAGE + selectors.UNASSIGNED_PER_PAGE


def test_the_default_board_is_todays_3_days_and_costs_the_same_queries_for_a_large_team(cast, coordinator):
    team = team_with("North", cast.coordinator)

    def measure():
        with CaptureQueriesContext(connection) as queries:
            response = coordinator.get(BOARD)  # no view, day or team: her teams, today's 3 days
        assert response.status_code == 200
        return len(queries), response

    coordinator.get(BOARD)  # warm caches
    build_agency(team=team, nurses=4, visits=30, prefix="s", first_day=16, days=3)
    small_queries, small = measure()
    build_agency(team=team, nurses=56, visits=370, prefix="l", first_day=16, days=3)  # 60 nurses, 400 visits
    large_queries, large = measure()

    assert small_queries == large_queries, f"{small_queries} queries for 30 visits, {large_queries} for 400"
    page = large.content.decode()
    assert [chunk.split('"', 1)[0] for chunk in page.split('data-board-day="')[1:]] == [
        "2026-11-16",
        "2026-11-17",
        "2026-11-18",
    ]
    assert len(large.content) < PAGE_LIMIT, f"{len(large.content)} bytes"
    assert page.count('data-nurse="') == selectors.NURSES_PER_PAGE  # the first page of the team's 60 nurses only
    assert "Nurses, page 1 of 3" in text(large)
    cards = page.count(' data-visit="')
    assert selectors.UNASSIGNED_PER_PAGE < cards <= selectors.CARDS_PER_PAGE + selectors.UNASSIGNED_PER_PAGE
    assert f">{Visit.objects.filter(nurse=None).count()}</span>" in page  # every unassigned counted, a page shown
    assert small.content.decode().count('data-nurse="') == 4


def test_the_rows_card_counts_are_of_the_days_and_team_shown(cast, monkeypatch):
    """The pages are cut by each row's cards: only the days shown, the team's patients, no cancelled visit."""
    north = team_with("North", cast.coordinator)
    abel, nora = available_nurse("Abel", username="abel"), available_nurse("Nora", username="nora")
    north.members.add(abel, nora)
    ours, theirs = factories.PatientFactory(team=north), factories.PatientFactory(team=team_with("South"))
    visit_at(at(17, 8), 60, nurse=abel, patient=ours)
    for start, patient, status in (
        (at(17, 16), theirs, Visit.Status.SCHEDULED),  # another team's patient
        (at(20, 9), ours, Visit.Status.SCHEDULED),  # after the days shown
        (at(18, 9), ours, Visit.Status.CANCELLED),
    ):
        visit_at(start, 60, nurse=abel, patient=patient, status=status)
    for hour in (8, 10):
        visit_at(at(18, hour), 60, nurse=nora, patient=ours)

    def board():
        return selectors.build_board(
            user=cast.coordinator,
            first_day=at(16, 0).date(),
            day_count=3,
            scope=selectors.BoardScope(team_ids=[north.pk]),
        )

    monkeypatch.setattr(selectors, "CARDS_PER_PAGE", 3)
    shown = board()
    assert [(row.nurse.username, row.visit_count) for row in shown.rows] == [("abel", 1), ("nora", 2)]
    assert shown.nurse_page.count == 1  # 1 + 2 cards: Abel's other three visits are not counted
    monkeypatch.setattr(selectors, "CARDS_PER_PAGE", 2)
    assert board().nurse_page.count == 2


def test_nurse_rows_are_paged_and_every_nurse_is_on_some_page(cast, coordinator):
    team = team_with("North", cast.coordinator)
    staff = build_agency(team=team, nurses=30, visits=60)
    seen = set()
    for number in (1, 2):
        page = coordinator.get(BOARD, WEEK | {"page": number}).content.decode()
        seen |= {nurse.pk for nurse in staff if f'data-nurse="{nurse.pk}"' in page}
    assert seen == {nurse.pk for nurse in staff}
    assert "Next nurses →" in text(coordinator.get(BOARD, WEEK))
    assert coordinator.get(BOARD, WEEK | {"page": "abc"}).status_code == 400  # explained, first page shown


def test_the_unassigned_column_is_paged_soonest_first(cast, coordinator):
    later = [visit_at(at(27, 9)) for _ in range(selectors.UNASSIGNED_PER_PAGE)]
    soonest = visit_at(at(23, 8))
    first_page = coordinator.get(BOARD, WEEK).content.decode()
    assert f'id="visit-{soonest.pk}"' in first_page
    assert first_page.index(f'id="visit-{soonest.pk}"') < first_page.index(f'id="visit-{later[0].pk}"')
    assert f'id="visit-{later[-1].pk}"' not in first_page  # the 21st is on the next page
    assert f">{selectors.UNASSIGNED_PER_PAGE + 1}</span>" in first_page  # the count is of every page
    second = coordinator.get(BOARD, WEEK | {"open_page": 2}).content.decode()
    assert f'id="visit-{later[-1].pk}"' in second and f'id="visit-{soonest.pk}"' not in second


# --- one team at a time ---------------------------------------------------------------------------------------------


def test_the_board_opens_on_the_coordinators_own_teams_and_keeps_the_team_chosen(cast, coordinator):
    north, south = team_with("North", cast.coordinator), team_with("South")
    nora, sam = available_nurse("Nora", username="nora"), available_nurse("Sam", username="sam")
    north.members.add(nora)
    south.members.add(sam)
    ours = visit_at(at(24, 9), patient=factories.PatientFactory(team=north))
    theirs = visit_at(at(24, 9), patient=factories.PatientFactory(team=south))

    page = coordinator.get(BOARD, WEEK).content.decode()
    assert f'id="visit-{ours.pk}"' in page and f'id="visit-{theirs.pk}"' not in page
    assert f'data-nurse="{nora.pk}"' in page and f'data-nurse="{sam.pk}"' not in page

    page = coordinator.get(BOARD, WEEK | {"team": south.pk}).content.decode()
    assert f'id="visit-{theirs.pk}"' in page and f'id="visit-{ours.pk}"' not in page
    assert coordinator.session[SESSION_TEAM] == str(south.pk)
    assert f'id="visit-{theirs.pk}"' in coordinator.get(BOARD, WEEK).content.decode()  # remembered

    page = coordinator.get(BOARD, WEEK | {"team": "all"}).content.decode()
    assert f'id="visit-{theirs.pk}"' in page and f'id="visit-{ours.pk}"' in page


def test_a_nurse_of_another_team_given_one_of_the_teams_visits_has_a_row(cast, coordinator):
    north = team_with("North", cast.coordinator)
    sam = available_nurse("Sam", username="sam")  # in no team
    visit = visit_at(at(24, 9), nurse=sam, patient=factories.PatientFactory(team=north))
    page = coordinator.get(BOARD, WEEK).content.decode()
    assert f'data-nurse="{sam.pk}"' in page and f'id="visit-{visit.pk}"' in page
    assert "not an active nurse" not in page


def test_an_unknown_team_is_explained_and_her_own_teams_shown(cast, coordinator):
    response = coordinator.get(BOARD, WEEK | {"team": "999999"})
    assert response.status_code == 400
    assert "There is no team with that id" in text(response)


def test_a_visit_link_opens_its_patients_team_and_the_page_holding_its_nurse(cast, coordinator):
    north, south = team_with("North", cast.coordinator), team_with("South")
    staff = build_agency(team=south, nurses=40, visits=80)
    last = staff[-1]
    visit = Visit.objects.filter(nurse=last).first()
    coordinator.get(BOARD, WEEK | {"team": north.pk})
    page = coordinator.get(reverse("schedule:board"), {"visit": visit.pk}).content.decode()
    assert f'id="visit-{visit.pk}"' in page and "data-board-focus" in page


# --- the patient search ---------------------------------------------------------------------------------------------


def test_the_patient_filter_is_a_posted_search_answering_with_id_only_links(cast, coordinator):
    response = coordinator.post(
        reverse("schedule:patient_search"), {"q": "Delacroix", "next": "/schedule/?view=3day&day=2026-11-24"}, **HTMX
    )
    assert response.status_code == 200
    body = text(response)
    assert "Delacroix, Marisol" in body and "Okonkwo" not in body
    link = f"/schedule/?view=3day&day=2026-11-24&patient={cast.patient.pk}"
    assert f'href="{link}"' in body
    filtered = text(coordinator.get(link))
    assert "data-patient-filter>Patient: <strong>Delacroix, Marisol</strong>" in filtered


def test_an_empty_patient_search_is_explained_next_to_the_field(coordinator):
    response = coordinator.post(reverse("schedule:patient_search"), {"q": "  "})
    assert response.status_code == 400
    assert "Type a name, an MRN or a date of birth." in text(response)
    assert "<html" in response.content.decode()  # without JavaScript: a page with the search again


def test_a_patient_search_that_finds_nobody_says_so(coordinator):
    body = text(coordinator.post(reverse("schedule:patient_search"), {"q": "Nobody-by-this-name"}, **HTMX))
    assert "No patient matches" in body


# --- the shared nurse picker ----------------------------------------------------------------------------------------


def test_the_picker_lists_the_patients_team_and_searches_every_team_on_request(cast, coordinator):
    north = team_with("North")
    nora, sam = available_nurse("Nora", username="nora"), available_nurse("Sam", username="sam")
    north.members.add(nora)
    visit = visit_at(at(24, 9), patient=factories.PatientFactory(team=north))
    picker = reverse("schedule:nurse_picker", args=[visit.pk])

    body = text(coordinator.get(picker, **HTMX))
    assert f'value="{nora.pk}"' in body and f'value="{sam.pk}"' not in body
    assert "Nurses of North" in body and "<html" not in body
    assert f'value="{sam.pk}"' in text(coordinator.get(picker, {"scope": "all"}, **HTMX))
    searched = text(coordinator.get(picker, {"scope": "all", "q": "sam"}, **HTMX))
    assert f'value="{sam.pk}"' in searched and f'value="{nora.pk}"' not in searched
    assert "<html" in coordinator.get(picker).content.decode()  # without JavaScript: its own page


def test_the_picker_never_lists_more_than_a_page_of_nurses(cast, coordinator):
    for index in range(selectors.NURSES_PER_PICKER + 5):
        factories.nurse(username=f"many{index}")
    visit = visit_at(at(24, 9))
    body = coordinator.get(reverse("schedule:nurse_picker", args=[visit.pk]), **HTMX).content.decode()
    assert body.count('name="nurse"') == selectors.NURSES_PER_PICKER
    assert "type more of the name to narrow" in body


def test_choosing_in_the_picker_assigns_through_the_same_checks(cast, coordinator):
    nora = available_nurse("Nora", last_name="Quinn", username="nora")
    visit = visit_at(at(24, 15))  # until 19:00, after Nora's day: a conflict
    response = coordinator.post(
        reverse("schedule:assign", args=[visit.pk]), {"nurse": nora.pk, "next": f"{BOARD}?week=2026-11-23"}, **HTMX
    )
    assert response.status_code == 409
    assert "Assign anyway" in text(response)
    visit.refresh_from_db()
    assert visit.nurse is None


def test_the_card_actions_load_on_demand(cast, coordinator):
    nora = available_nurse("Nora", username="nora")
    visit = visit_at(NOW + timedelta(days=1), nurse=nora)
    response = coordinator.get(reverse("schedule:visit_card", args=[visit.pk]), {"next": "https://evil.example/"})
    assert response.status_code == 200
    body = text(response)
    assert "Remove nurse…" in body and "Cancel visit…" in body
    assert 'name="next" value="/schedule/"' in body  # only ever back to the board
