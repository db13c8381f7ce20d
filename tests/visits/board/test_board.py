"""The coordinator's board /schedule/: the week, filters, in-place actions with and without htmx, flat query count."""

import html
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from tests.conftest import client_for
from tests.visits.board.test_assignment import NOW, at, available_nurse, visit_at
from visits.board import services as scheduling
from visits.models import RescheduleRequest, Visit, VisitEvent

BOARD = "/schedule/"
HTMX = {"HTTP_HX_REQUEST": "true"}
NEXT_WEEK = f"{BOARD}?week=2026-11-23"
WEEK = {"week": "2026-11-23"}  # the test client drops a path's query string when given data


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def coordinator(cast):
    return client_for(cast.coordinator)


@pytest.fixture
def nora(cast):
    return available_nurse("Nora", last_name="Quinn", username="nora")


def text(response) -> str:
    return html.unescape(response.content.decode())


def card(response, visit) -> str:
    """The HTML of one visit's card on the page."""
    page = response.content.decode()
    start = page.index(f'id="visit-{visit.pk}"')
    return html.unescape(page[start : page.index("</article>", start)])


def row(response, nurse) -> str:
    page = response.content.decode()
    start = page.index(f'data-nurse="{nurse.pk}"')
    return html.unescape(page[start : page.index("</tr>", start)])


def unassigned(response) -> str:
    page = response.content.decode()
    return html.unescape(page[page.index('id="unassigned-h"') :])


def url(name, visit):
    return reverse(f"schedule:{name}", args=[visit.pk])


def actions(client, visit):
    """The card with its actions, as "Change…" loads it."""
    return client.get(url("visit_card", visit), {"next": NEXT_WEEK}, **HTMX)


# --- the week -----------------------------------------------------------------------------------------------------


def test_the_board_is_the_week_with_a_row_per_nurse_and_the_unassigned_beside_it(cast, coordinator, nora):
    patient = factories.PatientFactory(first_name="Maria", last_name="Alvarez")
    assigned = visit_at(at(24, 9), 240, nurse=nora, patient=patient)
    waiting = visit_at(at(26, 10), 210, patient=factories.PatientFactory(first_name="Lena", last_name="Berg"))
    response = coordinator.get(NEXT_WEEK)
    assert response.status_code == 200
    assert "Week of Mon 23 Nov – Sun 29 Nov 2026" in text(response)
    nora_row = row(response, nora)
    assert "Maria Alvarez" in nora_row and "09:00–13:00" in nora_row and "Octagam 10%" in nora_row
    assert "IVIG</span> · 4 h planned" in nora_row
    for nurse in (cast.assigned_nurse, cast.unassigned_nurse):  # every active nurse has a row, busy or not
        assert f'data-nurse="{nurse.pk}"' in response.content.decode()
    assert f'id="visit-{waiting.pk}"' in unassigned(response)
    assert "3 h 30 min planned" in unassigned(response) and "Lena Berg" in unassigned(response)
    assert f'id="visit-{assigned.pk}"' not in unassigned(response)


def test_a_visit_sits_in_its_days_column(coordinator, nora):
    visit = visit_at(at(25, 9), nurse=nora)  # Wednesday
    cells = row(coordinator.get(NEXT_WEEK), nora).split("<td")[1:]
    assert [index for index, cell in enumerate(cells) if f'id="visit-{visit.pk}"' in cell] == [2]


def test_times_are_shown_in_the_patients_time_zone(coordinator, nora):
    los_angeles = factories.PatientFactory(time_zone="America/Los_Angeles")
    visit = visit_at(at(24, 9, zone=ZoneInfo("America/Los_Angeles")), 240, nurse=nora, patient=los_angeles)
    shown = card(coordinator.get(NEXT_WEEK), visit)
    assert "09:00–13:00" in shown and "PST" in shown


def test_cancelled_visits_are_not_on_the_board(coordinator, nora):
    visit = visit_at(at(24, 9), nurse=nora, status=Visit.Status.CANCELLED)
    assert f'id="visit-{visit.pk}"' not in coordinator.get(NEXT_WEEK).content.decode()


def test_the_board_shows_each_nurses_hours_and_time_off(coordinator, nora):
    scheduling.working_week_set(nurse=nora, week={day: (at(1, 8).time(), at(1, 16).time()) for day in range(5)})
    scheduling.time_off_add(nurse=nora, starts_at=at(25, 0), ends_at=at(26, 0), reason="training")
    cells = row(coordinator.get(NEXT_WEEK), nora).split("<td")[1:]
    assert "08:00–16:00" in cells[0]
    assert "Off: training" in cells[2]
    assert "Not working" in cells[5]


