"""Context for the chart's "checklist" (pre-infusion safety checks, premedications) and "vials" sections.

Both sections call ``context()``; each value that costs a query is computed only when its template reads it
(templates call callables), so the chart page does not run the checks for the vials or count vials for the checks.

``bound`` maps a form's name in this context ("checklist_form", "override_form", "complete_form",
"premedication_form", "vial_form") to the posted form, re-shown with its errors.
"""

from functools import cached_property

from django.utils import timezone

from visits.chart.checklist.forms import (
    COMMON_PREMEDICATIONS,
    ChecklistForm,
    CompleteForm,
    PremedicationForm,
    VialForm,
    VialVoidForm,
)
from visits.chart.checklist.services import checklist_checks, checklist_for, mass_text, patient_today, vial_tally
from visits.chart.rules import OPEN_STATUSES


class _Sections:
    def __init__(self, visit, bound):
        self.visit, self.bound = visit, bound
        self.zone = visit.patient.zone
        self.today = patient_today(visit)
        self.sizes = visit.order.product.vial_sizes_mg

    @cached_property
    def checklist(self):
        return checklist_for(self.visit)

    @cached_property
    def checks(self):
        return checklist_checks(visit=self.visit, checklist=self.checklist, today=self.today)

    def completed_local(self):
        completed_at = self.checklist.completed_at
        return timezone.localtime(completed_at, self.zone) if completed_at else None

    def open_stops(self):
        return [check for check in self.checks if check.state == "stop"]

    def checklist_form(self):
        return self.bound.get("checklist_form") or ChecklistForm(initial=ChecklistForm.initial_for(self.checklist))

    def complete_form(self):
        return self.bound.get("complete_form") or CompleteForm(initial={"version": self.checklist.version})

    @cached_property
    def premedications(self):
        return [(item, timezone.localtime(item.given_at, self.zone)) for item in self.visit.premedications.all()]

    def premedication_form(self):
        now_local = timezone.localtime(timezone.now(), self.zone)
        return self.bound.get("premedication_form") or PremedicationForm(
            zone=self.zone, today=self.today, initial={"given_at": now_local.strftime("%H:%M")}
        )

    @cached_property
    def vials(self):
        return list(self.visit.vials.select_related("product", "voided_by"))

    @cached_property
    def tally(self):
        return vial_tally(visit=self.visit, vials=self.vials)

    def vial_rows(self):
        """(vial, its size in words, its take-back form): a voided vial stays on the list, struck through."""
        bound = self.bound.get("void_form")
        return [
            (
                vial,
                mass_text(vial.size_mg, self.sizes),
                bound if bound is not None and bound.vial.pk == vial.pk else VialVoidForm(vial=vial),
            )
            for vial in self.vials
        ]

    def vials_total_text(self):
        return mass_text(self.tally.total_mg, self.sizes)

    def vial_form(self):
        return self.bound.get("vial_form") or VialForm(product=self.visit.order.product)


def context(*, visit, user, bound=None) -> dict:
    bound = bound or {}
    state = _Sections(visit, bound)
    override_form = bound.get("override_form")
    product = visit.order.product
    return {
        "editable": visit.status in OPEN_STATUSES,
        "today": state.today,
        "zone_name": timezone.localtime(timezone.now(), state.zone).tzname(),
        # checklist
        "checklist": lambda: state.checklist,
        "checks": lambda: state.checks,
        "open_stops": state.open_stops,
        "completed_local": state.completed_local,
        "checklist_form": state.checklist_form,
        "override_form": override_form,
        "override_code": override_form.data.get("code") if override_form is not None else None,
        "complete_form": state.complete_form,
        # premedications
        "ordered_premedications": visit.order.premedications.strip(),
        "premedications": lambda: state.premedications,
        "premedication_form": state.premedication_form,
        "common_premedications": COMMON_PREMEDICATIONS,
        # vials
        "ordered_product": product,
        "vial_sizes_text": ", ".join(mass_text(size, state.sizes) for size in state.sizes),
        "tally": lambda: state.tally,
        "vial_rows": state.vial_rows,
        "vials_total_text": state.vials_total_text,
        "vial_form": state.vial_form,
    }
