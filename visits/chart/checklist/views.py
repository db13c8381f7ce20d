"""Chart sections "checklist" and "vials": each form saves on its own and answers with its section.

htmx posts get the section back (200 saved, 400 with the form's errors, 409 locked or saved elsewhere);
plain posts are redirected to the chart after a save, or get the whole chart with the errors.
"""

from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from infusion_site.access import role_required
from infusion_site.roles import is_nurse
from visits.chart.checklist import services
from visits.chart.checklist.forms import (
    ChecklistForm,
    CompleteForm,
    OverrideForm,
    PremedicationForm,
    VialForm,
    VialVoidForm,
)
from visits.chart.views import documenting_visit, section_submit


@require_POST
@role_required(is_nurse)
def checklist_save(request, pk):
    visit = documenting_visit(request, pk)
    form = ChecklistForm(request.POST)

    def save(data):
        services.checklist_save(visit=visit, nurse=request.user, values=form.values(), expected_version=data["version"])
        return "Checklist saved."

    return section_submit(request, visit, "checklist", form, save, bound_key="checklist_form")


@require_POST
@role_required(is_nurse)
def checklist_override(request, pk):
    visit = documenting_visit(request, pk)

    def save(data):
        services.checklist_override(
            visit=visit,
            nurse=request.user,
            code=data["code"],
            reason=data["reason"],
            expected_version=data["version"],
        )
        return "Override recorded; the coordinator is alerted."

    return section_submit(request, visit, "checklist", OverrideForm(request.POST), save, bound_key="override_form")


@require_POST
@role_required(is_nurse)
def checklist_complete(request, pk):
    visit = documenting_visit(request, pk)

    def save(data):
        services.checklist_complete(visit=visit, nurse=request.user, expected_version=data["version"])
        return "Checklist complete: the infusion may start."

    return section_submit(request, visit, "checklist", CompleteForm(request.POST), save, bound_key="complete_form")


@require_POST
@role_required(is_nurse)
def premedication_add(request, pk):
    visit = documenting_visit(request, pk)
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

    return section_submit(request, visit, "checklist", form, save, bound_key="premedication_form")


@require_POST
@role_required(is_nurse)
def vial_add(request, pk):
    visit = documenting_visit(request, pk)

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

    return section_submit(
        request, visit, "vials", VialForm(request.POST, product=visit.order.product), save, bound_key="vial_form"
    )


@require_POST
@role_required(is_nurse)
def vial_remove(request, pk, vial_pk):
    """Take back a vial entered by mistake: voided with the nurse's reason, never deleted."""
    visit = documenting_visit(request, pk)
    vial = get_object_or_404(visit.vials.filter(voided_at=None), pk=vial_pk)

    def save(data):
        services.vial_void(vial=vial, nurse=request.user, reason=data["reason"])
        return f"Vial of lot {vial.lot_number} taken back: {data['reason']}"

    return section_submit(request, visit, "vials", VialVoidForm(request.POST, vial=vial), save, bound_key="void_form")
