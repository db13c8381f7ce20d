"""Reactions, sign-off, addenda and outcome measures on the visit chart: parse, call a service, answer.

Every endpoint answers an htmx post with its section (200 saved; 400 with field messages; 409 when the chart is
locked), and a plain post with a redirect to the chart after a save or the whole chart page with the messages.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from infusion_site.access import role_required
from infusion_site.roles import is_coordinator, is_nurse
from patients.services import ServiceError
from visits.chart.rules import ChartLocked, ensure_editable
from visits.chart.sections import SECTIONS
from visits.chart.signoff import services
from visits.chart.signoff.forms import AddendumForm, OutcomeForm, ReactionForm, SignForm
from visits.chart.views import can_document, chart_visit, render_section, section_html
from visits.models import Visit


def _saved(request, visit, key, *, notice=None):
    if request.htmx:
        return render_section(request, visit, key, message=notice)
    if notice:
        messages.warning(request, notice)
    return redirect(reverse("visits:chart", args=[visit.pk]) + f"#section-{key}")


def _refused(request, visit, key, *, bound=None, message=None, status=400):
    """The section again with its messages; a plain post gets the whole chart with this section's messages."""
    if request.htmx:
        return render_section(request, visit, key, bound=bound, status=status, message=message)
    sections = [
        section_html(
            request,
            visit,
            section,
            bound=bound if section.key == key else None,
            message=message if section.key == key else None,
        )
        for section in SECTIONS
    ]
    context = {"visit": visit, "patient": visit.patient, "sections": sections}
    return render(request, "visits/chart/chart.html", context, status=status)


def _documenting(request, pk):
    """The visit, if this nurse documents it (404 when not hers to see, 403 when not her visit)."""
    visit = chart_visit(request, pk)
    if not can_document(visit, request.user):
        raise PermissionDenied
    return visit


def _add_errors(form, error: ValidationError) -> None:
    for field, field_messages in error.message_dict.items():
        for message in field_messages:
            form.add_error(field if field in form.fields else None, message)


@require_POST
@role_required(is_nurse)
def reaction_add(request, pk):
    visit = _documenting(request, pk)
    key = "reactions"
    form = ReactionForm(request.POST, zone=visit.patient.zone)
    try:
        ensure_editable(visit)
    except ChartLocked as locked:
        return _refused(request, visit, key, message=str(locked), status=409)
    if not form.is_valid():
        return _refused(request, visit, key, bound={"reaction": form})
    data = form.cleaned_data
    try:
        reaction = services.reaction_record(
            visit=visit,
            nurse=request.user,
            onset_at=data["onset_at"],
            symptoms=data["symptoms"],
            other_symptom=data["other_symptom"],
            grade=data["grade"],
            action=data["action"],
            medications_given=data["medications_given"],
            physician_notified_at=data["physician_notified_at"],
            outcome=data["outcome"],
        )
    except ChartLocked as locked:
        return _refused(request, visit, key, message=str(locked), status=409)
    except ValidationError as error:
        _add_errors(form, error)
        return _refused(request, visit, key, bound={"reaction": form})
    notice = None
    if reaction.grade >= services.SEVERE_GRADE:
        notice = f"Grade {reaction.grade} reaction recorded; the coordinator has been alerted."
    response = _saved(request, visit, key, notice=notice)
    if reaction.action == reaction.Action.PREVIOUS_RATE and request.htmx:
        # The step back changed the rate: reload the whole chart so the infusion section shows the new rate.
        response["HX-Refresh"] = "true"
    return response


@require_POST
@role_required(is_nurse)
def sign(request, pk):
    visit = _documenting(request, pk)
    key = "signoff"
    form = SignForm(request.POST)
    try:
        ensure_editable(visit)
    except ChartLocked as locked:
        return _refused(request, visit, key, message=str(locked), status=409)
    if not form.is_valid():
        return _refused(request, visit, key, bound={"sign": form})
    try:
        services.visit_sign(
            visit=visit, nurse=request.user, note=form.cleaned_data["note"], password=form.cleaned_data["password"]
        )
    except ChartLocked as locked:
        return _refused(request, visit, key, message=str(locked), status=409)
    except ValidationError as error:
        _add_errors(form, error)
        return _refused(request, visit, key, bound={"sign": form})
    except ServiceError as error:
        return _refused(request, visit, key, bound={"sign": form}, message=str(error))
    response = _saved(request, visit, key)
    if request.htmx:
        # Every section is locked now: reload the whole chart so no other form is left open.
        response["HX-Refresh"] = "true"
    return response


@require_POST
@role_required(is_nurse, is_coordinator)
def addendum_add(request, pk):
    visit = chart_visit(request, pk)
    if not services.may_add_addendum(visit, request.user):
        raise PermissionDenied
    key = "signoff"
    if visit.status != Visit.Status.SIGNED:
        # The addendum form is shown only under a signed chart, so the message goes above the note.
        return _refused(request, visit, key, message=services.SIGN_FIRST)
    form = AddendumForm(request.POST)
    if not form.is_valid():
        return _refused(request, visit, key, bound={"addendum": form})
    try:
        services.addendum_add(visit=visit, author=request.user, text=form.cleaned_data["text"])
    except ValidationError as error:
        _add_errors(form, error)
        return _refused(request, visit, key, bound={"addendum": form})
    return _saved(request, visit, key)


@require_POST
@role_required(is_nurse)
def outcome_add(request, pk):
    visit = _documenting(request, pk)
    key = "outcomes"
    form = OutcomeForm(request.POST)
    try:
        ensure_editable(visit)
    except ChartLocked as locked:
        return _refused(request, visit, key, message=str(locked), status=409)
    if not form.is_valid():
        return _refused(request, visit, key, bound={"outcome": form})
    try:
        services.outcome_record(visit=visit, nurse=request.user, **form.cleaned_data)
    except ChartLocked as locked:
        return _refused(request, visit, key, message=str(locked), status=409)
    except ValidationError as error:
        _add_errors(form, error)
        return _refused(request, visit, key, bound={"outcome": form})
    except ServiceError as error:
        return _refused(request, visit, key, bound={"outcome": form}, message=str(error))
    return _saved(request, visit, key)
