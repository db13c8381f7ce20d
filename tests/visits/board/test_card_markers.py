"""What a visit's card says beyond its time: an overridden conflict (with the reason on tap) and a patient's
pending request to move it."""

import html

import pytest
import time_machine
from django.utils import timezone

from tests.conftest import client_for
from tests.visits.board.test_assignment import NOW, at, available_nurse, visit_at
from visits.board import services as scheduling
from visits.board.selectors import current_override
from visits.models import RescheduleRequest, VisitEvent

BOARD = "/schedule/"
NEXT_WEEK = {"view": "3day", "day": "2026-11-24"}


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


def card(response, visit) -> str:
    page = response.content.decode()
    start = page.index(f'id="visit-{visit.pk}"')
    return html.unescape(page[start : page.index("</article>", start)])


def test_an_overridden_conflict_is_marked_on_the_card_with_its_reason_who_and_when(cast, coordinator, nora):
    visit = visit_at(at(24, 18), 120)  # after Nora's working day
    scheduling.visit_assign(visit=visit, nurse=nora, by=cast.coordinator, override_reason="Nora offered to stay")
    shown = card(coordinator.get(BOARD, NEXT_WEEK), visit)
    assert "<details" in shown and "data-override" in shown
    assert '<summary class="btn btn-warning btn-sm w-100">Conflict overridden</summary>' in shown
    assert "Reason: Nora offered to stay" in shown
    assert "Outside Nora's working hours (Tue 08:00–17:00)" in shown
    by = cast.coordinator.get_full_name() or cast.coordinator.username
    assert f"By {by}, Mon 16 Nov 06:00 CST" in shown  # the patient's local time, as on the rest of the card


def test_an_override_made_while_moving_is_marked_too(cast, coordinator, nora):
    visit = visit_at(at(24, 9), 120, nurse=nora)
    scheduling.visit_reschedule(
        visit=visit, new_start=at(24, 19), by=cast.coordinator, override_reason="Patient works late"
    )
    assert "Reason: Patient works late" in card(coordinator.get(BOARD, NEXT_WEEK), visit)


def test_the_mark_goes_when_a_later_change_leaves_no_conflict(cast, coordinator, nora):
    visit = visit_at(at(24, 18), 120)
    scheduling.visit_assign(visit=visit, nurse=nora, by=cast.coordinator, override_reason="Nora offered to stay")
    omar = available_nurse("Omar", hours=(at(1, 8).time(), at(1, 22).time()))
    scheduling.visit_assign(visit=visit, nurse=omar, by=cast.coordinator)  # Omar works evenings: no conflict
    assert "Conflict overridden" not in card(coordinator.get(BOARD, NEXT_WEEK), visit)


def test_a_card_without_an_override_has_no_mark(coordinator, nora):
    visit = visit_at(at(24, 9), 120, nurse=nora)
    assert "Conflict overridden" not in card(coordinator.get(BOARD, NEXT_WEEK), visit)


def test_current_override_follows_the_events_in_order(cast):
    visit = visit_at(at(24, 9))

    def event(kind, detail=""):
        return VisitEvent(visit=visit, kind=kind, detail=detail, by=cast.coordinator, at=timezone.now())

    override = event(VisitEvent.Kind.OVERRIDE, "Reason: agreed\nConflicts:\n- Overlaps Lena B.'s visit\n- Off")
    assigned, moved = event(VisitEvent.Kind.ASSIGNED), event(VisitEvent.Kind.RESCHEDULED)
    note = current_override([override, assigned])
    assert (note.reason, note.conflicts) == ("agreed", ["Overlaps Lena B.'s visit", "Off"])
    assert current_override([override, assigned, moved]) is None  # moved later without an override
    assert current_override([assigned, override, moved]).reason == "agreed"  # the move was the one overridden
    assert current_override([]) is None


def test_a_pending_reschedule_request_is_marked_on_the_card(cast, coordinator, nora):
    visit = visit_at(at(24, 9), 120, nurse=nora)
    RescheduleRequest.objects.create(
        visit=visit, reason="My daughter's wedding", preferred_dates="Thursday morning", created_by=cast.patient_user
    )
    shown = card(coordinator.get(BOARD, NEXT_WEEK), visit)
    assert "data-reschedule-request" in shown and "Patient asks to move this visit" in shown
    assert "Suits the patient: Thursday morning" in shown and "Reason: My daughter's wedding" in shown
    assert "Asked Mon 16 Nov 06:00 CST" in shown


def test_a_handled_reschedule_request_is_no_longer_marked(cast, coordinator, nora):
    visit = visit_at(at(24, 9), 120, nurse=nora)
    RescheduleRequest.objects.create(
        visit=visit, reason="Wedding", preferred_dates="Thursday", resolved_at=timezone.now(), resolution="Moved"
    )
    assert "Patient asks to move this visit" not in card(coordinator.get(BOARD, NEXT_WEEK), visit)


def test_a_refused_action_shows_the_card_with_its_markers(cast, coordinator, nora):
    visit = visit_at(at(24, 9), 120)
    RescheduleRequest.objects.create(visit=visit, reason="Wedding", preferred_dates="Thursday")
    response = coordinator.post(f"/schedule/visits/{visit.pk}/cancel/", {"reason": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "Patient asks to move this visit" in html.unescape(response.content.decode())
