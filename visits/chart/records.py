"""Records built from charts: the lot recall search and the printable visit record (DESIGN §3 "After signing")."""

from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render

from infusion_site.access import role_required
from infusion_site.audit import record_access, record_patient_accesses
from infusion_site.roles import is_coordinator, is_nurse
from visits.chart.checkin.services import location_not_verified_reason
from visits.chart.checklist.services import CHECK_LABELS
from visits.chart.infusion.services import SHORT_REASONS
from visits.chart.selectors import dose_text
from visits.chart.signoff.services import GRADE_MEANINGS, SYMPTOMS
from visits.models import (
    Addendum,
    Assessment,
    PreInfusionChecklist,
    Reaction,
    SelfInfusion,
    SelfInfusionVial,
    VialUsed,
    Visit,
    VisitVerification,
)

LOT_MAX_LENGTH = VialUsed._meta.get_field("lot_number").max_length


@dataclass
class RecalledVisit:
    visit: Visit
    vials: list[VialUsed] = field(default_factory=list)

    @property
    def reactions(self) -> list[Reaction]:
        return list(self.visit.reactions.all())


def recall_rows(lot: str) -> list[RecalledVisit]:
    """Every visit that used the lot (case-insensitive exact), with its vials of that lot and all its reactions.

    Two queries whatever the number of visits: the vials with their visits, then the visits' reactions.
    """
    vials = (
        VialUsed.objects.filter(lot_number__iexact=lot)
        .select_related("product", "visit__patient", "visit__order__product", "visit__nurse")
        .prefetch_related(Prefetch("visit__reactions", queryset=Reaction.objects.order_by("onset_at", "pk")))
        .order_by("visit__patient__last_name", "visit__patient__first_name", "visit__planned_start", "pk")
    )
    rows: dict[int, RecalledVisit] = {}
    for vial in vials:
        rows.setdefault(vial.visit_id, RecalledVisit(visit=vial.visit)).vials.append(vial)
    for row in rows.values():
        for reaction in row.reactions:
            describe_reaction(reaction)
    return list(rows.values())


@dataclass
class RecalledSelfInfusion:
    self_infusion: SelfInfusion
    vials: list[SelfInfusionVial] = field(default_factory=list)


def recall_self_infusion_rows(lot: str) -> list[RecalledSelfInfusion]:
    """Every self-infusion a patient logged with the lot (case-insensitive exact), in one query."""
    vials = (
        SelfInfusionVial.objects.filter(lot_number__iexact=lot)
        .select_related("product", "self_infusion__patient", "self_infusion__order__product")
        .order_by(
            "self_infusion__patient__last_name", "self_infusion__patient__first_name", "self_infusion__infused_at", "pk"
        )
    )
    rows: dict[int, RecalledSelfInfusion] = {}
    for vial in vials:
        row = rows.setdefault(vial.self_infusion_id, RecalledSelfInfusion(self_infusion=vial.self_infusion))
        row.vials.append(vial)
    return list(rows.values())


@role_required(is_coordinator)
def recall(request):
    lot = request.GET.get("lot", "").strip()
    error = ""
    rows = []
    self_infused = []
    if len(lot) > LOT_MAX_LENGTH:
        error = f"A lot number has at most {LOT_MAX_LENGTH} characters."
    elif lot:
        rows = recall_rows(lot)
        self_infused = recall_self_infusion_rows(lot)
    patients = {row.visit.patient_id for row in rows} | {row.self_infusion.patient_id for row in self_infused}
    record_patient_accesses(sorted(patients))
    reactions = sum(len(row.reactions) for row in rows)
    return render(
        request,
        "visits/recall.html",
        {
            "lot": lot,
            "error": error,
            "rows": rows,
            "self_infused": self_infused,
            "patient_count": len(patients),
            "reaction_count": reactions,
            "max_length": LOT_MAX_LENGTH,
        },
        status=400 if error else 200,
    )


# --- Printable record ----------------------------------------------------------------------------

