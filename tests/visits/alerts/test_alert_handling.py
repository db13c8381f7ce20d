"""Alerts are work items: acknowledged ("I am on it") or resolved with a note, kept in the patient's history."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from tests import factories
from tests.conftest import client_for
from visits.alerts.selectors import alert_history, collect_alerts, open_alerts
from visits.alerts.services import alert_acknowledge, alert_resolve, reschedule_request_resolve
from visits.models import AlertHandling, Notification, RescheduleRequest, Visit, VitalSigns

# Friday 20 November 2026, 9:00 am in Chicago (the factories' patient time zone).
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def flagged_visit(cast, *, at=NOW - dt.timedelta(minutes=30), visit=None):
    visit = visit or factories.VisitFactory(
        patient=cast.patient,
        order=factories.OrderFactory(patient=cast.patient),
        nurse=cast.assigned_nurse,
        planned_start=NOW - dt.timedelta(hours=1),
        status=Visit.Status.INFUSING,
    )
    VitalSigns.objects.create(
        visit=visit, taken_at=at, phase="titration", temperature_c=38.4, pulse=96, systolic=120, diastolic=80,
        respiratory_rate=16, spo2=97, flags=["Temperature 38.4 °C: 38.0 °C or more"],
    )  # fmt: skip
    return visit


def vitals_alert():
    [alert] = [alert for alert in open_alerts() if alert.kind == "vitals_flag"]
    return alert


def queue_keys():
    return [alert.key for alert in open_alerts()]


def acknowledge(client, key):
    return client.post(reverse("alerts:acknowledge"), {"key": key}, follow=True)


def resolve(client, key, note):
    return client.post(reverse("alerts:resolve"), {"key": key, "note": note}, follow=True)


# --- Acknowledge -------------------------------------------------------------------------------------------------


def test_an_acknowledged_alert_stays_on_the_queue_marked_with_who_and_when(cast):
    flagged_visit(cast)
    key = vitals_alert().key

    response = acknowledge(client_for(cast.coordinator), key)

    page = response.content.decode()
    assert "You are on it: Vital signs flagged" in page
    assert "On it: Carmen Ortiz, Fri 20 Nov, 10:00 EST" in page  # in the agency's time zone
    handling = AlertHandling.objects.get(key=key)
    assert (handling.state, handling.acknowledged_by, handling.acknowledged_at) == (
        "acknowledged",
        cast.coordinator,
        NOW,
    )
    assert key in queue_keys()
    assert 'action="/alerts/acknowledge/"' not in page.split(f'id="{vitals_alert().anchor}"')[1].split("</li>")[0]


def test_acknowledging_twice_keeps_the_first_coordinator(cast):
    flagged_visit(cast)
    alert = vitals_alert()
    other = factories.coordinator(username="coord-2", first_name="Ines", last_name="Varga")
    assert alert_acknowledge(alert=alert, by=cast.coordinator)

    response = acknowledge(client_for(other), alert.key)

    assert "Already taken" in response.content.decode()
    assert AlertHandling.objects.get(key=alert.key).acknowledged_by == cast.coordinator


# --- Resolve -----------------------------------------------------------------------------------------------------


def test_a_resolved_alert_leaves_the_queue_and_is_in_the_visits_and_patients_history(cast):
    visit = flagged_visit(cast)
    key = vitals_alert().key
    client = client_for(cast.coordinator)
    acknowledge(client, key)

    response = resolve(client, key, "  Called Nora: assessed, no reaction; rate held  ")

    assert response.redirect_chain == [(reverse("alerts:queue"), 302)]
    assert "Resolved: Vital signs flagged" in response.content.decode()
    assert key not in queue_keys()
    [handling] = alert_history(patient=cast.patient)
    assert alert_history(visit=visit) == [handling]
    assert alert_history(patient=cast.other_patient) == []
    assert (handling.state, handling.resolved_by, handling.resolved_at) == ("resolved", cast.coordinator, NOW)
    assert handling.note == "Called Nora: assessed, no reaction; rate held"
    assert (handling.acknowledged_by, handling.title) == (
        cast.coordinator,
        f"Vital signs flagged: {cast.patient.full_name}",
    )


def test_a_resolved_alert_derived_again_for_the_same_fact_stays_resolved(cast, frozen_clock):
    flagged_visit(cast)
    alert = vitals_alert()
    alert_resolve(alert=alert, note="Assessed, no reaction", by=cast.coordinator)
    frozen_clock.shift(dt.timedelta(hours=1))

    # The source still derives it (it keeps flagged sets for a day), the queue does not show it.
    assert alert.key in [found.key for found in collect_alerts()]
    assert alert.key not in queue_keys()


def test_a_new_flagged_set_after_a_resolution_is_a_new_alert(cast, frozen_clock):
    visit = flagged_visit(cast)
    alert_resolve(alert=vitals_alert(), note="Assessed, no reaction", by=cast.coordinator)
    frozen_clock.shift(dt.timedelta(minutes=20))

    flagged_visit(cast, visit=visit, at=NOW + dt.timedelta(minutes=15))

    assert vitals_alert().about.taken_at == NOW + dt.timedelta(minutes=15)


@pytest.mark.parametrize(
    "note, message",
    [
        ("", "Write what was done"),
        ("   ", "Write what was done"),
        ("assessed\x00", "a character that cannot be saved"),
        ("x" * 2001, "under 2000 characters"),
    ],
)
def test_resolving_without_a_usable_note_changes_nothing(cast, note, message):
    flagged_visit(cast)
    key = vitals_alert().key

    response = client_for(cast.coordinator).post(reverse("alerts:resolve"), {"key": key, "note": note})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Not resolved yet: Vital signs flagged" in page
    assert message in page
    assert 'aria-invalid="true"' in page
    assert not AlertHandling.objects.exists()
    assert key in queue_keys()


@pytest.mark.parametrize("key", ["vitals_flag-999999", "lab_due-1", "not a key", "vitals_flag-1\x00", "x" * 500, ""])
def test_acting_on_an_unknown_alert_says_so_and_changes_nothing(cast, key):
    flagged_visit(cast)
    client = client_for(cast.coordinator)

    for response in (acknowledge(client, key), resolve(client, key, "Done")):
        assert response.status_code == 200
        assert "That alert is not on the queue any more" in response.content.decode()
    assert not AlertHandling.objects.exists()


def test_resolving_twice_keeps_the_first_note(cast):
    flagged_visit(cast)
    alert = vitals_alert()
    alert_resolve(alert=alert, note="First", by=cast.coordinator)

    assert alert_resolve(alert=alert, note="Second", by=cast.coordinator) is False

    assert AlertHandling.objects.get().note == "First"


def test_every_kind_without_its_own_form_offers_acknowledge_and_resolve(cast):
    flagged_visit(cast)
    visit = factories.VisitFactory(patient=cast.patient, planned_start=NOW + dt.timedelta(days=9))
    RescheduleRequest.objects.create(
        visit=visit, reason="Wedding", preferred_dates="Friday", created_by=cast.patient_user
    )

    page = client_for(cast.coordinator).get(reverse("alerts:queue")).content.decode()

    vitals_item = page.split('data-kind="vitals_flag"')[1].split("</li>")[0]
    request_item = page.split('data-kind="reschedule_request"')[1].split("</li>")[0]
    assert "I am on it" in vitals_item and "Resolve the alert" in vitals_item
    # A request is resolved by closing it with its own form (the patient sees the answer); acknowledging is shared.
    assert "I am on it" in request_item and "Resolve the request" in request_item
    assert "Resolve the alert" not in request_item


def test_a_request_cannot_be_resolved_without_closing_it(cast):
    visit = factories.VisitFactory(patient=cast.patient, planned_start=NOW + dt.timedelta(days=9))
    request = RescheduleRequest.objects.create(visit=visit, reason="Wedding", preferred_dates="Fri", created_by=None)

    response = resolve(client_for(cast.coordinator), f"reschedule_request-{request.pk}", "Done")

    assert "Use the form under the alert" in response.content.decode()
    assert not AlertHandling.objects.exists()
    request.refresh_from_db()
    assert request.resolved_at is None


def test_a_closed_request_is_in_the_patients_history_with_its_note(cast):
    visit = factories.VisitFactory(patient=cast.patient, planned_start=NOW + dt.timedelta(days=9))
    request = RescheduleRequest.objects.create(visit=visit, reason="Wedding", preferred_dates="Fri", created_by=None)

    reschedule_request_resolve(request=request, resolution="Moved to Thu 3 Dec", by=cast.coordinator)

    [handling] = alert_history(visit=visit)
    assert (handling.key, handling.note, handling.patient) == (
        f"reschedule_request-{request.pk}",
        "Moved to Thu 3 Dec",
        cast.patient,
    )


def test_a_recorded_follow_up_call_is_in_the_patients_history(cast):
    visit = factories.VisitFactory(patient=cast.patient, planned_start=NOW - dt.timedelta(days=4))
    follow_up = visit.follow_ups.create(window="48h", due_at=NOW - dt.timedelta(days=2))

    client_for(cast.coordinator).post(reverse("alerts:follow_up_call", args=[follow_up.pk]), {"call_note": "Well"})

    [handling] = alert_history(patient=cast.patient)
    assert (handling.key, handling.note, handling.state) == (f"follow_up_call-{follow_up.pk}", "Well", "resolved")


def test_history_needs_a_patient_or_a_visit(cast):
    with pytest.raises(ValueError):
        alert_history()


def test_the_history_partial_names_who_did_what_and_when(cast):
    from django.template.loader import render_to_string

    flagged_visit(cast)
    alert = vitals_alert()
    alert_acknowledge(alert=alert, by=cast.coordinator)
    alert_resolve(alert=alert, note="Assessed, no reaction", by=cast.coordinator)

    html = render_to_string(
        "visits/alerts/partials/history.html", {"alert_history": alert_history(patient=cast.patient)}
    )

    assert f"Vital signs flagged: {cast.patient.full_name}" in html
    assert "Resolved by Carmen Ortiz, Fri 20 Nov 2026, 10:00 EST: “Assessed, no reaction”" in html
    empty = render_to_string("visits/alerts/partials/history.html", {"alert_history": []})
    assert "No alert has been handled yet." in empty


def test_the_resolved_view_lists_resolved_alerts_with_their_note(cast):
    flagged_visit(cast)
    alert_resolve(alert=vitals_alert(), note="Assessed, no reaction", by=cast.coordinator)

    page = client_for(cast.coordinator).get(reverse("alerts:resolved")).content.decode()

    assert f"Vital signs flagged: {cast.patient.full_name}" in page
    assert "“Assessed, no reaction”" in page
    assert reverse("patients:detail", args=[cast.patient.pk]) in page


@pytest.mark.parametrize("role", ["assigned_nurse", "patient_user", "anonymous"])
def test_only_coordinators_handle_alerts(cast, role):
    flagged_visit(cast)
    key = vitals_alert().key
    client = client_for(cast.user(role))

    responses = [
        client.post(reverse("alerts:acknowledge"), {"key": key}),
        client.post(reverse("alerts:resolve"), {"key": key, "note": "x"}),
        client.get(reverse("alerts:resolved")),
    ]

    if role == "anonymous":
        assert all(response.url.startswith(reverse("login")) for response in responses)
    else:
        assert [response.status_code for response in responses] == [403, 403, 403]
    assert not AlertHandling.objects.exists()


# --- Stable keys, one per fact -----------------------------------------------------------------------------------


def test_keys_are_the_same_each_time_the_queue_is_read_and_unique(cast):
    flagged_visit(cast)
    factories.VisitFactory(patient=cast.patient, planned_start=NOW + dt.timedelta(hours=30))
    factories.AuthorizationFactory(patient=cast.other_patient, valid_to=TODAY + dt.timedelta(days=3))
    factories.VisitFactory(patient=cast.other_patient, planned_start=NOW + dt.timedelta(days=10))

    first, second = [alert.key for alert in collect_alerts()], [alert.key for alert in collect_alerts()]

    assert first == second
    assert len(set(first)) == len(first) >= 5


def test_an_authorization_running_out_of_visits_after_its_end_was_resolved_is_a_new_alert(cast):
    authorization = factories.AuthorizationFactory(
        patient=cast.patient, valid_to=TODAY + dt.timedelta(days=10), visits_authorized=5
    )
    [ending] = [alert for alert in open_alerts() if alert.kind == "authorization"]
    alert_resolve(alert=ending, note="Renewal requested from Blue Cross", by=cast.coordinator)
    assert [alert for alert in open_alerts() if alert.kind == "authorization"] == []

    for days in (1, 2, 3):
        factories.VisitFactory(patient=cast.patient, planned_start=NOW + dt.timedelta(days=days))

    [again] = [alert for alert in open_alerts() if alert.kind == "authorization"]
    assert again.about == authorization
    assert again.key == f"authorization-{authorization.pk}-ending-few_left"


def test_a_message_that_fails_again_after_a_resolution_is_a_new_alert(cast, frozen_clock):
    notification = Notification.objects.create(
        recipient=cast.patient_user, channel="email", kind="visit_reminder", key="r1", subject="s", body="b",
        due_at=NOW, next_attempt_at=NOW, failed_at=NOW, last_error="Mailbox full",
    )  # fmt: skip
    [failed] = [alert for alert in open_alerts() if alert.kind == "notification_failed"]
    alert_resolve(alert=failed, note="Called the patient instead", by=cast.coordinator)
    assert [alert for alert in open_alerts() if alert.kind == "notification_failed"] == []

    Notification.objects.filter(pk=notification.pk).update(failed_at=NOW + dt.timedelta(hours=2))
    frozen_clock.shift(dt.timedelta(hours=3))

    [again] = [alert for alert in open_alerts() if alert.kind == "notification_failed"]
    assert again.anchor == f"notification_failed-{notification.pk}"
    assert again.key != failed.key


# --- Visits with no prior authorization at all --------------------------------------------------------------------


def no_authorization_alerts():
    return [alert for alert in collect_alerts() if alert.kind == "no_authorization"]


def test_visits_in_the_coming_weeks_with_no_authorization_are_one_alert_per_order(cast):
    order = factories.OrderFactory(patient=cast.patient)
    for days in (3, 4, 27):
        factories.VisitFactory(order=order, patient=cast.patient, planned_start=NOW + dt.timedelta(days=days))
    factories.VisitFactory(order=order, patient=cast.patient, planned_start=NOW + dt.timedelta(days=29))
    factories.VisitFactory(
        order=order, patient=cast.patient, planned_start=NOW + dt.timedelta(days=5), status=Visit.Status.CANCELLED
    )

    [alert] = no_authorization_alerts()

    assert alert.about == order
    assert alert.key == f"no_authorization-{order.pk}"
    assert alert.title == f"No prior authorization for {cast.patient.full_name}"
    assert alert.detail.startswith("3 ")
    assert "from Mon 23 Nov to Thu 17 Dec (the first in 3 days): no prior authorization on file covers those days" in (
        alert.detail
    )
    assert alert.severity.label == "Urgent"
    assert alert.url == reverse("patients:detail", args=[cast.patient.pk]) + "#authorizations"


def test_visits_an_authorization_covers_are_not_an_alert_even_when_its_count_is_used_up(cast):
    factories.AuthorizationFactory(patient=cast.patient, visits_authorized=0)
    factories.VisitFactory(patient=cast.patient, planned_start=NOW + dt.timedelta(days=5))

    assert no_authorization_alerts() == []


def test_coverage_is_counted_on_the_patients_own_calendar_day(cast):
    # 10 pm Chicago on Mon 30 Nov is already Tue 1 Dec in UTC: the authorization ending 30 Nov covers it.
    factories.AuthorizationFactory(patient=cast.patient, valid_to=dt.date(2026, 11, 30))
    covered = factories.VisitFactory(patient=cast.patient, planned_start=dt.datetime(2026, 12, 1, 4, 0, tzinfo=dt.UTC))
    uncovered = factories.VisitFactory(
        patient=cast.patient, planned_start=dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)
    )

    found = no_authorization_alerts()

    assert [alert.about for alert in found] == [uncovered.order]
    assert covered.order not in [alert.about for alert in found]
    assert "on Tue 1 Dec" in found[0].detail


# --- The page: counts at the top, empty kinds in one line ----------------------------------------------------------


def test_empty_kinds_collapse_into_one_line_and_the_counts_link_to_each_kind(cast):
    flagged_visit(cast)

    response = client_for(cast.coordinator).get(reverse("alerts:queue"))

    page = response.content.decode()
    counts = page.split('id="alert-counts"')[1].split("</ul>")[0]
    assert 'href="#vitals_flag"' in counts
    assert 'href="#unassigned_visit"' not in counts
    assert '<section class="card mb-3" id="vitals_flag"' in page
    assert 'id="unassigned_visit"' not in page
    empty = page.split('id="empty-kinds">')[1].split("</p>")[0]
    assert empty.startswith("No alerts: unassigned visits, prior authorizations, visits with no prior authorization, ")
    assert "vital signs" not in empty.lower()
    assert "check-in exceptions, " in empty and "(location" not in empty
    assert len(response.context["groups"]) == empty.count(", ") + 2


def test_history_lists_alerts_in_hand_first_then_the_newest_resolved(cast, frozen_clock):
    first, second, third = (flagged_visit(cast) for _ in range(3))
    by_visit = {alert.about.visit: alert for alert in open_alerts() if alert.kind == "vitals_flag"}
    alert_resolve(alert=by_visit[first], note="Older", by=cast.coordinator)
    frozen_clock.shift(dt.timedelta(minutes=5))
    alert_resolve(alert=by_visit[second], note="Newer", by=cast.coordinator)
    alert_acknowledge(alert=by_visit[third], by=cast.coordinator)

    expected = [third, second, first]
    assert [handling.visit for handling in alert_history(patient=cast.patient)] == expected
    # The patient page reads it through the reverse relation (patients does not import visits): same order.
    assert [handling.visit for handling in cast.patient.alert_handlings.all()] == expected


def test_an_alert_taken_on_that_ages_out_is_still_closed_with_a_note(cast, frozen_clock):
    visit = flagged_visit(cast)
    alert = vitals_alert()
    alert_acknowledge(alert=alert, by=cast.coordinator)
    frozen_clock.shift(dt.timedelta(hours=25))  # flagged sets are raised for a day
    client = client_for(cast.coordinator)

    page = client.get(reverse("alerts:queue")).content.decode()
    assert "vitals_flag" not in [found.kind for found in open_alerts()]
    in_hand = page.split('id="in-hand"')[1]
    assert f"Vital signs flagged: {cast.patient.full_name}" in in_hand
    assert f'value="{alert.key}"' in in_hand

    refused = client.post(reverse("alerts:resolve"), {"key": alert.key, "note": ""})
    assert refused.status_code == 400
    assert "Write what was done" in refused.content.decode()
    assert AlertHandling.objects.get().state == "acknowledged"

    response = resolve(client, alert.key, "Nurse confirmed: no reaction")

    assert "Resolved: Vital signs flagged" in response.content.decode()
    assert 'id="in-hand"' not in response.content.decode()
    [handling] = alert_history(visit=visit)
    assert (handling.state, handling.note) == ("resolved", "Nurse confirmed: no reaction")
