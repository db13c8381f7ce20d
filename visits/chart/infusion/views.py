"""The chart's infusion and vital-sign sections (start, rate changes, end, vitals) and the "what is next" strip.

Each POST answers the section again (htmx swaps it in place) or, for a plain POST, redirects back to the section;
bad input answers 400 with the messages at the fields, a stale form or a locked chart 409, and nothing is saved.
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from infusion_site.access import role_required
from infusion_site.roles import is_coordinator, is_nurse
from visits.chart.infusion import services
from visits.chart.infusion.forms import AssessmentForm, EndForm, RateChangeForm, StartForm, VitalsForm
from visits.chart.infusion.section import context as section_context
from visits.chart.infusion.section import next_step
from visits.chart.sections import SECTION_KEYS
from visits.chart.views import chart_visit, documenting_visit, section_answer, section_html, section_submit

INFUSION, VITALS = "infusion", "vitals"


@require_GET
@role_required(is_nurse, is_coordinator)
def whats_next(request, pk):
    """The strip above the chart: one sentence of what to do next, refreshed every minute and after each save."""
    visit = chart_visit(request, pk)
    if is_nurse(request.user) and visit.nurse_id != request.user.pk:
        raise PermissionDenied("Only the visit's nurse and coordinators follow this visit.")
    return render(request, "visits/chart/whats_next.html", {"visit": visit, "step": next_step(visit=visit)})


def _saved(request, visit, key, *, message=None):
    """After a save: the section, and what it changed elsewhere, swapped out of band. An infusion change moves the
    vitals due list (not the whole vitals section, so a set being typed is not lost); a set of vitals or an
    assessment may hold or release the rate increases of the infusion section."""
    response = section_answer(request, visit, key, message=message)
    if request.htmx:
        context = {"visit": visit, **section_context(visit=visit, user=request.user, bound={"oob": True})}
        if key == INFUSION:
            response.content += render_to_string("visits/chart/vitals_due.html", context, request=request).encode()
        else:
            response.content += section_html(request, visit, SECTION_KEYS[INFUSION], bound={"oob": True}).encode()
    return response


@require_POST
@role_required(is_nurse)
def infusion_start(request, pk):
    visit = documenting_visit(request, pk)
    form = StartForm(request.POST, visit=visit)

    def write(data):
        services.infusion_start(visit=visit, nurse=request.user, at=data["at"], rate_ml_per_hr=data["rate_ml_per_hr"])

    return section_submit(request, visit, INFUSION, form, write, bound_key="start", saved=_saved)


@require_POST
@role_required(is_nurse)
def infusion_rate(request, pk):
    visit = documenting_visit(request, pk)
    form = RateChangeForm(request.POST, visit=visit)

    def write(data):
        services.infusion_rate_change(
            visit=visit,
            nurse=request.user,
            at=data["at"],
            kind=data["kind"],
            rate_ml_per_hr=data["rate_ml_per_hr"],
            note=data["note"],
            early_reason=data["early_reason"],
            expected_version=data["version"],
        )

    return section_submit(request, visit, INFUSION, form, write, bound_key="change", saved=_saved)


@require_POST
@role_required(is_nurse)
def infusion_end(request, pk):
    visit = documenting_visit(request, pk)
    form = EndForm(request.POST, visit=visit)

    def write(data):
        services.infusion_end(
            visit=visit,
            nurse=request.user,
            at=data["at"],
            volume_infused_ml=data["volume_infused_ml"],
            expected_version=data["version"],
            short_reason=data["short_reason"],
            short_note=data["short_note"],
        )

    return section_submit(request, visit, INFUSION, form, write, bound_key="end", saved=_saved)


@require_POST
@role_required(is_nurse)
def vitals_add(request, pk):
    visit = documenting_visit(request, pk)
    form = VitalsForm(request.POST, visit=visit)

    def write(data):
        services.vitals_record(
            visit=visit, nurse=request.user, taken_at=data["taken_at"], phase=data["phase"], reading=form.reading()
        )

    return section_submit(request, visit, VITALS, form, write, bound_key="vitals", saved=_saved)


@require_POST
@role_required(is_nurse)
def assessment_add(request, pk):
    """After flagged vitals or a reaction: the nurse's assessment, which lets the titration go on."""
    visit = documenting_visit(request, pk)
    form = AssessmentForm(request.POST, visit=visit)

    def write(data):
        services.assessment_record(
            visit=visit, nurse=request.user, finding=data["finding"], note=data["note"], at=data["at"]
        )
        return "Assessment recorded: rate increases may go on as planned."

    return section_submit(request, visit, VITALS, form, write, bound_key="assessment", saved=_saved)
