"""The board's day, 3-day and week views: which days show, the view remembered, everything kept in the address,
and ?visit=<id> opening the board on that visit's card."""

import html

import pytest
import time_machine

from tests import factories
from tests.conftest import client_for
from tests.visits.board.test_assignment import NOW, at, available_nurse, visit_at
from visits.board.views import SESSION_VIEW, board_url_for_visit

BOARD = "/schedule/"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):  # Monday 16 November 2026
        yield


@pytest.fixture
def coordinator(cast):
    return client_for(cast.coordinator)


@pytest.fixture
def nora(cast):
    return available_nurse("Nora", last_name="Quinn", username="nora")


def text(response) -> str:
    return html.unescape(response.content.decode())


def day_headers(response) -> list[str]:
    """The dates of the day columns, in order."""
    page = response.content.decode()
    return [chunk.split('"', 1)[0] for chunk in page.split('data-board-day="')[1:]]


def column_of(response, nurse, visit) -> int:
    page = response.content.decode()
    start = page.index(f'data-nurse="{nurse.pk}"')
    cells = page[start : page.index("</tr>", start)].split("<td")[1:]
    return next(index for index, cell in enumerate(cells) if f'id="visit-{visit.pk}"' in cell)


# --- which days ---------------------------------------------------------------------------------------------------


def test_the_3_day_view_shows_three_days_from_the_day_asked(coordinator, nora):
    visit = visit_at(at(25, 9), nurse=nora)
    response = coordinator.get(BOARD, {"view": "3day", "day": "2026-11-24"})
    assert response.status_code == 200
    assert day_headers(response) == ["2026-11-24", "2026-11-25", "2026-11-26"]
    assert "Tue 24 Nov – Thu 26 Nov 2026" in text(response)
    assert column_of(response, nora, visit) == 1
    assert "← Previous 3 days" in text(response) and "Next 3 days →" in text(response)


def test_the_day_view_shows_one_day_and_only_its_visits(coordinator, nora):
    that_day, next_day = visit_at(at(25, 9), nurse=nora), visit_at(at(26, 9))
    response = coordinator.get(BOARD, {"view": "day", "day": "2026-11-25"})
    assert day_headers(response) == ["2026-11-25"]
    assert "Wednesday 25 Nov 2026" in text(response)
    page = response.content.decode()
    assert f'id="visit-{that_day.pk}"' in page and f'id="visit-{next_day.pk}"' not in page


def test_the_day_and_3_day_views_have_no_minimum_column_widths(coordinator):
    """The week's columns keep a minimum width (app.css .board-day-head: it scrolls sideways on a tablet); day and
    3 days share the width."""
    for view in ("day", "3day"):
        assert "board-day-head" not in coordinator.get(BOARD, {"view": view}).content.decode()
    assert "board-day-head" in coordinator.get(BOARD, {"view": "week"}).content.decode()


def test_without_a_day_the_day_views_start_today_and_the_week_is_this_week(coordinator):
    assert day_headers(coordinator.get(BOARD, {"view": "3day"})) == ["2026-11-16", "2026-11-17", "2026-11-18"]
    assert day_headers(coordinator.get(BOARD, {"view": "week", "day": "2026-11-26"}))[0] == "2026-11-23"


def test_the_week_address_still_opens_the_week(coordinator):
    """The alert queue and old bookmarks use ?week=YYYY-MM-DD."""
    response = coordinator.get(BOARD, {"week": "2026-11-26"})
    assert "Week of Mon 23 Nov – Sun 29 Nov 2026" in text(response)
    assert len(day_headers(response)) == 7


# --- remembered, and kept in the address --------------------------------------------------------------------------


def test_the_board_opens_on_todays_3_days_until_another_view_is_chosen(coordinator):
    assert day_headers(coordinator.get(BOARD)) == ["2026-11-16", "2026-11-17", "2026-11-18"]
    assert SESSION_VIEW not in coordinator.session  # the default is not a choice to remember


def test_the_chosen_view_is_remembered_for_the_coordinator_only(cast, coordinator):
    coordinator.get(BOARD, {"view": "week"})
    assert coordinator.session[SESSION_VIEW] == "week"
    assert len(day_headers(coordinator.get(BOARD))) == 7  # no view in the address: the one she chose last
    other = client_for(factories.coordinator(username="second-coordinator"))
    assert len(day_headers(other.get(BOARD))) == 3  # another coordinator still gets today's 3 days
    coordinator.get(BOARD, {"view": "day"})
    assert len(day_headers(coordinator.get(BOARD))) == 1


