"""Check-in and check-out buttons of the chart's "checkin" section (electronic visit verification)."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from infusion_site.access import role_required
from infusion_site.roles import is_nurse
from patients.services import ServiceError
from visits.chart.checkin.section import LocationForm, verification_of
from visits.chart.checkin.services import CheckInConflict, ensure_check_out_possible, visit_check_in, visit_check_out
from visits.chart.rules import ChartLocked, ensure_editable
from visits.chart.sections import SECTIONS
from visits.chart.views import chart_visit, render_section, section_html

KEY = "checkin"


@require_POST
@role_required(is_nurse)
def check_in(request, pk):
    return _record(request, pk, check_out=False)


@require_POST
@role_required(is_nurse)
def check_out(request, pk):
    return _record(request, pk, check_out=True)


def _record(request, pk, *, check_out: bool):
    visit = chart_visit(request, pk)
    if visit.nurse_id != request.user.pk:
        raise PermissionDenied("Only the nurse assigned to this visit checks in and out.")
    try:  # a locked chart answers 409 whatever was posted
        if check_out:
            ensure_check_out_possible(visit)
        else:
            ensure_editable(visit)
    except ChartLocked as error:
        return _refused(request, visit, None, status=409, message=str(error))
    form = LocationForm(request.POST)
    if not form.is_valid():
        return _refused(request, visit, form, status=400)
    data = form.cleaned_data
    current = verification_of(visit)
    current_version = current.version if current else 0
    if data["version"] != current_version:
        return _refused(request, chart_visit(request, pk), None, status=409, message=_stale_message(current, visit))
    location = {"latitude": data["latitude"], "longitude": data["longitude"]}
    try:
        if check_out:
            visit_check_out(visit=visit, nurse=request.user, at=timezone.now(), **location)
        else:
            visit_check_in(
                visit=visit, nurse=request.user, at=timezone.now(), accuracy_m=data["accuracy_m"], **location
            )
    except (ChartLocked, CheckInConflict) as error:
        return _refused(request, chart_visit(request, pk), None, status=409, message=str(error))
    except ServiceError as error:
        return _refused(request, visit, form, status=400, message=str(error))
    if request.htmx:
        return render_section(request, chart_visit(request, pk), KEY)
    return redirect(reverse("visits:chart", args=[pk]) + f"#section-{KEY}")


def _stale_message(current, visit) -> str:
    if current is None:
        return "Not saved: the check-in on this chart was removed since you opened it. Check the section and try again."
    zone = visit.patient.zone
    done = f"checked in at {timezone.localtime(current.checked_in_at, zone):%H:%M}"
    if current.checked_out_at:
        done += f" and out at {timezone.localtime(current.checked_out_at, zone):%H:%M}"
    who = current.nurse.get_full_name() or current.nurse.username
    return f"Not saved: {who} {done} on another device since you opened this chart. Nothing was overwritten."


def _refused(request, visit, form, *, status: int, message: str | None = None):
    """The section again with why (htmx), or the whole chart with the section's message (a plain POST)."""
    if request.htmx:
        return render_section(request, visit, KEY, bound=form, status=status, message=message)
    sections = [
        section_html(request, visit, section, bound=form, message=message)
        if section.key == KEY
        else section_html(request, visit, section)
        for section in SECTIONS
    ]
    return render(
        request,
        "visits/chart/chart.html",
        {"visit": visit, "patient": visit.patient, "sections": sections},
        status=status,
    )
