"""Undoing a mistaken check-in: voided, never deleted, audited; the visit is planned again and can be checked in anew.

The visit is planned for Wednesday 2 December 2026 at 10:00 in Chicago; the nurse checked in at 09:12 and undoes
it at 09:15.
"""

import datetime as dt
import html
from zoneinfo import ZoneInfo

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.urls import reverse

from patients.services import ServiceError
from tests import factories
from tests.conftest import client_for
from visits.alerts.selectors import collect_alerts
from visits.chart.checkin.services import CheckInConflict, visit_check_in, visit_check_in_undo, visit_check_out
from visits.chart.rules import ChartLocked, StaleSection
from visits.models import InfusionRecord, Visit, VisitVerification
from visits.portal.views import visits_for_portal

CHICAGO = ZoneInfo("America/Chicago")


def chicago(hour: int, minute: int = 0, *, day: int = 2) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=CHICAGO)


CHECKED_IN_AT = chicago(9, 12)
UNDONE_AT = chicago(9, 15)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(UNDONE_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def visit(cast):
    return factories.VisitFactory(
        order=factories.OrderFactory(patient=cast.patient),
        patient=cast.patient,
        nurse=cast.assigned_nurse,
        planned_start=chicago(10),
    )


@pytest.fixture
def checked_in(visit, cast):
    visit_check_in(
        visit=visit, nurse=cast.assigned_nurse, at=CHECKED_IN_AT, latitude=None, longitude=None, accuracy_m=None
    )
    visit.refresh_from_db()
    return visit


def undo(visit, nurse, *, reason="Wrong patient: this is Mr Okonkwo's visit", expected_version=1):
    return visit_check_in_undo(visit=visit, nurse=nurse, reason=reason, expected_version=expected_version)


def state(visit) -> tuple:
    """Everything an undo could change: the rows, which is live, the visit's status, the chart's audit trail (signing
    in writes entries of its own, about the account's devices)."""
    visit.refresh_from_db()
    rows = list(VisitVerification.objects.filter(visit=visit).values_list("pk", "voided_at", "void_reason", "version"))
    chart_entries = LogEntry.objects.exclude(action=LogEntry.Action.ACCESS).filter(
        content_type__app_label__in=("patients", "visits")
    )
    return rows, visit.status, chart_entries.count()


def start_infusion(visit):
    InfusionRecord.objects.create(visit=visit, started_at=chicago(9, 40), version=1)
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.INFUSING)
    visit.refresh_from_db()


# --- The service ------------------------------------------------------------------------------------------------


def test_undo_voids_the_check_in_without_deleting_it_and_plans_the_visit_again(checked_in, cast):
    voided = undo(checked_in, cast.assigned_nurse, reason="  wrong patient  ")

    row = VisitVerification.objects.get(visit=checked_in)  # still there, the only one
    assert row == voided
    assert row.checked_in_at == CHECKED_IN_AT
    assert row.voided_at == UNDONE_AT
    assert row.voided_by == cast.assigned_nurse
    assert row.void_reason == "wrong patient"
    assert row.version == 2
    checked_in.refresh_from_db()
    assert checked_in.status == Visit.Status.SCHEDULED
    assert checked_in.verification is None


def test_undo_is_in_the_audit_trail_with_who_and_why(checked_in, cast):
    voided = undo(checked_in, cast.assigned_nurse, reason="wrong patient")

    [entry] = LogEntry.objects.get_for_object(voided).filter(action=LogEntry.Action.UPDATE)
    assert entry.actor == cast.assigned_nurse
    assert entry.changes["void_reason"] == ["", "wrong patient"]
    assert entry.changes["voided_by"] == ["None", str(cast.assigned_nurse.pk)]
    assert entry.additional_data.items() >= {"visit": checked_in.pk, "action": "check-in undone"}.items()
    status_changes = [
        change.changes["status"]
        for change in LogEntry.objects.get_for_object(checked_in).filter(action=LogEntry.Action.UPDATE)
        if "status" in (change.changes or {})
    ]
    assert status_changes[-1] == ["checked_in", "scheduled"]