CHECKLIST_FIELDS = [
    "identifiers_confirmed",
    "weight_today_kg",
    "kit_epinephrine",
    "kit_diphenhydramine",
    "kit_saline",
    "kit_expires_on",
    "no_fever_or_infection",
    "premedications_given",
]


def _answer(value) -> str:
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    return "" if value in (None, "") else str(value)


def checklist_rows(checklist: PreInfusionChecklist | None) -> list[tuple[str, str]]:
    """Each checklist question with its answer ("" when not recorded)."""
    rows = []
    for name in CHECKLIST_FIELDS:
        model_field = PreInfusionChecklist._meta.get_field(name)
        value = getattr(checklist, name) if checklist else None
        if checklist and name == "kit_expires_on" and value:
            value = value.strftime("%Y-%m-%d")
        rows.append((str(model_field.verbose_name), _answer(value)))
    return rows


def override_rows(checklist: PreInfusionChecklist | None) -> list[tuple[str, str]]:
    overrides = checklist.overrides if checklist and isinstance(checklist.overrides, dict) else {}
    return [
        (CHECK_LABELS.get(code, code.replace("_", " ").capitalize()), _answer(reason))
        for code, reason in overrides.items()
    ]


def describe_reaction(reaction: Reaction) -> Reaction:
    """Attach the reaction's symptoms and grade in words for a page."""
    symptoms = [
        (reaction.other_symptom or "other") if code == "other" else SYMPTOMS.get(code, str(code)).lower()
        for code in reaction.symptoms or []
    ]
    if reaction.other_symptom and "other" not in (reaction.symptoms or []):
        symptoms.append(reaction.other_symptom)
    reaction.symptom_text = ", ".join(symptoms)
    reaction.grade_meaning = GRADE_MEANINGS.get(reaction.grade, "")
    return reaction


def record_visit(request, pk) -> Visit:
    """The visit with every part of its record, in a fixed number of queries; 404 if not this user's to see."""
    queryset = (
        Visit.objects.visible_to(request.user)
        .select_related(
            "patient",
            "order__product",
            "nurse",
            "checklist",
            "infusion",
            "signature__signed_by",
        )
        .prefetch_related(
            Prefetch("verifications", queryset=VisitVerification.objects.select_related("nurse", "voided_by")),
            "premedications",
            Prefetch("assessments", queryset=Assessment.objects.select_related("recorded_by")),
            Prefetch("vials", queryset=VialUsed.objects.select_related("product", "voided_by")),
            "rate_changes",
            "vitals",
            "reactions",
            Prefetch("addenda", queryset=Addendum.objects.select_related("author")),
            "outcome_measures",
            "patient__diagnoses",
        )
    )
    return get_object_or_404(queryset, pk=pk)


def _related(visit: Visit, name: str):
    """A reverse one-to-one part of the chart, or None when it was never recorded."""
    return getattr(visit, name, None)


@role_required(is_nurse, is_coordinator)
def print_record(request, pk):
    visit = record_visit(request, pk)
    record_access(visit.patient)
    for reaction in visit.reactions.all():
        describe_reaction(reaction)
    checklist = _related(visit, "checklist")
    infusion = _related(visit, "infusion")
    verification = _related(visit, "verification")
    reasons = {}
    if verification is not None:
        if not verification.check_in_verified:
            reasons["in"] = location_not_verified_reason(verification)
        if verification.checked_out_at and not verification.check_out_verified:
            reasons["out"] = location_not_verified_reason(verification, out=True)
    return render(
        request,
        "visits/print.html",
        {
            "visit": visit,
            "patient": visit.patient,
            "order": visit.order,
            "dose_text": dose_text(visit),
            "product": visit.order.product,
            "verification": verification,
            "voided_checkins": [row for row in visit.verifications.all() if row.voided_at is not None],
            "check_in_reason": reasons.get("in", ""),
            "check_out_reason": reasons.get("out", ""),
            "checklist": checklist,
            "checklist_rows": checklist_rows(checklist),
            "overrides": override_rows(checklist),
            "infusion": infusion,
            "short_reason": SHORT_REASONS.get(infusion.short_reason, "").lower() if infusion else "",
            "signature": _related(visit, "signature"),
        },
    )
