"""Chart sections "checklist" and "vials": each form saves on its own and answers with its section.

htmx posts get the section back (200 saved, 400 with the form's errors, 409 locked or saved elsewhere);
plain posts are redirected to the chart after a save, or get the whole chart with the errors.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from infusion_site.access import role_required
from infusion_site.roles import is_nurse
from patients.services import ServiceError
from visits.chart.checklist import services
from visits.chart.checklist.forms import ChecklistForm, CompleteForm, OverrideForm, PremedicationForm, VialForm
from visits.chart.rules import ChartLocked, StaleSection, ensure_editable, ensure_nurse_of
from visits.chart.sections import SECTIONS
from visits.chart.views import chart_visit, render_section, section_html


def _documenting(request, pk):
    """The visit, if this nurse documents it (else 404/403) and its chart is still open (else ChartLocked)."""
    visit = chart_visit(request, pk)
    try:
        ensure_nurse_of(visit, request.user)
    except ServiceError as error:
        raise PermissionDenied(str(error)) from error
    return visit


@dataclass(frozen=True)
class Notice:
    """A message with how it should look: green after a save, red when refused, amber when locked or stale."""

    text: str
    level: str

    def __str__(self) -> str:
        return self.text


def _answer(request, visit, key, *, bound=None, status=200, message=None):
    if message is not None:
        message = Notice(message, {200: "success", 409: "warning"}.get(status, "danger"))
    if request.htmx:
        return render_section(request, visit, key, bound=bound, status=status, message=message)
    if status == 200:
        return redirect(reverse("visits:chart", args=[visit.pk]) + f"#section-{key}")
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


def _hidden_field_errors(form) -> str | None:
    """Errors of hidden fields (version, which stop) have no place next to a field: say them above the section."""
    errors = [error for field in form.hidden_fields() for error in field.errors]
    return " ".join(errors) or None


def _add_errors(form, error: ValidationError) -> None:
    """A service's refusal at the form's field when it names one, else above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _refused(request, visit, key, error: Exception, *, bound=None):
    """A service said no: locked or saved elsewhere → 409 with fresh data, anything else → 400 with the form."""
    if isinstance(error, ChartLocked | StaleSection):
        return _answer(request, visit, key, status=409, message=str(error))
    return _answer(request, visit, key, bound=bound, status=400, message=str(error))


def _submit(request, visit, key, form, form_name, save):
    """Validate ``form``, let ``save(data)`` call the service and return the success message, answer the section.

    Every form of these sections goes the same way: locked chart → 409; invalid → 400 with the form (hidden
    fields' errors said above it); the service refuses → 409 or 400 with its message at the field it names.
    """
    bound = {form_name: form}
    try:
        ensure_editable(visit)
        if not form.is_valid():
            return _answer(request, visit, key, bound=bound, status=400, message=_hidden_field_errors(form))
        message = save(form.cleaned_data)
    except ServiceError as error:
        return _refused(request, visit, key, error, bound=bound)
    except ValidationError as error:  # e.g. another tablet created the checklist a moment before
        _add_errors(form, error)
        return _answer(request, visit, key, bound=bound, status=400)
    return _answer(request, visit, key, message=message)


@require_POST
@role_required(is_nurse)
def checklist_save(request, pk):
    visit = _documenting(request, pk)
    form = ChecklistForm(request.POST)

    def save(data):
        services.checklist_save(visit=visit, nurse=request.user, values=form.values(), expected_version=data["version"])
        return "Checklist saved."

    return _submit(request, visit, "checklist", form, "checklist_form", save)


@require_POST
@role_required(is_nurse)
def checklist_override(request, pk):
    visit = _documenting(request, pk)

    def save(data):
        services.checklist_override(
            visit=visit,
            nurse=request.user,
            code=data["code"],
            reason=data["reason"],
            expected_version=data["version"],
        )
        return "Override recorded; the coordinator is alerted."

    return _submit(request, visit, "checklist", OverrideForm(request.POST), "override_form", save)


@require_POST
@role_required(is_nurse)
def checklist_complete(request, pk):
    visit = _documenting(request, pk)

    def save(data):
        services.checklist_complete(visit=visit, nurse=request.user, expected_version=data["version"])
        return "Checklist complete: the infusion may start."

    return _submit(request, visit, "checklist", CompleteForm(request.POST), "complete_form", save)


@require_POST
@role_required(is_nurse)
def premedication_add(request, pk):
    visit = _documenting(request, pk)
    form = PremedicationForm(request.POST, zone=visit.patient.zone, today=services.patient_today(visit))

    def save(data):
        services.premedication_add(
            visit=visit,
            nurse=request.user,
            drug=data["drug"],
            dose=form.dose_text(),
            route=data["route"],
            given_at=data["given_at"],
        )
        return f"{data['drug']} recorded."

    return _submit(request, visit, "checklist", form, "premedication_form", save)


@require_POST
@role_required(is_nurse)
def vial_add(request, pk):
    visit = _documenting(request, pk)

    def save(data):
        vial = services.vial_add(
            visit=visit,
            nurse=request.user,
            product=data["product"],
            lot_number=data["lot_number"],
            expires_on=data["expires_on"],
            size_mg=data["size_mg"],
        )
        return f"Vial of lot {vial.lot_number} recorded."

    return _submit(request, visit, "vials", VialForm(request.POST, product=visit.order.product), "vial_form", save)


@require_POST
@role_required(is_nurse)
def vial_remove(request, pk, vial_pk):
    visit = _documenting(request, pk)
    vial = get_object_or_404(visit.vials.all(), pk=vial_pk)
    try:
        services.vial_remove(vial=vial, nurse=request.user)
    except ServiceError as error:
        return _refused(request, visit, "vials", error)
    return _answer(request, visit, "vials", message=f"Vial of lot {vial.lot_number} removed.")