def test_after_undo_the_nurse_can_check_in_again_on_a_new_row(checked_in, cast, frozen_clock):
    first = undo(checked_in, cast.assigned_nurse)
    frozen_clock.move_to(chicago(9, 30))

    again = visit_check_in(
        visit=checked_in,
        nurse=cast.assigned_nurse,
        at=chicago(9, 30),
        latitude=None,
        longitude=None,
        accuracy_m=None,
    )

    assert again.pk != first.pk
    assert VisitVerification.objects.filter(visit=checked_in).count() == 2
    checked_in.refresh_from_db()
    assert checked_in.verification == again
    assert checked_in.status == Visit.Status.CHECKED_IN
    assert again.version == 1


def test_undo_after_checking_out_but_before_the_start_is_allowed(checked_in, cast):
    visit_check_out(visit=checked_in, nurse=cast.assigned_nurse, at=UNDONE_AT, latitude=None, longitude=None)

    undo(checked_in, cast.assigned_nurse, expected_version=2)

    checked_in.refresh_from_db()
    assert checked_in.status == Visit.Status.SCHEDULED


def test_undo_after_the_infusion_started_is_refused_and_changes_nothing(checked_in, cast):
    start_infusion(checked_in)
    before = state(checked_in)

    with pytest.raises(CheckInConflict, match="The infusion started at 09:40; the check-in can no longer be undone"):
        undo(checked_in, cast.assigned_nurse)

    assert state(checked_in) == before


def test_undo_with_a_started_infusion_record_is_refused_even_if_the_status_lags(checked_in, cast):
    InfusionRecord.objects.create(visit=checked_in, started_at=chicago(9, 14), version=1)

    with pytest.raises(CheckInConflict, match="infusion started at 09:14"):
        undo(checked_in, cast.assigned_nurse)

    assert checked_in.verification is not None


def test_undo_by_another_nurse_is_refused_and_changes_nothing(checked_in, cast):
    other = factories.nurse(username="nurse-colleague")
    factories.on_care_team(cast.patient, other)
    before = state(checked_in)

    with pytest.raises(ServiceError, match="Only the nurse assigned to this visit can undo its check-in"):
        undo(checked_in, other)

    assert state(checked_in) == before


@pytest.mark.parametrize("reason", ["", "   ", None], ids=["empty", "blank", "none"])
def test_undo_without_a_reason_is_refused_and_changes_nothing(checked_in, cast, reason):
    before = state(checked_in)

    with pytest.raises(ValidationError) as refused:
        undo(checked_in, cast.assigned_nurse, reason=reason)

    assert refused.value.message_dict["void_reason"] == [
        "Give the reason for undoing the check-in (for example: wrong patient)."
    ]
    assert state(checked_in) == before


def test_undo_of_a_signed_chart_is_refused(checked_in, cast):
    Visit.objects.filter(pk=checked_in.pk).update(status=Visit.Status.SIGNED)
    before = state(checked_in)

    with pytest.raises(ChartLocked, match="signed and locked"):
        undo(checked_in, cast.assigned_nurse)

    assert state(checked_in) == before


def test_undo_from_a_tablet_that_missed_the_check_out_is_refused(checked_in, cast):
    visit_check_out(visit=checked_in, nurse=cast.assigned_nurse, at=UNDONE_AT, latitude=None, longitude=None)
    before = state(checked_in)

    with pytest.raises(StaleSection, match="checked out at 09:15"):
        undo(checked_in, cast.assigned_nurse, expected_version=1)

    assert state(checked_in) == before


def test_undo_twice_says_it_was_already_undone(checked_in, cast):
    undo(checked_in, cast.assigned_nurse)

    with pytest.raises(CheckInConflict, match="already undone at 09:15 by Nora Fieldhouse"):
        undo(checked_in, cast.assigned_nurse)

    assert VisitVerification.objects.filter(visit=checked_in, voided_at__isnull=False).count() == 1


def test_undo_before_any_check_in_is_refused(visit, cast):
    with pytest.raises(CheckInConflict, match="not checked in"):
        undo(visit, cast.assigned_nurse, expected_version=0)

    assert not VisitVerification.objects.exists()


def test_an_undone_check_in_leaves_the_exception_queue(checked_in, cast):
    assert [alert.about for alert in collect_alerts() if alert.kind == "checkin_exception"] == [
        checked_in.verifications.get()
    ]  # checked in without a location

    undo(checked_in, cast.assigned_nurse)

    assert [alert for alert in collect_alerts() if alert.kind == "checkin_exception"] == []


# --- Board and portal -----------------------------------------------------------------------------------------


def board_card(visit, coordinator) -> str:
    page = client_for(coordinator).get(reverse("schedule:board"), {"week": "2026-11-30"}).content.decode()
    start = page.index(f'id="visit-{visit.pk}"')
    return html.unescape(page[start : page.index("</article>", start)])


