"""The visit chart: one page whose sections follow the visit, each saving on its own."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string

from infusion_site.access import role_required
from infusion_site.audit import record_access
from infusion_site.roles import is_coordinator, is_nurse
from visits.chart.sections import SECTION_KEYS, SECTIONS
from visits.models import Visit


def chart_visit(request, pk):
    """The visit with what every section reads, or 404 when it is not this user's to see."""
    queryset = Visit.objects.visible_to(request.user).select_related("patient", "order__product", "nurse")
    return get_object_or_404(queryset, pk=pk)


def can_document(visit, user) -> bool:
    return visit.nurse_id == user.pk


def section_html(request, visit, section, *, bound=None, message=None) -> str:
    context = {
        "visit": visit,
        "section": section,
        "can_document": can_document(visit, request.user),
        "message": message,
        **section.context(visit=visit, user=request.user, bound=bound),
    }
    return render_to_string(section.template, context, request=request)


def render_section(request, visit, key, *, bound=None, status=200, message=None):
    """One section's partial (htmx swaps it in place), with a form's errors when ``bound``.

    Sections answer 200 after a save and 400 or 409 with the form and its message otherwise.
    """
    html = section_html(request, visit, SECTION_KEYS[key], bound=bound, message=message)
    response = HttpResponse(html, status=status)
    if status == 200:
        response["HX-Trigger"] = "chart-saved"
    return response


@role_required(is_nurse, is_coordinator)
def chart(request, pk):
    visit = chart_visit(request, pk)
    record_access(visit.patient)
    sections = [section_html(request, visit, section) for section in SECTIONS]
    return render(request, "visits/chart/chart.html", {"visit": visit, "patient": visit.patient, "sections": sections})
