"""Check-in, check-out and undo-check-in buttons of the chart's "checkin" section (electronic visit verification)."""

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.views.decorators.http import require_POST

from infusion_site.access import role_required
from infusion_site.roles import is_nurse
from visits.chart.checkin.forms import CheckInForm, LocationForm, UndoCheckInForm
from visits.chart.checkin.section import verification_of
from visits.chart.checkin.services import (
    ensure_check_out_possible,
    visit_check_in,
    visit_check_in_undo,
    visit_check_out,
)
from visits.chart.clock import recorded_now
from visits.chart.rules import StaleSection, ensure_editable
from visits.chart.views import chart_visit, section_submit

KEY = "checkin"


@require_POST
@role_required(is_nurse)
def check_in(request, pk):
    return _record(request, pk, check_out=False)


@require_POST
@role_required(is_nurse)
def check_out(request, pk):
    return _record(request, pk, check_out=True)


@require_POST
@role_required(is_nurse)
def check_in_undo(request, pk):
    visit = chart_visit(request, pk)
    if visit.nurse_id != request.user.pk:
        raise PermissionDenied("Only the nurse assigned to this visit can undo its check-in.")

    def save(data):
        visit_check_in_undo(
            visit=visit, nurse=request.user, reason=data["void_reason"], expected_version=data["version"]
        )
        return "Check-in undone. The visit is planned again; check in when you are at the right visit."

    form = UndoCheckInForm(request.POST)
    return section_submit(request, visit, KEY, form, save, bound_key="undo")


def _record(request, pk, *, check_out: bool):
    visit = chart_visit(request, pk)
    if visit.nurse_id != request.user.pk:
        raise PermissionDenied("Only the nurse assigned to this visit checks in and out.")

    def save(data):
        current = verification_of(visit)
        if data["version"] != (current.version if current else 0):
            raise StaleSection(_stale_message(current, visit))
        location = {"latitude": data["latitude"], "longitude": data["longitude"]}
        if check_out:
            visit_check_out(visit=visit, nurse=request.user, at=recorded_now(), **location)
        else:
            visit_check_in(
                visit=visit,
                nurse=request.user,
                at=recorded_now(),
                accuracy_m=data["accuracy_m"],
                window_override_reason=data["window_override_reason"],
                **location,
            )

    editable = ensure_check_out_possible if check_out else ensure_editable  # a locked chart answers 409
    form = LocationForm(request.POST) if check_out else CheckInForm(request.POST)
    return section_submit(request, visit, KEY, form, save, bound_key="location", editable=editable)


def _stale_message(current, visit) -> str:
    if current is None:
        return "Not saved: the check-in on this chart was undone since you opened it. Check the section and try again."
    zone = visit.patient.zone
    done = f"checked in at {timezone.localtime(current.checked_in_at, zone):%H:%M}"
    if current.checked_out_at:
        done += f" and out at {timezone.localtime(current.checked_out_at, zone):%H:%M}"
    who = current.nurse.get_full_name() or current.nurse.username
    return f"Not saved: {who} {done} on another device since you opened this chart. Nothing was overwritten."