def test_after_undo_the_board_shows_the_visit_as_scheduled_again(checked_in, cast):
    assert "Checked in</span>" in board_card(checked_in, cast.coordinator)
    assert "Change…" not in board_card(checked_in, cast.coordinator)

    undo(checked_in, cast.assigned_nurse)

    card = board_card(checked_in, cast.coordinator)
    assert "Checked in" not in card
    assert "Change…" in card  # the coordinator may move or reassign it again


def test_after_undo_the_portal_shows_the_visit_as_planned_again(checked_in, cast):
    def shown_status():
        response = client_for(cast.patient_user).get(reverse("portal:home"))
        [item] = [item for item in response.context["upcoming"] if item.visit.pk == checked_in.pk]
        return item.status

    assert shown_status() == "In progress"

    undo(checked_in, cast.assigned_nurse)

    assert shown_status() == "Planned"
    upcoming, _, _ = visits_for_portal(patient=cast.patient, now=UNDONE_AT)
    assert [item.can_reschedule for item in upcoming if item.visit.pk == checked_in.pk] == [True]


# --- The chart's section -----------------------------------------------------------------------------------------


def section(page: str) -> str:
    start = page.index('id="section-checkin"')
    return html.unescape(page[start : page.index("</section>", start)])


def chart_section(user, visit) -> str:
    response = client_for(user).get(reverse("visits:chart", args=[visit.pk]))
    assert response.status_code == 200
    return section(response.content.decode())


def post_undo(client, visit, data, *, htmx=True):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse("visits:check_in_undo", args=[visit.pk]), data, headers=headers)


def test_the_section_offers_undo_behind_a_details_with_a_reason_field(checked_in, cast):
    shown = chart_section(cast.assigned_nurse, checked_in)

    details = shown[shown.index('<details class="mt-3" data-testid="checkin-undo"') :].split("</details>")[0]
    assert "<summary" in details and "Undo check-in…" in details
    assert reverse("visits:check_in_undo", args=[checked_in.pk]) in details
    assert 'name="void_reason"' in details and "Reason for undoing the check-in" in details
    assert 'name="version" value="1"' in details


def test_no_undo_before_check_in_after_the_start_or_for_the_coordinator(visit, cast):
    assert "Undo check-in" not in chart_section(cast.assigned_nurse, visit)
    visit_check_in(
        visit=visit, nurse=cast.assigned_nurse, at=CHECKED_IN_AT, latitude=None, longitude=None, accuracy_m=None
    )
    assert "Undo check-in" not in chart_section(cast.coordinator, visit)
    start_infusion(visit)
    assert "Undo check-in" not in chart_section(cast.assigned_nurse, visit)


def test_undo_button_voids_the_check_in_and_lists_it(checked_in, cast):
    response = post_undo(client_for(cast.assigned_nurse), checked_in, {"version": "1", "void_reason": "wrong patient"})

    assert response.status_code == 200
    shown = section(response.content.decode())
    assert "Check-in at 09:12 voided at 09:15 by Nora Fieldhouse: wrong patient" in shown
    assert "Check-in undone. The visit is planned again" in shown
    assert "Not checked in yet" in shown
    assert reverse("visits:check_in", args=[checked_in.pk]) in shown  # check in again
    assert "Undo check-in" not in shown
    assert VisitVerification.objects.get(visit=checked_in).voided_at == UNDONE_AT


