"""The coordinator's alert queue: each source in and out of its window, the page, and resolving requests."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from tests.conftest import client_for
from visits.alerts import registry
from visits.alerts.registry import Alert, Severity, alert_source
from visits.alerts.selectors import collect_alerts
from visits.alerts.services import alert_acknowledge, alert_resolve
from visits.models import RescheduleRequest, Visit, VitalSigns

# Friday 20 November 2026, 9:00 am in Chicago (the factories' patient time zone).
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def visit_for(patient, *, starts_in=dt.timedelta(days=2), **kwargs):
    order = kwargs.pop("order", None) or factories.OrderFactory(patient=patient)
    return factories.VisitFactory(order=order, patient=patient, planned_start=NOW + starts_in, **kwargs)


def kinds(found, kind):
    return [alert.about for alert in found if alert.kind == kind]


def request_for(visit, **kwargs):
    defaults = {"reason": "My daughter's wedding", "preferred_dates": "Thursday or Friday morning"}
    return RescheduleRequest.objects.create(visit=visit, created_by=visit.patient.user, **(defaults | kwargs))


# --- Unassigned visits ---------------------------------------------------------------------------


def test_unassigned_visit_starting_in_71_hours_is_an_alert_but_not_one_in_73_hours(cast):
    soon = visit_for(cast.patient, starts_in=dt.timedelta(hours=71))
    later = visit_for(cast.patient, starts_in=dt.timedelta(hours=73))

    found = kinds(collect_alerts(), "unassigned_visit")

    assert soon in found
    assert later not in found


def test_assigned_cancelled_or_past_visits_are_not_unassigned_alerts(cast):
    visit_for(cast.patient, starts_in=dt.timedelta(hours=5), nurse=cast.assigned_nurse)
    visit_for(cast.patient, starts_in=dt.timedelta(hours=5), status=Visit.Status.CANCELLED)
    visit_for(cast.patient, starts_in=-dt.timedelta(hours=5))

    assert kinds(collect_alerts(), "unassigned_visit") == []


def test_unassigned_visit_within_24_hours_is_urgent_and_links_to_its_card_on_the_board(cast):
    tomorrow = visit_for(cast.patient, starts_in=dt.timedelta(hours=20))
    monday = visit_for(cast.patient, starts_in=dt.timedelta(hours=71))

    by_visit = {alert.about: alert for alert in collect_alerts() if alert.kind == "unassigned_visit"}

    assert by_visit[tomorrow].severity == Severity.URGENT
    assert by_visit[monday].severity == Severity.SOON
    # The board opens each on its own day with its card highlighted (tests/visits/board/test_board_views.py).
    assert by_visit[tomorrow].url == f"/schedule/?visit={tomorrow.pk}#visit-{tomorrow.pk}"
    assert by_visit[monday].url == f"/schedule/?visit={monday.pk}#visit-{monday.pk}"
    assert "Mon 23 Nov, 08:00 CST" in by_visit[monday].detail


# --- Prior authorizations ------------------------------------------------------------------------


def test_authorization_ending_in_14_days_is_an_alert_but_not_one_ending_in_15(cast):
    fourteen = factories.AuthorizationFactory(patient=cast.patient, valid_to=TODAY + dt.timedelta(days=14))
    fifteen = factories.AuthorizationFactory(patient=cast.other_patient, valid_to=TODAY + dt.timedelta(days=15))

    found = kinds(collect_alerts(), "authorization")

    assert fourteen in found
    assert fifteen not in found


def test_expired_authorization_is_not_an_alert(cast):
    factories.AuthorizationFactory(
        patient=cast.patient, valid_from=TODAY - dt.timedelta(days=90), valid_to=TODAY - dt.timedelta(days=1)
    )

    assert kinds(collect_alerts(), "authorization") == []


def test_authorization_ending_soon_is_quiet_once_a_renewal_is_on_file(cast):
    ending = factories.AuthorizationFactory(patient=cast.patient, valid_to=TODAY + dt.timedelta(days=10))
    factories.AuthorizationFactory(
        patient=cast.patient, valid_from=TODAY + dt.timedelta(days=11), valid_to=TODAY + dt.timedelta(days=190)
    )

    assert ending not in kinds(collect_alerts(), "authorization")


def test_authorization_with_2_visits_left_is_an_alert_but_not_with_3(cast):
    tight = factories.AuthorizationFactory(patient=cast.patient, visits_authorized=5)
    roomy = factories.AuthorizationFactory(patient=cast.other_patient, visits_authorized=5)
    for days in (-20, -10, 5):
        visit_for(cast.patient, starts_in=dt.timedelta(days=days))
    for days in (-20, 5):
        visit_for(cast.other_patient, starts_in=dt.timedelta(days=days))
    # Cancelled and missed visits, and visits outside the window, use nothing up.
    visit_for(cast.other_patient, starts_in=dt.timedelta(days=6), status=Visit.Status.CANCELLED)
    visit_for(cast.other_patient, starts_in=dt.timedelta(days=-5), status=Visit.Status.MISSED)
    visit_for(cast.other_patient, starts_in=dt.timedelta(days=-40))
    visit_for(cast.other_patient, starts_in=dt.timedelta(days=200))

    found = {alert.about: alert for alert in collect_alerts() if alert.kind == "authorization"}

    assert tight in found
    assert roomy not in found
    assert "3 of 5 authorized visits are used or planned: 2 left" in found[tight].detail
    assert found[tight].url == reverse("patients:detail", args=[cast.patient.pk]) + "#authorizations"


def test_authorization_with_every_visit_used_is_urgent(cast):
    used_up = factories.AuthorizationFactory(patient=cast.patient, visits_authorized=1)
    visit_for(cast.patient, starts_in=dt.timedelta(days=3))
    visit_for(cast.patient, starts_in=dt.timedelta(days=4))

    alert = next(alert for alert in collect_alerts() if alert.about == used_up)

    assert alert.severity == Severity.URGENT
    assert "none left, 1 over" in alert.detail


# --- Reschedule requests -------------------------------------------------------------------------


def test_open_reschedule_request_is_an_alert_with_reason_and_preferred_dates(cast):
    visit = visit_for(cast.patient, starts_in=dt.timedelta(days=10), nurse=cast.assigned_nurse)
    open_request = request_for(visit)
    answered = request_for(visit, resolved_at=NOW, resolution="Moved")

    found = {alert.about: alert for alert in collect_alerts() if alert.kind == "reschedule_request"}

    assert list(found) == [open_request]
    assert answered not in found
    assert "Reason: My daughter's wedding" in found[open_request].lines
    assert "Preferred: Thursday or Friday morning" in found[open_request].lines


# --- The registry and the order ------------------------------------------------------------------


def test_alerts_are_sorted_by_severity_then_time(cast):
    ending = factories.AuthorizationFactory(patient=cast.other_patient, valid_to=TODAY + dt.timedelta(days=2))
    late = visit_for(cast.patient, starts_in=dt.timedelta(hours=23))
    early = visit_for(cast.patient, starts_in=dt.timedelta(hours=2))
    next_week = visit_for(cast.patient, starts_in=dt.timedelta(hours=60))

    # (These IVIG visits without a creatinine on file also raise "creatinine due"; that source is tested on its own.)
    order = [alert.about for alert in collect_alerts(kinds={"unassigned_visit", "authorization"})]

    # Urgent: the two visits within 24 h (by time), then the authorization ending in 2 days; then the rest.
    assert order == [early, late, ending, next_week]


def test_a_new_kind_of_alert_is_one_decorated_function(cast, monkeypatch):
    monkeypatch.setattr(registry, "SOURCES", dict(registry.SOURCES))

    @alert_source("lab_due", label="Labs due")
    def labs_due(*, now):
        return [
            Alert("lab_due", Severity.URGENT, "Creatinine due", "Draw before Monday", "/patients/", now, cast.patient)
        ]

    response = client_for(cast.coordinator).get(reverse("alerts:queue"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Labs due" in page
    assert "Creatinine due" in page
    with pytest.raises(ValueError, match="registered twice"):
        alert_source("lab_due")(labs_due)


# --- The page ------------------------------------------------------------------------------------


def test_coordinator_sees_each_kind_with_its_count_and_where_to_act(cast):
    factories.AuthorizationFactory(patient=cast.patient)  # covers the patient's visits (24 authorized)
    unassigned = visit_for(cast.patient, starts_in=dt.timedelta(hours=30))
    factories.AuthorizationFactory(patient=cast.other_patient, valid_to=TODAY + dt.timedelta(days=7))
    request_for(visit_for(cast.patient, starts_in=dt.timedelta(days=9), nurse=cast.assigned_nurse))

    response = client_for(cast.coordinator).get(reverse("alerts:queue"))

    assert response.status_code == 200
    page = response.content.decode()
    # Other kinds (chart alerts) have nothing to report here; only these four have. The patient's IVIG cycle
    # starts in 30 hours with no creatinine on file, so a lab is due too.
    assert [(group.source.kind, group.count) for group in response.context["groups"] if group.count] == [
        ("unassigned_visit", 1),
        ("authorization", 1),
        ("reschedule_request", 1),
        ("creatinine_due", 1),
    ]
    assert "<strong>4</strong> to handle" in page
    assert f'href="/schedule/?visit={unassigned.pk}#visit-{unassigned.pk}"' in page
    assert f'href="{reverse("patients:detail", args=[cast.other_patient.pk])}#authorizations"' in page
    assert "My daughter&#x27;s wedding" in page


def test_empty_queue_says_so(cast):
    response = client_for(cast.coordinator).get(reverse("alerts:queue"))

    assert "Nothing needs you right now." in response.content.decode()


@pytest.mark.parametrize("role", ["assigned_nurse", "patient_user"])
def test_only_coordinators_open_the_queue(cast, role):
    assert client_for(cast.user(role)).get(reverse("alerts:queue")).status_code == 403


# --- Resolving a request -------------------------------------------------------------------------


def test_resolving_a_request_needs_a_note(cast):
    request = request_for(visit_for(cast.patient, starts_in=dt.timedelta(days=9)))

    response = client_for(cast.coordinator).post(
        reverse("alerts:resolve_request", args=[request.pk]), {"resolution": " "}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "still open: add a note" in page
    assert "Write a short note on what was done" in page
    request.refresh_from_db()
    assert request.resolved_at is None


def test_resolved_request_leaves_the_queue_with_its_note(cast):
    request = request_for(visit_for(cast.patient, starts_in=dt.timedelta(days=9)))
    client = client_for(cast.coordinator)

    response = client.post(
        reverse("alerts:resolve_request", args=[request.pk]), {"resolution": "Moved to Thu 3 Dec, 10 am"}, follow=True
    )

    assert response.redirect_chain == [(reverse("alerts:queue"), 302)]
    assert "is resolved" in response.content.decode()
    request.refresh_from_db()
    assert request.resolved_at == NOW
    assert request.resolved_by == cast.coordinator
    assert request.resolution == "Moved to Thu 3 Dec, 10 am"
    assert kinds(collect_alerts(), "reschedule_request") == []


def test_resolving_twice_keeps_the_first_note(cast):
    request = request_for(visit_for(cast.patient, starts_in=dt.timedelta(days=9)))
    client = client_for(cast.coordinator)
    url = reverse("alerts:resolve_request", args=[request.pk])
    client.post(url, {"resolution": "Moved"})

    response = client.post(url, {"resolution": "Second note"}, follow=True)

    assert "was already resolved" in response.content.decode()
    request.refresh_from_db()
    assert request.resolution == "Moved"


def test_resolving_an_unknown_request_is_404(cast):
    response = client_for(cast.coordinator).post(reverse("alerts:resolve_request", args=[999999]), {"resolution": "x"})

    assert response.status_code == 404


# --- Query count ---------------------------------------------------------------------------------


def add_one_of_each(nurse, coordinator):
    patient = factories.PatientFactory(user=factories.patient_user())
    visit_for(patient, starts_in=dt.timedelta(hours=30))
    factories.AuthorizationFactory(patient=patient, valid_to=TODAY + dt.timedelta(days=5))
    request_for(visit_for(patient, starts_in=dt.timedelta(days=9), nurse=nurse))
    # Two flagged visits: one acknowledged (shown with who and when), one resolved (off the queue).
    for handled in (alert_acknowledge, alert_resolve):
        flagged = visit_for(
            patient, starts_in=-dt.timedelta(hours=2), nurse=nurse, order=factories.OrderFactory(patient=patient)
        )
        VitalSigns.objects.create(
            visit=flagged, taken_at=NOW - dt.timedelta(hours=1), phase="titration", temperature_c=38.4, pulse=96,
            systolic=120, diastolic=80, respiratory_rate=16, spo2=97, flags=["Temperature 38.4 °C: 38.0 °C or more"],
        )  # fmt: skip
        [alert] = [alert for alert in collect_alerts(kinds={"vitals_flag"}) if alert.about.visit == flagged]
        if handled is alert_resolve:
            alert_resolve(alert=alert, note="Nurse called: no reaction", by=coordinator)
        else:
            alert_acknowledge(alert=alert, by=coordinator)


def queue_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("alerts:queue"))
    assert response.status_code == 200
    return len(queries), response.context["total"]


def test_queue_query_count_does_not_grow_with_alerts(cast):
    client = client_for(cast.coordinator)
    add_one_of_each(cast.assigned_nurse, cast.coordinator)
    small, small_total = queue_queries(client)
    for _ in range(5):
        add_one_of_each(cast.assigned_nurse, cast.coordinator)

    large, large_total = queue_queries(client)

    # Per patient: unassigned visit, authorization, request, creatinine due before the IVIG cycle, the requested
    # visit on a day past the authorization's end (no authorization at all), and the acknowledged vitals flag.
    assert (small_total, large_total) == (6, 36)
    assert large == small
