"""The patient portal: my visits in my time zone, asking to move one, and a fixed number of queries."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from tests.conftest import client_for
from visits.alerts.selectors import collect_alerts
from visits.models import RescheduleRequest, Visit
from visits.portal.views import window_text

# Friday 20 November 2026, 9:00 am in Chicago (the factories' patient time zone).
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
# Tuesday 24 November 2026, 9:00 am CST.
TUESDAY_9AM_CST = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def nurse_anna(cast):
    nurse = cast.assigned_nurse
    nurse.first_name, nurse.last_name = "Anna", "Quistgaard-Velasco"
    nurse.save()
    return nurse


def visit_for(patient, *, at, **kwargs):
    return factories.VisitFactory(
        order=factories.OrderFactory(patient=patient), patient=patient, planned_start=at, **kwargs
    )


def portal(cast, user=None):
    response = client_for(user or cast.patient_user).get(reverse("portal:home"))
    assert response.status_code == 200
    return response


def reschedule_url(visit):
    return reverse("portal:reschedule", args=[visit.pk])


# --- Upcoming visits -----------------------------------------------------------------------------


def test_upcoming_visit_shows_day_arrival_window_therapy_and_nurse_first_name_only(cast, nurse_anna):
    visit_for(cast.patient, at=TUESDAY_9AM_CST, nurse=nurse_anna)

    page = portal(cast).content.decode()

    assert "Tue 24 Nov" in page
    assert "9:00–9:30 am CST" in page
    assert "IVIG infusion" in page
    assert "Nurse Anna" in page
    assert "Quistgaard" not in page
    assert "Octagam" not in page


def test_arrival_window_is_in_the_patients_own_time_zone(cast):
    cast.patient.time_zone = "America/Denver"
    cast.patient.save()
    visit_for(cast.patient, at=TUESDAY_9AM_CST)

    page = portal(cast).content.decode()

    assert "8:00–8:30 am MST" in page
    assert "CST" not in page


def test_arrival_window_across_noon_names_both_halves_of_the_day(cast):
    visit = visit_for(cast.patient, at=dt.datetime(2026, 11, 24, 17, 45, tzinfo=dt.UTC))

    assert window_text(visit) == "11:45 am–12:15 pm CST"


def test_visit_without_a_nurse_says_nurse_to_be_confirmed(cast):
    visit_for(cast.patient, at=TUESDAY_9AM_CST)

    assert "Nurse to be confirmed" in portal(cast).content.decode()


def test_portal_shows_only_the_patients_own_visits(cast):
    own = visit_for(cast.patient, at=TUESDAY_9AM_CST)
    others = visit_for(cast.other_patient, at=TUESDAY_9AM_CST + dt.timedelta(days=1))

    response = portal(cast)

    shown = [item.visit for item in response.context["upcoming"]]
    assert shown == [own]
    page = response.content.decode()
    assert f'data-visit="{others.pk}"' not in page
    assert cast.other_patient.last_name not in page


def test_cancelled_upcoming_visit_is_marked_and_cannot_be_moved(cast):
    visit = visit_for(cast.patient, at=TUESDAY_9AM_CST, status=Visit.Status.CANCELLED)

    response = portal(cast)

    item = response.context["upcoming"][0]
    assert item.status == "Cancelled"
    assert reschedule_url(visit) not in response.content.decode()


# --- Past visits ---------------------------------------------------------------------------------


def test_past_visits_show_the_last_ten_with_status_in_plain_words(cast):
    statuses = [Visit.Status.SIGNED, Visit.Status.CANCELLED, Visit.Status.MISSED, Visit.Status.COMPLETED]
    past = [visit_for(cast.patient, at=NOW - dt.timedelta(days=3 * n + 1), status=statuses[n % 4]) for n in range(12)]

    response = portal(cast)

    items = response.context["past"]
    assert [item.visit for item in items] == past[:10]  # newest first
    assert [item.status for item in items[:4]] == ["Done", "Cancelled", "Missed", "Done"]
    page = response.content.decode()
    assert f'data-visit="{past[10].pk}"' not in page


def test_past_visit_never_documented_says_not_recorded_yet(cast):
    visit_for(cast.patient, at=NOW - dt.timedelta(days=1))

    assert portal(cast).context["past"][0].status == "Not recorded yet"


def test_portal_keeps_the_patients_details_care_team_and_agency_contact(cast, nurse_anna, settings):
    page = portal(cast).content.decode()

    assert f"Hello, {cast.patient.first_name}" in page
    assert cast.patient.full_name in page
    assert "My nurses" in page
    assert settings.AGENCY_PHONE in page


# --- Asking to move a visit ----------------------------------------------------------------------


def test_reschedule_request_form_shows_the_visit(cast):
    visit = visit_for(cast.patient, at=TUESDAY_9AM_CST)

    response = client_for(cast.patient_user).get(reschedule_url(visit))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Tue 24 Nov" in page
    assert "Why do you need to change this visit?" in page


def test_reschedule_request_needs_a_reason_and_preferred_dates(cast):
    visit = visit_for(cast.patient, at=TUESDAY_9AM_CST)

    response = client_for(cast.patient_user).post(reschedule_url(visit), {"reason": "  ", "preferred_dates": ""})

    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["reason"] == ["Please tell us why you need to change this visit."]
    assert form.errors["preferred_dates"] == ["Please tell us which days and times would suit you."]
    page = response.content.decode()
    assert "Please tell us why you need to change this visit." in page
    assert "Your request was not sent yet." in page
    assert not RescheduleRequest.objects.exists()


def test_reschedule_request_posted_empty_is_refused_with_messages(cast):
    visit = visit_for(cast.patient, at=TUESDAY_9AM_CST)

    response = client_for(cast.patient_user).post(reschedule_url(visit))

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"reason", "preferred_dates"}
    assert not RescheduleRequest.objects.exists()


def test_reschedule_request_reaches_the_alert_queue(cast):
    visit = visit_for(cast.patient, at=TUESDAY_9AM_CST)
    data = {"reason": "Hospital appointment that morning", "preferred_dates": "Wednesday 25 Nov, any time"}

    response = client_for(cast.patient_user).post(reschedule_url(visit), data, follow=True)

    assert response.redirect_chain == [(reverse("portal:home"), 302)]
    assert "We have your request" in response.content.decode()
    assert "You asked to change this visit" in response.content.decode()
    request = RescheduleRequest.objects.get()
    assert (request.visit, request.created_by, request.resolved_at) == (visit, cast.patient_user, None)
    assert request.reason == data["reason"]
    assert request.preferred_dates == data["preferred_dates"]
    assert [alert.about for alert in collect_alerts() if alert.kind == "reschedule_request"] == [request]


def test_second_open_request_for_the_same_visit_is_refused(cast):
    visit = visit_for(cast.patient, at=TUESDAY_9AM_CST)
    client = client_for(cast.patient_user)
    data = {"reason": "Away", "preferred_dates": "Next week"}
    client.post(reschedule_url(visit), data)

    response = client.post(reschedule_url(visit), data)

    assert response.status_code == 400
    assert "You already asked to change this visit" in response.content.decode()
    assert RescheduleRequest.objects.count() == 1


def test_a_new_request_is_possible_once_the_first_is_answered(cast):
    visit = visit_for(cast.patient, at=TUESDAY_9AM_CST)
    RescheduleRequest.objects.create(
        visit=visit, reason="Away", preferred_dates="Later", resolved_at=NOW, resolution="Kept"
    )

    response = client_for(cast.patient_user).post(reschedule_url(visit), {"reason": "Ill", "preferred_dates": "Friday"})

    assert response.status_code == 302
    assert RescheduleRequest.objects.filter(resolved_at__isnull=True).count() == 1


@pytest.mark.parametrize("method", ["get", "post"])
def test_reschedule_of_another_patients_visit_is_404(cast, method):
    others = visit_for(cast.other_patient, at=TUESDAY_9AM_CST)

    response = getattr(client_for(cast.patient_user), method)(
        reschedule_url(others), {"reason": "x", "preferred_dates": "y"}
    )

    assert response.status_code == 404
    assert cast.other_patient.last_name not in response.content.decode()
    assert not RescheduleRequest.objects.exists()


@pytest.mark.parametrize(
    "at, status",
    [(NOW - dt.timedelta(days=1), Visit.Status.SCHEDULED), (TUESDAY_9AM_CST, Visit.Status.CANCELLED)],
    ids=["past", "cancelled"],
)
def test_only_upcoming_scheduled_visits_can_be_rescheduled(cast, at, status):
    visit = visit_for(cast.patient, at=at, status=status)

    response = client_for(cast.patient_user).post(reschedule_url(visit), {"reason": "x", "preferred_dates": "y"})

    assert response.status_code == 404


@pytest.mark.parametrize("role", ["assigned_nurse", "coordinator"])
def test_staff_cannot_use_the_portal(cast, role):
    visit = visit_for(cast.patient, at=TUESDAY_9AM_CST)
    client = client_for(cast.user(role))

    assert client.get(reverse("portal:home")).status_code == 403
    assert client.post(reschedule_url(visit), {"reason": "x", "preferred_dates": "y"}).status_code == 403


# --- Query count ---------------------------------------------------------------------------------


def add_visits(cast, count):
    for n in range(count):
        upcoming = visit_for(cast.patient, at=TUESDAY_9AM_CST + dt.timedelta(days=n), nurse=cast.assigned_nurse)
        RescheduleRequest.objects.create(visit=upcoming, reason="Away", preferred_dates="Later")
        visit_for(cast.patient, at=NOW - dt.timedelta(days=n + 1), nurse=cast.unassigned_nurse, status="signed")


def portal_queries(cast):
    client = client_for(cast.patient_user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    return len(queries), len(response.context["upcoming"]) + len(response.context["past"])


def test_portal_query_count_does_not_grow_with_visits(cast):
    client_for(cast.patient_user).post(reverse("portal:calendar_renew"))
    add_visits(cast, 1)
    small, small_shown = portal_queries(cast)
    add_visits(cast, 8)

    large, large_shown = portal_queries(cast)

    assert (small_shown, large_shown) == (2, 18)
    assert large == small