@pytest.mark.parametrize(
    "board_url",
    [NEXT_WEEK, f"{BOARD}?view=3day&day=2026-11-24", f"{BOARD}?view=day&day=2026-11-25"],
    ids=["week", "3 days", "day"],
)
def test_the_board_query_count_does_not_grow_with_the_data(cast, coordinator, board_url):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = coordinator.get(board_url)
        assert response.status_code == 200
        return len(queries)

    def add(nurses: int, visits: int):
        staff = [available_nurse(f"Nurse{index}", competencies=("ivig", "biologics")) for index in range(nurses)]
        for index in range(visits):
            nurse = staff[index % len(staff)] if index % 3 else None  # a third unassigned
            patient = factories.PatientFactory(time_zone=["America/Chicago", "America/New_York"][index % 2])
            visit = visit_at(
                at(23 + index % 7, 8 + index % 9),
                120,
                nurse=nurse,
                patient=patient,
                product=["Octagam 10%", "Rituxan"][index % 2],
            )
            if index % 2:  # the card's markers: an overridden conflict and a patient's request to move
                VisitEvent.objects.create(visit=visit, kind=VisitEvent.Kind.OVERRIDE, detail="Reason: agreed\n")
                RescheduleRequest.objects.create(visit=visit, reason="A wedding", preferred_dates="Friday")
        for nurse in staff:
            scheduling.time_off_add(nurse=nurse, starts_at=at(27, 0), ends_at=at(28, 0), reason="course")

    coordinator.get(board_url)  # warm caches (content types, templates) and remember the view
    add(nurses=2, visits=3)
    small = count_queries()
    add(nurses=2, visits=27)  # 4 nurses (plus the cast's 2), 30 visits
    assert Visit.objects.count() == 30
    large = count_queries()
    assert "Conflict overridden" in text(coordinator.get(board_url))  # the markers were on the page counted
    assert small == large, f"{small} queries for 3 visits, {large} for 30"


# --- week navigation and filters ----------------------------------------------------------------------------------


def test_any_date_in_the_week_shows_that_monday_to_sunday_with_previous_and_next(coordinator):
    response = coordinator.get(f"{BOARD}?week=2026-11-26")  # a Thursday
    assert "Week of Mon 23 Nov – Sun 29 Nov 2026" in text(response)
    assert "?week=2026-11-16" in text(response) and "?week=2026-11-30" in text(response)


def test_without_a_view_or_date_the_board_shows_todays_3_days(coordinator):
    response = coordinator.get(BOARD)
    assert "Mon 16 Nov – Wed 18 Nov 2026" in text(response)
    assert "Week of" not in text(response)


def test_a_visit_of_another_week_is_not_shown(coordinator, nora):
    visit = visit_at(at(2, 9, month=12), nurse=nora)
    assert f'id="visit-{visit.pk}"' not in coordinator.get(NEXT_WEEK).content.decode()
    assert f'id="visit-{visit.pk}"' in coordinator.get(f"{BOARD}?week=2026-12-02").content.decode()


@pytest.mark.parametrize("week", ["2026-13-45", "next tuesday", "0001-01-01", "9999-12-31"])
def test_a_bad_week_is_explained_and_this_week_shown(coordinator, week):
    response = coordinator.get(BOARD, {"week": week})
    assert response.status_code == 400
    assert "Week of Mon 16 Nov – Sun 22 Nov 2026" in text(response)
    assert "Give the week as a date like 2026-11-23" in text(response) or "Check the year of the week" in text(response)


def test_filtering_by_nurse_keeps_that_nurse_and_the_unassigned(coordinator, nora):
    omar = available_nurse("Omar")
    mine, theirs, open_visit = visit_at(at(24, 9), nurse=nora), visit_at(at(24, 9), nurse=omar), visit_at(at(24, 9))
    page = coordinator.get(BOARD, WEEK | {"nurse": nora.pk}).content.decode()
    assert f'id="visit-{mine.pk}"' in page and f'id="visit-{open_visit.pk}"' in page
    assert f'id="visit-{theirs.pk}"' not in page and f'data-nurse="{omar.pk}"' not in page