def test_navigation_and_view_links_keep_the_view_day_and_filters(cast, coordinator):
    params = {"view": "3day", "day": "2026-11-24", "patient": cast.patient.pk, "therapy": "ivig"}
    page = coordinator.get(BOARD, params).content.decode()
    filters = f"patient={cast.patient.pk}&amp;therapy=ivig"
    assert f"?day=2026-11-21&amp;{filters}&amp;view=3day" in page  # previous 3 days
    assert f"?day=2026-11-27&amp;{filters}&amp;view=3day" in page  # next 3 days
    assert f"?day=2026-11-24&amp;{filters}&amp;view=day" in page  # switch to the day
    assert f"?week=2026-11-23&amp;{filters}&amp;view=week" in page  # switch to the week
    assert 'name="view" value="3day"' in page  # the filter form keeps the view


def test_switching_view_keeps_today_in_sight(coordinator):
    page = coordinator.get(BOARD, {"view": "week"}).content.decode()  # this week, today is Monday 16th
    assert "?day=2026-11-16&amp;view=3day" in page


def test_the_address_holds_ids_and_dates_only(cast, coordinator):
    page = coordinator.get(BOARD, {"view": "3day", "patient": cast.patient.pk}).content.decode()
    hrefs = [chunk.split('"', 1)[0] for chunk in page.split('href="/schedule/?')[1:]]
    assert hrefs and all(cast.patient.last_name not in href and cast.patient.mrn not in href for href in hrefs)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"view": "month"}, "Unknown board view; choose Day, 3 days or Week."),
        ({"view": "3day", "day": "2026-02-30"}, "Give the day as a date like 2026-11-24"),
        ({"view": "3day", "day": "9999-12-31"}, "Check the year of the day"),
        ({"view": "3day", "day": "0001-01-01"}, "Check the year of the day"),
        ({"view": "day", "day": "2026-11-24\x00"}, "Give the day as a date like 2026-11-24"),
        ({"view": "3day\x00"}, "Unknown board view"),
    ],
)
def test_a_bad_view_or_day_is_explained_and_a_board_shown(coordinator, params, message):
    response = coordinator.get(BOARD, params)
    assert response.status_code == 400
    assert message in text(response)
    assert day_headers(response)  # a board is still shown
    assert coordinator.session.get(SESSION_VIEW) in (None, "day", "3day")  # nothing bad is remembered


# --- opening the board on one visit ---------------------------------------------------------------------------------


def test_the_board_link_for_a_visit_is_its_id_only():
    assert board_url_for_visit(42) == "/schedule/?visit=42#visit-42"


def test_a_visit_link_opens_the_board_on_its_day_with_the_card_highlighted(coordinator, nora):
    visit = visit_at(at(27, 9), nurse=nora)  # Friday of next week
    other = visit_at(at(27, 11), nurse=nora)
    coordinator.get(BOARD, {"view": "3day"})
    response = coordinator.get(board_url_for_visit(visit.pk))
    assert response.status_code == 200
    assert day_headers(response) == ["2026-11-27", "2026-11-28", "2026-11-29"]  # in her view, from the visit's day
    page = response.content.decode()
    assert f'id="visit-{visit.pk}" aria-labelledby' in page
    highlighted = page[page.index(f'id="visit-{visit.pk}"') :]
    assert highlighted.index("data-board-focus") < highlighted.index(">")
    assert page.count("data-board-focus") == 1
    assert f'id="visit-{other.pk}"' in page
    assert 'src="/static/js/board.js"' in page


def test_a_visit_link_in_the_week_view_opens_its_week(coordinator, nora):
    visit = visit_at(at(27, 9), nurse=nora)
    coordinator.get(BOARD, {"view": "week"})
    assert day_headers(coordinator.get(board_url_for_visit(visit.pk)))[0] == "2026-11-23"


@pytest.mark.parametrize("visit", ["999999", "abc", "0", "-3", "99999999999999999999", "1\x00"])
def test_an_unknown_visit_in_the_link_is_explained_and_the_board_shown(coordinator, visit):
    response = coordinator.get(BOARD, {"visit": visit})
    assert response.status_code == 400
    assert "There is no visit with that number" in text(response) or "That is not a visit number" in text(response)
    assert "data-board-focus" not in response.content.decode()
    assert day_headers(response)
