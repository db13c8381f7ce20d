"""Removing a nurse, cancelling and marking missed ask "are you sure?" first: one stray tap changes nothing."""

import html
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from tests.conftest import client_for
from tests.visits.board.test_assignment import NOW, at, available_nurse, visit_at
from visits.models import Visit, VisitEvent

HTMX = {"HTTP_HX_REQUEST": "true"}
NEXT_WEEK = "/schedule/?day=2026-11-24&view=3day"


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


def url(name, visit):
    return reverse(f"schedule:{name}", args=[visit.pk])


def text(response) -> str:
    return html.unescape(response.content.decode())


def confirm_form(response) -> str:
    page = text(response)
    start = page.index("data-confirm")
    return page[start : page.index("</div>", start)]


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_removing_a_nurse_asks_first_and_changes_nothing_until_confirmed(coordinator, nora, headers):
    visit = visit_at(at(24, 9), nurse=nora)
    response = coordinator.post(url("unassign", visit), {"next": NEXT_WEEK}, **headers)
    assert response.status_code == 200
    asked = confirm_form(response)
    assert "Remove Nora Quinn from Maria Alvarez's visit on Tue 24 Nov 09:00?" in asked
    assert 'name="confirmed" value="yes"' in asked and "Yes, remove the nurse" in asked
    assert "No, keep the nurse" in asked and f'href="{NEXT_WEEK}"' in asked
    visit.refresh_from_db()
    assert visit.nurse == nora and not VisitEvent.objects.filter(visit=visit).exists()

    response = coordinator.post(url("unassign", visit), {"next": NEXT_WEEK, "confirmed": "yes"}, **headers)
    assert response.status_code in (200, 302)
    visit.refresh_from_db()
    assert visit.nurse is None
    assert VisitEvent.objects.get(visit=visit).kind == VisitEvent.Kind.UNASSIGNED


def test_without_javascript_the_question_is_its_own_page(coordinator, nora):
    visit = visit_at(at(24, 9), nurse=nora)
    page = text(coordinator.post(url("unassign", visit), {"next": NEXT_WEEK}))
    assert "<title>Confirm the change" in page and '<h1 class="h3">Confirm the change</h1>' in page


def test_the_question_replaces_the_cards_other_controls(coordinator, nora):
    """Only "Yes" and "No" are offered while the question is open, so nothing else is one tap away."""
    visit = visit_at(at(24, 9), nurse=nora)
    page = text(coordinator.post(url("unassign", visit), {"next": NEXT_WEEK}, **HTMX))
    assert page.count("<form") == 1 and "Change…" not in page
    assert "autofocus" in confirm_form(coordinator.post(url("unassign", visit), {"next": NEXT_WEEK}, **HTMX))


def test_only_yes_confirms(coordinator, nora):
    visit = visit_at(at(24, 9), nurse=nora)
    for answer in ("", "no", "YES ", "yes\x00", "1"):
        response = coordinator.post(url("unassign", visit), {"next": NEXT_WEEK, "confirmed": answer}, **HTMX)
        assert response.status_code == 200 and "Yes, remove the nurse" in text(response)
    visit.refresh_from_db()
    assert visit.nurse == nora


def test_cancelling_asks_first_and_carries_the_reason_to_the_confirmation(coordinator, nora):
    visit = visit_at(at(24, 9), nurse=nora)
    response = coordinator.post(url("cancel", visit), {"reason": "Admitted to hospital", "next": NEXT_WEEK}, **HTMX)
    assert response.status_code == 200
    asked = confirm_form(response)
    assert "Cancel Maria Alvarez's visit on Tue 24 Nov 09:00?" in asked and "Reason: Admitted to hospital" in asked
    assert 'name="reason" value="Admitted to hospital"' in asked and "Yes, cancel the visit" in asked
    visit.refresh_from_db()
    assert visit.status == Visit.Status.SCHEDULED

    confirmed = {"reason": "Admitted to hospital", "next": NEXT_WEEK, "confirmed": "yes"}
    assert coordinator.post(url("cancel", visit), confirmed).status_code == 302
    visit.refresh_from_db()
    assert (visit.status, visit.status_reason) == (Visit.Status.CANCELLED, "Admitted to hospital")


def test_marking_missed_asks_first(coordinator, nora):
    visit = visit_at(NOW - timedelta(hours=4), 120, nurse=nora)
    response = coordinator.post(url("missed", visit), {"reason": "Not home"}, **HTMX)
    assert response.status_code == 200
    assert "Yes, mark it missed" in confirm_form(response) and "as missed?" in confirm_form(response)
    visit.refresh_from_db()
    assert visit.status == Visit.Status.SCHEDULED
    coordinator.post(url("missed", visit), {"reason": "Not home", "confirmed": "yes"}, **HTMX)
    visit.refresh_from_db()
    assert visit.status == Visit.Status.MISSED


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("unassign", {}, "No nurse is assigned to this visit."),
        ("cancel", {"reason": " "}, "Give a reason for cancelling the visit."),
        ("cancel", {"reason": "x" * 301}, "at most 300 characters"),
        ("missed", {"reason": "Not home"}, "Only a visit whose planned time has passed"),
    ],
)
def test_a_change_that_would_be_refused_is_refused_before_asking(coordinator, action, data, message):
    visit = visit_at(at(24, 9))  # no nurse, in the future
    response = coordinator.post(url(action, visit), data, **HTMX)
    assert response.status_code == 400
    assert message in text(response) and "data-confirm" not in response.content.decode()


def test_a_visit_documented_while_the_question_was_open_is_not_changed(coordinator, nora):
    visit = visit_at(at(24, 9), nurse=nora)
    coordinator.post(url("cancel", visit), {"reason": "Admitted"}, **HTMX)
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.CHECKED_IN)
    response = coordinator.post(url("cancel", visit), {"reason": "Admitted", "confirmed": "yes"}, **HTMX)
    assert response.status_code == 400 and "already documented" in text(response)
    visit.refresh_from_db()
    assert visit.status == Visit.Status.CHECKED_IN