def test_filtering_by_patient(cast, coordinator, nora):
    theirs, other = visit_at(at(24, 9), patient=cast.patient), visit_at(at(24, 9), patient=cast.other_patient)
    page = coordinator.get(BOARD, WEEK | {"patient": cast.patient.pk}).content.decode()
    assert f'id="visit-{theirs.pk}"' in page and f'id="visit-{other.pk}"' not in page


def test_filtering_by_therapy(coordinator, nora):
    ivig, rituximab = visit_at(at(24, 9)), visit_at(at(24, 9), product="Rituxan")
    page = coordinator.get(BOARD, WEEK | {"therapy": "rituximab"}).content.decode()
    assert f'id="visit-{rituximab.pk}"' in page and f'id="visit-{ivig.pk}"' not in page


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"nurse": "999999"}, "There is no active nurse with that id"),
        ({"nurse": "abc"}, "There is no active nurse with that id"),
        ({"patient": "999999"}, "There is no patient with that id"),
        ({"therapy": "homeopathy"}, "Unknown therapy"),
    ],
)
def test_an_unknown_filter_value_is_explained_not_a_crash(coordinator, params, message):
    visit = visit_at(at(24, 9))
    response = coordinator.get(BOARD, WEEK | params)
    assert response.status_code == 400
    assert message in text(response)
    assert f'id="visit-{visit.pk}"' in response.content.decode()  # the board is shown unfiltered


def test_week_navigation_keeps_the_filters(cast, coordinator):
    response = coordinator.get(BOARD, WEEK | {"patient": cast.patient.pk, "therapy": "ivig"})
    assert f"?week=2026-11-30&amp;patient={cast.patient.pk}&amp;therapy=ivig" in response.content.decode()


