"""The chart's infusion and vital-sign sections (start, rate changes, end, vitals) and the "what is next" strip.

Each POST answers the section again (htmx swaps it in place) or, for a plain POST, redirects back to the section;
bad input answers 400 with the messages at the fields, a stale form or a locked chart 409, and nothing is saved.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from infusion_site.access import role_required
from infusion_site.roles import is_coordinator, is_nurse
from patients.services import ServiceError
from visits.chart.infusion import services
from visits.chart.infusion.forms import EndForm, RateChangeForm, StartForm, VitalsForm, add_service_errors
from visits.chart.infusion.section import context as section_context
from visits.chart.infusion.section import next_step
from visits.chart.rules import ChartLocked, StaleSection, ensure_editable, ensure_nurse_of
from visits.chart.sections import SECTIONS
from visits.chart.views import chart_visit, render_section, section_html

INFUSION, VITALS = "infusion", "vitals"


@require_GET
@role_required(is_nurse, is_coordinator)
def whats_next(request, pk):
    """The strip above the chart: one sentence of what to do next, refreshed every minute and after each save."""
    visit = chart_visit(request, pk)
    if is_nurse(request.user) and visit.nurse_id != request.user.pk:
        raise PermissionDenied("Only the visit's nurse and coordinators follow this visit.")
    return render(request, "visits/chart/whats_next.html", {"visit": visit, "step": next_step(visit=visit)})


def _documenting_visit(request, pk):
    visit = chart_visit(request, pk)
    try:
        ensure_nurse_of(visit, request.user)
    except ServiceError as error:
        raise PermissionDenied(str(error)) from error
    return visit


def _saved(request, visit, key):
    """After a save: the section; after an infusion change, also the vitals due list (swapped out of band, so a
    set being typed in the vitals form is not lost)."""
    if not request.htmx:
        return redirect(reverse("visits:chart", args=[visit.pk]) + f"#section-{key}")
    visit = chart_visit(request, visit.pk)
    response = render_section(request, visit, key)
    if key == INFUSION:
        context = {"visit": visit, **section_context(visit=visit, user=request.user, bound={"oob": True})}
        response.content += render_to_string("visits/chart/vitals_due.html", context, request=request).encode()
    return response


def _refused(request, visit, key, *, bound=None, status=400, message=None):
    """The section again with why (htmx), or the whole chart with it (a plain POST)."""
    if request.htmx:
        return render_section(request, visit, key, bound=bound, status=status, message=message)
    sections = [
        section_html(request, visit, section, bound=bound, message=message)
        if section.key == key
        else section_html(request, visit, section)
        for section in SECTIONS
    ]
    return render(
        request,
        "visits/chart/chart.html",
        {"visit": visit, "patient": visit.patient, "sections": sections},
        status=status,
    )


def _run(request, visit, key, bound_key, form, write):
    """Validate, write through the service, and answer; every refusal leaves the chart as it was."""
    try:
        ensure_editable(visit)
    except ChartLocked as error:
        return _refused(request, visit, key, status=409, message=str(error))
    if not form.is_valid():
        return _refused(request, visit, key, bound={bound_key: form}, status=400)
    try:
        write(form.cleaned_data)
    except ChartLocked as error:
        return _refused(request, chart_visit(request, visit.pk), key, status=409, message=str(error))
    except StaleSection as error:
        return _refused(request, chart_visit(request, visit.pk), key, status=409, message=str(error))
    except ValidationError as error:
        add_service_errors(form, error)
        return _refused(request, visit, key, bound={bound_key: form}, status=400)
    except ServiceError as error:
        return _refused(request, visit, key, bound={bound_key: form}, status=400, message=str(error))
    return _saved(request, visit, key)


@require_POST
@role_required(is_nurse)
def infusion_start(request, pk):
    visit = _documenting_visit(request, pk)
    form = StartForm(request.POST, visit=visit)

    def write(data):
        services.infusion_start(visit=visit, nurse=request.user, at=data["at"], rate_ml_per_hr=data["rate_ml_per_hr"])

    return _run(request, visit, INFUSION, "start", form, write)


@require_POST
@role_required(is_nurse)
def infusion_rate(request, pk):
    visit = _documenting_visit(request, pk)
    form = RateChangeForm(request.POST, visit=visit)

    def write(data):
        services.infusion_rate_change(
            visit=visit,
            nurse=request.user,
            at=data["at"],
            kind=data["kind"],
            rate_ml_per_hr=data["rate_ml_per_hr"],
            note=data["note"],
            expected_version=data["version"],
        )

    return _run(request, visit, INFUSION, "change", form, write)


@require_POST
@role_required(is_nurse)
def infusion_end(request, pk):
    visit = _documenting_visit(request, pk)
    form = EndForm(request.POST, visit=visit)

    def write(data):
        services.infusion_end(
            visit=visit,
            nurse=request.user,
            at=data["at"],
            volume_infused_ml=data["volume_infused_ml"],
            expected_version=data["version"],
        )

    return _run(request, visit, INFUSION, "end", form, write)


@require_POST
@role_required(is_nurse)
def vitals_add(request, pk):
    visit = _documenting_visit(request, pk)
    form = VitalsForm(request.POST, visit=visit)

    def write(data):
        services.vitals_record(
            visit=visit, nurse=request.user, taken_at=data["taken_at"], phase=data["phase"], reading=form.reading()
        )

    return _run(request, visit, VITALS, "vitals", form, write)