def test_plain_post_undo_redirects_to_the_section(checked_in, cast):
    response = post_undo(
        client_for(cast.assigned_nurse), checked_in, {"version": "1", "void_reason": "wrong day"}, htmx=False
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("visits:chart", args=[checked_in.pk]) + "#section-checkin"
    checked_in.refresh_from_db()
    assert checked_in.status == Visit.Status.SCHEDULED


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_undo_without_a_reason_answers_400_at_the_reason_field_and_changes_nothing(checked_in, cast, htmx):
    before = state(checked_in)

    response = post_undo(client_for(cast.assigned_nurse), checked_in, {"version": "1", "void_reason": "  "}, htmx=htmx)

    assert response.status_code == 400
    shown = section(response.content.decode())
    assert '<details class="mt-3" data-testid="checkin-undo" open>' in shown
    field = shown[shown.index('id="checkin-undo-reason"') :]
    assert "Give the reason for undoing the check-in" in field.split("</div>")[0]
    assert state(checked_in) == before


def test_undo_after_the_infusion_started_answers_409_and_changes_nothing(checked_in, cast):
    start_infusion(checked_in)
    before = state(checked_in)

    response = post_undo(client_for(cast.assigned_nurse), checked_in, {"version": "1", "void_reason": "wrong patient"})

    assert response.status_code == 409
    shown = section(response.content.decode())
    assert "The infusion started at 09:40; the check-in can no longer be undone." in shown
    assert "Undo check-in" not in shown
    assert state(checked_in) == before


def test_undo_of_a_signed_chart_answers_409_and_changes_nothing(checked_in, cast):
    Visit.objects.filter(pk=checked_in.pk).update(status=Visit.Status.SIGNED)
    before = state(checked_in)

    response = post_undo(client_for(cast.assigned_nurse), checked_in, {"version": "1", "void_reason": "wrong patient"})

    assert response.status_code == 409
    assert "signed and locked" in response.content.decode()
    assert state(checked_in) == before


def test_undo_from_a_stale_tablet_answers_409_and_changes_nothing(checked_in, cast):
    visit_check_out(visit=checked_in, nurse=cast.assigned_nurse, at=UNDONE_AT, latitude=None, longitude=None)
    before = state(checked_in)

    response = post_undo(client_for(cast.assigned_nurse), checked_in, {"version": "1", "void_reason": "wrong patient"})

    assert response.status_code == 409
    assert "changed on another device" in section(response.content.decode())
    assert state(checked_in) == before


def test_undo_by_a_care_team_nurse_who_is_not_the_visits_nurse_is_forbidden(checked_in, cast):
    other = factories.nurse(username="nurse-colleague")
    factories.on_care_team(cast.patient, other)
    before = state(checked_in)

    response = post_undo(client_for(other), checked_in, {"version": "1", "void_reason": "wrong patient"})

    assert response.status_code == 403
    assert state(checked_in) == before


def test_check_out_from_a_tablet_that_missed_the_undo_is_refused(checked_in, cast):
    undo(checked_in, cast.assigned_nurse)

    response = client_for(cast.assigned_nurse).post(
        reverse("visits:check_out", args=[checked_in.pk]), {"version": "1"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 409
    assert "the check-in on this chart was undone since you opened it" in response.content.decode()
    assert VisitVerification.objects.get(visit=checked_in).checked_out_at is None


# --- The printed record -----------------------------------------------------------------------------------------


def test_the_print_view_lists_voided_check_ins_in_the_verification_part(checked_in, cast, frozen_clock):
    undo(checked_in, cast.assigned_nurse, reason="wrong patient")
    frozen_clock.move_to(chicago(9, 30))
    visit_check_in(
        visit=checked_in, nurse=cast.assigned_nurse, at=chicago(9, 30), latitude=None, longitude=None, accuracy_m=None
    )

    page = client_for(cast.coordinator).get(reverse("visits:print", args=[checked_in.pk])).content.decode()

    part = html.unescape(page[page.index('id="record-verification"') :].split("</section>")[0])
    assert "Time in</dt><dd>2026-12-02 09:30" in part  # the live check-in
    assert (
        "Check-in at 2026-12-02 09:12 by Nora Fieldhouse voided at 2026-12-02 09:15 by Nora Fieldhouse: wrong patient"
        in part
    )


def test_the_section_takes_as_many_queries_with_more_undone_check_ins(visit, cast, rf):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from visits.chart.sections import SECTION_KEYS
    from visits.chart.views import section_html

    def undo_and_check_in_again(times: int) -> None:
        for _ in range(times):
            visit_check_in(
                visit=visit, nurse=cast.assigned_nurse, at=CHECKED_IN_AT, latitude=None, longitude=None, accuracy_m=None
            )
            version = visit.verifications.get(voided_at__isnull=True).version
            undo(visit, cast.assigned_nurse, expected_version=version)

    def queries() -> int:
        request = rf.get("/")
        request.user = cast.assigned_nurse
        fresh = Visit.objects.select_related("patient", "order__product", "nurse").get(pk=visit.pk)
        with CaptureQueriesContext(connection) as captured:
            section_html(request, fresh, SECTION_KEYS["checkin"])
        return len(captured)

    undo_and_check_in_again(1)
    few = queries()
    undo_and_check_in_again(3)
    assert queries() == few