def test_an_htmx_request_gets_only_the_board(coordinator, nora):
    visit = visit_at(at(24, 9), nurse=nora)
    response = coordinator.get(NEXT_WEEK, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="board">')
    assert "<html" not in body and "<nav" not in body
    assert f'id="visit-{visit.pk}"' in body
    assert "HX-Request" in response["Vary"]


# --- assigning from the board ---------------------------------------------------------------------------------------


def test_assigning_without_javascript_redirects_back_to_the_same_board(cast, coordinator, nora):
    visit = visit_at(at(24, 9), patient=cast.patient)
    response = coordinator.post(url("assign", visit), {"nurse": nora.pk, "next": NEXT_WEEK + "&therapy=ivig"})
    assert response.status_code == 302
    assert response["Location"] == NEXT_WEEK + "&therapy=ivig"
    visit.refresh_from_db()
    assert visit.nurse == nora
    assert "nurse assigned" in text(coordinator.get(response["Location"]))


def test_assigning_with_htmx_answers_with_the_redrawn_board(coordinator, nora):
    visit = visit_at(at(24, 9))
    response = coordinator.post(url("assign", visit), {"nurse": nora.pk, "next": NEXT_WEEK}, **HTMX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#board" and response["HX-Reswap"] == "outerHTML"
    assert response.content.decode().lstrip().startswith('<div id="board">')
    assert f'id="visit-{visit.pk}"' in row(response, nora)
    assert "nurse assigned" in text(response)


def test_a_conflict_is_explained_on_the_card_with_an_override_field_and_nothing_changes(coordinator, nora):
    visit = visit_at(at(24, 9), product="Rituxan")
    response = coordinator.post(url("assign", visit), {"nurse": nora.pk, "next": NEXT_WEEK}, **HTMX)
    assert response.status_code == 409
    body = text(response)
    assert body.lstrip().startswith('<article class="card') and f'id="visit-{visit.pk}"' in body
    assert "Nora lacks the Biologic infusions (rituximab, infliximab, abatacept) competency" in body
    assert 'name="override_reason"' in body and "Assign anyway" in body
    assert f'name="nurse" value="{nora.pk}"' in body and "Assign Nora Quinn?" in body  # the chosen nurse stays
    visit.refresh_from_db()
    assert visit.nurse is None
    assert not VisitEvent.objects.filter(visit=visit).exists()


def test_a_conflict_without_javascript_shows_the_card_on_its_own_page(coordinator, nora):
    visit = visit_at(at(24, 15))  # until 19:00, after Nora's day
    response = coordinator.post(url("assign", visit), {"nurse": nora.pk, "next": NEXT_WEEK})
    assert response.status_code == 409
    assert "<html" in response.content.decode()
    assert "Outside Nora's working hours (Tue 08:00–17:00)" in card(response, visit)
    assert "Back to the board" in text(response)
    visit.refresh_from_db()
    assert visit.nurse is None


def test_overriding_from_the_board_assigns_and_records_the_reason(cast, coordinator, nora):
    visit = visit_at(at(24, 9), product="Rituxan")
    response = coordinator.post(
        url("assign", visit), {"nurse": nora.pk, "override_reason": "Trained on rituximab last week", "next": NEXT_WEEK}
    )
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.nurse == nora
    override = VisitEvent.objects.get(visit=visit, kind=VisitEvent.Kind.OVERRIDE)
    assert "Trained on rituximab last week" in override.detail and override.by == cast.coordinator


@pytest.mark.parametrize(
    ("nurse", "message"), [("999999", "not on the list of active nurses"), ("", "Choose a nurse.")]
)
def test_assigning_an_unknown_nurse_is_refused_with_a_message(cast, coordinator, nurse, message):
    visit = visit_at(at(24, 9))
    for headers in ({}, HTMX):
        response = coordinator.post(url("assign", visit), {"nurse": nurse}, **headers)
        assert response.status_code == 400
        assert message in text(response)
    visit.refresh_from_db()
    assert visit.nurse is None


def test_a_patient_user_cannot_be_assigned_as_a_nurse(cast, coordinator):
    visit = visit_at(at(24, 9))
    response = coordinator.post(url("assign", visit), {"nurse": cast.patient_user.pk})
    assert response.status_code == 400
    visit.refresh_from_db()
    assert visit.nurse is None


def test_an_unknown_visit_is_not_found(coordinator, nora):
    response = coordinator.post(reverse("schedule:assign", args=[999_999]), {"nurse": nora.pk})
    assert response.status_code == 404


def test_the_return_address_is_always_the_board(cast, coordinator, nora):
    visit = visit_at(at(24, 9))
    for elsewhere in ("https://evil.example/schedule/", "//evil.example/", "/admin/"):
        response = coordinator.post(url("assign", visit), {"nurse": nora.pk, "next": elsewhere})
        assert response["Location"] == BOARD
        scheduling.visit_unassign(visit=visit, by=cast.coordinator)


def test_a_documented_visit_is_refused_with_a_message(coordinator, nora):
    visit = visit_at(at(16, 3), status=Visit.Status.COMPLETED)
    response = coordinator.post(url("assign", visit), {"nurse": nora.pk}, **HTMX)
    assert response.status_code == 400
    assert "already documented (completed)" in text(response)
    visit.refresh_from_db()
    assert visit.nurse is None


def test_unassigning_from_the_board(coordinator, nora):
    visit = visit_at(at(24, 9), nurse=nora)
    assert coordinator.post(url("unassign", visit), {"next": NEXT_WEEK}).status_code == 200  # asks first
    visit.refresh_from_db()
    assert visit.nurse == nora
    assert coordinator.post(url("unassign", visit), {"next": NEXT_WEEK, "confirmed": "yes"}).status_code == 302
    visit.refresh_from_db()
    assert visit.nurse is None


# --- reschedule, cancel, missed from the board ---------------------------------------------------------------------


def test_rescheduling_takes_the_new_time_in_the_patients_time_zone(coordinator):
    patient = factories.PatientFactory(time_zone="America/Los_Angeles")
    visit = visit_at(at(24, 9), patient=patient)
    response = coordinator.post(url("reschedule", visit), {"new_date": "2026-11-25", "new_time": "10:30"})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.planned_start == at(25, 10, 30, zone=ZoneInfo("America/Los_Angeles"))
    assert VisitEvent.objects.get(visit=visit).kind == VisitEvent.Kind.RESCHEDULED


def test_rescheduling_into_a_conflict_is_explained_and_can_be_overridden(coordinator, nora):
    visit = visit_at(at(24, 9), nurse=nora)
    move = {"new_date": "2026-11-24", "new_time": "15:00"}
    response = coordinator.post(url("reschedule", visit), move, **HTMX)
    assert response.status_code == 409
    assert "Outside Nora's working hours (Tue 08:00–17:00)" in text(response) and "Move anyway" in text(response)
    visit.refresh_from_db()
    assert visit.planned_start == at(24, 9)
    response = coordinator.post(url("reschedule", visit), move | {"override_reason": "Nora agreed to stay late"})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.planned_start == at(24, 15)


@pytest.mark.parametrize(
    ("move", "message"),
    [
        ({"new_date": "2026-13-45", "new_time": "10:00"}, "Give the date as YYYY-MM-DD."),
        ({"new_date": "2026-11-25", "new_time": "25:99"}, "Give the time as HH:MM"),
        ({"new_date": "", "new_time": ""}, "Choose the new date."),
        ({"new_date": "2026-11-01", "new_time": "10:00"}, "This date has passed"),
        ({"new_date": "0001-01-01", "new_time": "00:00"}, "This date has passed"),
        ({"new_date": "9999-12-31", "new_time": "23:00"}, "within the next two years"),
        ({"new_date": "2027-03-14", "new_time": "02:30"}, "does not exist on 2027-03-14 in America/Chicago"),
        ({"new_date": "2026-11-16", "new_time": "05:00"}, "already passed"),  # today, an hour ago
    ],
)
def test_a_bad_new_time_is_explained_and_nothing_changes(coordinator, move, message):
    visit = visit_at(at(24, 9))
    response = coordinator.post(url("reschedule", visit), move, **HTMX)
    assert response.status_code == 400
    assert message in text(response)
    visit.refresh_from_db()
    assert visit.planned_start == at(24, 9)
    assert not VisitEvent.objects.filter(visit=visit).exists()


def test_cancelling_without_a_reason_is_explained_and_nothing_changes(coordinator):
    visit = visit_at(at(24, 9))
    for headers in ({}, HTMX):
        response = coordinator.post(url("cancel", visit), {"reason": "   "}, **headers)
        assert response.status_code == 400
        assert "Give a reason for cancelling the visit." in text(response)
    visit.refresh_from_db()
    assert visit.status == Visit.Status.SCHEDULED


def test_cancelling_from_the_board_takes_the_visit_off_it(coordinator, nora):
    visit = visit_at(at(24, 9), nurse=nora)
    cancel = {"reason": "Admitted to hospital", "next": NEXT_WEEK, "confirmed": "yes"}
    response = coordinator.post(url("cancel", visit), cancel, **HTMX)
    assert response.status_code == 200
    assert f'id="visit-{visit.pk}"' not in response.content.decode()
    visit.refresh_from_db()
    assert (visit.status, visit.status_reason) == (Visit.Status.CANCELLED, "Admitted to hospital")


def test_only_past_visits_offer_and_accept_marking_missed(coordinator, nora):
    past = visit_at(NOW - timedelta(hours=4), 120, nurse=nora)
    future = visit_at(at(17, 9), nurse=nora)
    assert "Mark missed" in card(actions(coordinator, past), past)
    assert "Mark missed" not in card(actions(coordinator, future), future)

    for confirmed in ("", "yes"):  # refused before it is even asked, and refused if confirmed anyway
        response = coordinator.post(url("missed", future), {"reason": "not home", "confirmed": confirmed}, **HTMX)
        assert response.status_code == 400
        assert "Only a visit whose planned time has passed can be marked missed." in text(response)
    future.refresh_from_db()
    assert future.status == Visit.Status.SCHEDULED

    assert coordinator.post(url("missed", past), {"reason": "not home", "confirmed": "yes"}).status_code == 302
    past.refresh_from_db()
    assert past.status == Visit.Status.MISSED


def test_a_missed_visit_stays_on_the_board_without_controls(coordinator, nora):
    visit = visit_at(NOW - timedelta(hours=4), 120, nurse=nora, status=Visit.Status.MISSED)
    shown = card(coordinator.get(BOARD), visit)
    assert "Missed" in shown and "<form" not in shown


def test_every_control_is_a_plain_form_that_htmx_enhances(coordinator):
    """The board's card carries two links (the picker and "Change…"); the forms come with the card's actions."""
    visit = visit_at(NOW - timedelta(hours=1), nurse=available_nurse("Nora"))
    on_board = card(coordinator.get(BOARD), visit)
    assert "<form" not in on_board
    assert f'href="{url("nurse_picker", visit)}?next=' in on_board
    assert f'href="{url("visit_card", visit)}?next=' in on_board
    shown = card(actions(coordinator, visit), visit)
    for action in ("unassign", "reschedule", "cancel", "missed"):
        assert f'method="post" action="{url(action, visit)}" hx-post="{url(action, visit)}"' in shown
    assert shown.count('name="next"') == 4
    picker = coordinator.get(url("nurse_picker", visit), {"next": NEXT_WEEK}, **HTMX).content.decode()
    assert f'method="post" action="{url("assign", visit)}" hx-post="{url("assign", visit)}"' in picker
    assert picker.count('name="next"') == 1
