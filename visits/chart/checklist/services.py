"""The pre-infusion checklist and the vials used: every hard stop of DESIGN §3 is decided here, on the server.

A hard stop blocks the checklist until it passes or the nurse overrides it with a reason; each override is kept
on the checklist, written to the visit's history and shown on the coordinator's alert queue (visits/alerts/sources.py).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from patients.models import (
    CREATININE_VALID_DAYS,
    WEIGHT_VALID_DAYS,
    LabResult,
    PriorAuthorization,
    WeightMeasurement,
)
from patients.services import ServiceError
from visits.chart.clock import recorded_now
from visits.chart.rules import ensure_editable, ensure_nurse_of, notify_at_once, section_save
from visits.clinical import VialCombination, best_vial_combination
from visits.models import (
    Notification,
    PreInfusionChecklist,
    PremedicationGiven,
    Product,
    Therapy,
    TherapyOrder,
    VialUsed,
    Visit,
    VisitEvent,
)

# DESIGN §3: "a change of 10% or more since the dose was calculated flags the dose for review".
DOSE_REVIEW_WEIGHT_CHANGE_PERCENT = Decimal("10")

# A tablet's clock may run a little ahead of the server's.
PREMEDICATION_CLOCK_SLACK = timedelta(minutes=5)

# The start of every VisitEvent detail written for a hard-stop override; the alert queue finds them by it
# (scheduling conflict overrides share the event kind).
HARD_STOP_OVERRIDE_PREFIX = "Hard stop overridden"

# Fields of the checklist form; a save writes all of them (and compares them when another device saved first).
CHECKLIST_FIELDS = [
    "identifiers_confirmed",
    "weight_today_kg",
    "kit_epinephrine",
    "kit_diphenhydramine",
    "kit_saline",
    "kit_expires_on",
    "no_fever_or_infection",
]


@dataclass(frozen=True)
class HardStop:
    code: str
    message: str  # why it stops, in the nurse's words


@dataclass(frozen=True)
class Check:
    """One line of the checklist as the nurse sees it: passed, or stopped with the reason in words."""

    code: str
    label: str
    passed: bool
    detail: str  # what was found when it passes; why it stops when it does not
    override_reason: str = ""

    @property
    def overridden(self) -> bool:
        return not self.passed and bool(self.override_reason)

    @property
    def state(self) -> str:
        return "passed" if self.passed else "overridden" if self.overridden else "stop"


CHECK_LABELS = {
    "identifiers": "Two patient identifiers confirmed",
    "order_active": "Order active",
    "authorization": "Prior authorization covers this visit",
    "weight_current": "Weight within 6 months",
    "dose_review": "Weight within 10% of the dosing weight",
    "creatinine": "Serum creatinine within 3 months (IVIG)",
    "iga": "No IgA deficiency with anti-IgA antibodies",
    "anaphylaxis_kit": "Anaphylaxis kit present and in date",
    "fever_infection": "No fever or active infection",
    "premedications": "Premedications given as ordered",
}


class HardStopsOpen(ServiceError):
    """The checklist cannot be completed: these stops neither pass nor carry an override reason."""

    def __init__(self, stops: list[HardStop]):
        self.stops = stops
        listed = "; ".join(CHECK_LABELS[stop.code] for stop in stops)
        count = f"{len(stops)} hard stop{'s' if len(stops) != 1 else ''}"
        super().__init__(
            f"Not complete: {count} neither passed nor overridden with a reason — {listed}. "
            "Each is shown below with what to do."
        )


def patient_today(visit: Visit) -> date:
    """The date in the patient's home, where the nurse is."""
    return timezone.localdate(timezone.now(), visit.patient.zone)


def _day(value: date) -> str:
    return f"{value:%a} {value.day} {value:%b %Y}"


def _num(value: Decimal) -> str:
    """12.0 → "12", 10.4 → "10.4"."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


# --- the hard stops (DESIGN §3, "Before an infusion starts") ---------------------------------------------------


def _identifiers(visit, checklist, today):
    if checklist.identifiers_confirmed:
        return True, "Name and date of birth checked against the order."
    return False, "Confirm two identifiers (name and date of birth) with the patient before starting."


def _order_active(visit, checklist, today):
    order = visit.order
    if order.is_active:
        return True, f"{order.product.name} order by {order.prescriber} is active."
    return False, f"The order is {order.get_status_display().lower()}; an infusion needs an active order."


def _authorization(visit, checklist, today):
    """Some authorization of the patient covers the visit's date and still has this visit within its count.

    Dates are the patient's calendar dates; two queries whatever the number of authorizations or visits.
    """
    zone = visit.patient.zone
    visit_day = visit.local_start.date()
    covering = [
        authorization
        for authorization in PriorAuthorization.objects.filter(patient=visit.patient).order_by("valid_to")
        if authorization.valid_from <= visit_day <= authorization.valid_to
    ]
    if not covering:
        return False, f"No prior authorization on file covers {_day(visit_day)}; ask the coordinator."
    earliest = min(authorization.valid_from for authorization in covering)
    # The patient's live visits up to and including this one (in time order), from the earliest window's start.
    so_far = [
        timezone.localtime(planned_start, zone).date()
        for pk, planned_start in Visit.objects.active()
        .filter(
            patient=visit.patient,
            planned_start__gte=timezone.make_aware(datetime.combine(earliest, time.min), zone),
            planned_start__lte=visit.planned_start,
        )
        .values_list("pk", "planned_start")
        if (planned_start, pk) <= (visit.planned_start, visit.pk)
    ]
    over = []
    for authorization in covering:
        place = sum(authorization.valid_from <= day <= authorization.valid_to for day in so_far)
        if place <= authorization.visits_authorized:
            return True, (
                f"{authorization.payer} #{authorization.number}, valid to {_day(authorization.valid_to)}: "
                f"visit {place} of {authorization.visits_authorized} authorized."
            )
        over.append(
            f"{authorization.payer} #{authorization.number} authorizes {authorization.visits_authorized} "
            f"visits and this is visit {place} in its window"
        )
    return False, "All authorized visits are used: " + "; ".join(over) + ". Ask the coordinator for a renewal."


def _latest_weight(visit) -> WeightMeasurement | None:
    return WeightMeasurement.objects.filter(patient=visit.patient).order_by("-measured_on", "-recorded_at").first()


def _weight_current(visit, checklist, today):
    if checklist.weight_today_kg is not None:
        return True, f"Weighed today: {checklist.weight_today_kg} kg."
    latest = _latest_weight(visit)
    if latest is None:
        return False, "No weight on file. Weigh the patient and enter today's weight."
    age = (today - latest.measured_on).days
    if age > WEIGHT_VALID_DAYS:
        return False, (
            f"The latest weight ({latest.weight_kg} kg) is from {_day(latest.measured_on)}, more than 6 months ago. "
            "Weigh the patient and enter today's weight."
        )
    return True, f"{latest.weight_kg} kg on {_day(latest.measured_on)}."


def weight_change_percent(*, weight_kg: Decimal, calculated_from_kg: Decimal) -> Decimal:
    """How far today's weight is from the weight the dose was calculated from, in percent (always ≥ 0)."""
    return abs(Decimal(weight_kg) - Decimal(calculated_from_kg)) * 100 / Decimal(calculated_from_kg)


def _dose_review(visit, checklist, today):
    order = visit.order
    if order.dose_rule == TherapyOrder.DoseRule.FLAT_MG:
        return True, "A flat dose does not depend on weight."
    calculated_from = order.calculated_from_weight_kg
    if not calculated_from:
        return False, "The order has no weight its dose was calculated from; ask the coordinator to recalculate."
    if checklist.weight_today_kg is not None:
        weight, source = checklist.weight_today_kg, "Today's weight"
    else:
        latest = _latest_weight(visit)
        if latest is None:
            return False, "No weight to compare with the dosing weight; enter today's weight."
        weight, source = latest.weight_kg, f"The weight of {_day(latest.measured_on)}"
    change = weight_change_percent(weight_kg=weight, calculated_from_kg=calculated_from)
    shown = _num(change.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    if change >= DOSE_REVIEW_WEIGHT_CHANGE_PERCENT:
        return False, (
            f"Dose review: weight changed {shown}% since the dose was calculated "
            f"({calculated_from} kg → {weight} kg). Ask the prescriber to review the dose before starting."
        )
    return True, f"{source} ({weight} kg) is {shown}% from the dosing weight ({calculated_from} kg)."


def _creatinine(visit, checklist, today):
    product = visit.order.product
    if product.therapy != Therapy.IVIG:
        return True, f"Not required for {product.get_therapy_display()}."
    latest = (
        LabResult.objects.filter(patient=visit.patient, test=LabResult.Test.CREATININE)
        .order_by("-collected_on", "-recorded_at")
        .first()
    )
    if latest is None:
        return False, "No serum creatinine on file; IVIG needs one from the last 3 months."
    if (today - latest.collected_on).days > CREATININE_VALID_DAYS:
        return False, (
            f"The latest serum creatinine ({latest.value} {latest.unit}) is from {_day(latest.collected_on)}, "
            "more than 3 months ago; IVIG needs a recent one."
        )
    return True, f"{latest.value} {latest.unit} on {_day(latest.collected_on)}."


def _iga(visit, checklist, today):
    product = visit.order.product
    if not product.is_immune_globulin:
        return True, f"Not relevant to {product.get_therapy_display()}."
    if visit.patient.iga_contraindicated:
        return False, (
            "The patient is IgA deficient with anti-IgA antibodies: immune globulin is contraindicated. "
            "Do not start; call the prescriber."
        )
    return True, "No IgA deficiency with anti-IgA antibodies on file."


def _anaphylaxis_kit(visit, checklist, today):
    missing = [
        name
        for name, present in (
            ("epinephrine 0.3 mg IM", checklist.kit_epinephrine),
            ("diphenhydramine", checklist.kit_diphenhydramine),
            ("250 mL normal saline", checklist.kit_saline),
        )
        if not present
    ]
    problems = []
    if missing:
        problems.append("missing " + ", ".join(missing))
    if checklist.kit_expires_on is None:
        problems.append("enter the kit's expiry date")
    elif checklist.kit_expires_on < today:
        problems.append(f"the kit expired on {_day(checklist.kit_expires_on)}")
    if problems:
        return False, "Anaphylaxis kit: " + "; ".join(problems) + "."
    return True, f"Complete, in date until {_day(checklist.kit_expires_on)}."


def _fever_infection(visit, checklist, today):
    if checklist.no_fever_or_infection:
        return True, "No fever or active infection."
    return (
        False,
        "Confirm the patient has no fever or active infection; if they do, do not start and call the prescriber.",
    )


def _premedications(visit, checklist, today):
    ordered = visit.order.premedications.strip()
    if not ordered:
        return True, "None ordered."
    given = list(PremedicationGiven.objects.filter(visit=visit))
    if not given:
        return False, f"Ordered: {ordered}. Record each premedication given (drug, dose, time)."
    zone = visit.patient.zone
    return True, "Given: " + "; ".join(
        f"{item.drug} {item.dose} {item.route} at {timezone.localtime(item.given_at, zone):%H:%M}" for item in given
    )


CHECKS = [
    ("identifiers", _identifiers),
    ("order_active", _order_active),
    ("authorization", _authorization),
    ("weight_current", _weight_current),
    ("dose_review", _dose_review),
    ("creatinine", _creatinine),
    ("iga", _iga),
    ("anaphylaxis_kit", _anaphylaxis_kit),
    ("fever_infection", _fever_infection),
    ("premedications", _premedications),
]


def checklist_checks(*, visit: Visit, checklist: PreInfusionChecklist, today: date) -> list[Check]:
    """Every check, passed or not, with the override reason kept for each stop."""
    overrides = checklist.overrides or {}
    results = []
    for code, rule in CHECKS:
        passed, detail = rule(visit, checklist, today)
        results.append(
            Check(
                code=code,
                label=CHECK_LABELS[code],
                passed=passed,
                detail=detail,
                override_reason="" if passed else str(overrides.get(code, "")).strip(),
            )
        )
    return results


def checklist_hard_stops(*, visit: Visit, checklist: PreInfusionChecklist, today: date) -> list[HardStop]:
    """The hard stops that do not pass today, whether overridden or not."""
    return [
        HardStop(code=check.code, message=check.detail)
        for check in checklist_checks(visit=visit, checklist=checklist, today=today)
        if not check.passed
    ]


def unresolved_stops(*, visit: Visit, checklist: PreInfusionChecklist, today: date) -> list[HardStop]:
    """Stops that neither pass nor carry an override reason: these block completion."""
    overrides = checklist.overrides or {}
    return [
        stop
        for stop in checklist_hard_stops(visit=visit, checklist=checklist, today=today)
        if not str(overrides.get(stop.code, "")).strip()
    ]


# --- writing the checklist ------------------------------------------------------------------------------------


def checklist_for(visit: Visit) -> PreInfusionChecklist:
    """The visit's checklist, or a new unsaved one."""
    try:
        return PreInfusionChecklist.objects.get(visit=visit)
    except PreInfusionChecklist.DoesNotExist:
        return PreInfusionChecklist(visit=visit)


def _guard(visit: Visit, nurse) -> None:
    ensure_editable(visit)
    ensure_nurse_of(visit, nurse)


def _record_weight_today(*, visit, nurse, old_kg, new_kg, today) -> None:
    """Today's weight joins the patient's weights (the latest feeds dosing); a corrected entry replaces it."""
    if new_kg is None or new_kg == old_kg:
        return
    measured_on = min(today, timezone.localdate())  # never a future date for the server's calendar
    earlier = None
    if old_kg is not None:
        earlier = WeightMeasurement.objects.filter(
            patient=visit.patient, measured_on=measured_on, weight_kg=old_kg
        ).first()
    weight = earlier or WeightMeasurement(patient=visit.patient, measured_on=measured_on)
    weight.weight_kg = new_kg
    weight.recorded_by = nurse
    weight.full_clean()
    weight.save()


@transaction.atomic
def checklist_save(
    *, visit: Visit, nurse, values: dict, expected_version: int, today: date | None = None
) -> PreInfusionChecklist:
    """Save the checklist's answers. A completed checklist whose answers now raise a stop is reopened."""
    _guard(visit, nurse)
    today = today or patient_today(visit)
    checklist = checklist_for(visit)
    old_weight = checklist.weight_today_kg
    for name in CHECKLIST_FIELDS:
        setattr(checklist, name, values[name])
    changed = list(CHECKLIST_FIELDS)
    if checklist.completed_at and unresolved_stops(visit=visit, checklist=checklist, today=today):
        checklist.completed_at = None
        changed.append("completed_at")
    section_save(instance=checklist, expected_version=expected_version, by=nurse, changed_fields=changed)
    _record_weight_today(visit=visit, nurse=nurse, old_kg=old_weight, new_kg=checklist.weight_today_kg, today=today)
    return checklist


@transaction.atomic
def checklist_override(
    *, visit: Visit, nurse, code: str, reason: str, expected_version: int, today: date | None = None
) -> PreInfusionChecklist:
    """Override one hard stop with the nurse's reason; recorded on the visit and sent to the coordinator."""
    _guard(visit, nurse)
    today = today or patient_today(visit)
    reason = (reason or "").strip()
    if code not in CHECK_LABELS:
        raise ServiceError("There is no such check to override.")
    if not reason:
        raise ServiceError(f"Give a reason to override “{CHECK_LABELS[code]}”.")
    checklist = checklist_for(visit)
    stops = {stop.code: stop for stop in checklist_hard_stops(visit=visit, checklist=checklist, today=today)}
    if code not in stops:
        raise ServiceError(f"“{CHECK_LABELS[code]}” passes; there is nothing to override.")
    checklist.overrides = {**(checklist.overrides or {}), code: reason}
    section_save(instance=checklist, expected_version=expected_version, by=nurse, changed_fields=["overrides"])
    event = VisitEvent(
        visit=visit,
        kind=VisitEvent.Kind.OVERRIDE,
        by=nurse,
        detail=f"{HARD_STOP_OVERRIDE_PREFIX}: {CHECK_LABELS[code]}.\nStop: {stops[code].message}\nReason: {reason}",
    )
    event.full_clean()
    event.save()
    notify_at_once(Notification.Kind.HARD_STOP_OVERRIDE)
    return checklist


@transaction.atomic
def checklist_complete(
    *, visit: Visit, nurse, expected_version: int, today: date | None = None
) -> PreInfusionChecklist:
    """Mark the checklist complete, only when every hard stop passes or is overridden with a reason."""
    _guard(visit, nurse)
    today = today or patient_today(visit)
    checklist = checklist_for(visit)
    open_stops = unresolved_stops(visit=visit, checklist=checklist, today=today)
    if open_stops:
        raise HardStopsOpen(open_stops)
    checklist.completed_at = recorded_now()
    checklist.premedications_given = PremedicationGiven.objects.filter(visit=visit).exists()
    section_save(
        instance=checklist,
        expected_version=expected_version,
        by=nurse,
        changed_fields=["completed_at", "premedications_given"],
    )
    return checklist


@transaction.atomic
def premedication_add(
    *, visit: Visit, nurse, drug: str, dose: str, route: str, given_at: datetime
) -> PremedicationGiven:
    """Record a premedication given before the infusion (drug, dose with its unit, route, time given)."""
    _guard(visit, nurse)
    if given_at > timezone.now() + PREMEDICATION_CLOCK_SLACK:
        raise ValidationError({"given_at": "That time is still to come; record a premedication once it is given."})
    premedication = PremedicationGiven(
        visit=visit, drug=drug.strip(), dose=dose.strip(), route=route, given_at=given_at, recorded_by=nurse
    )
    premedication.full_clean()
    premedication.save()
    return premedication


# --- vials ----------------------------------------------------------------------------------------------------


@transaction.atomic
def vial_add(
    *,
    visit: Visit,
    nurse,
    product: Product,
    lot_number: str,
    expires_on: date,
    size_mg: int,
    today: date | None = None,
) -> VialUsed:
    """Record one vial; an expired vial or another product than the order's is refused (DESIGN §3)."""
    _guard(visit, nurse)
    today = today or patient_today(visit)
    ordered = visit.order.product
    if product.pk != ordered.pk:
        raise ValidationError(
            {"product": f"This visit's order is for {ordered.name}, not {product.name}. Do not use this vial."}
        )
    if expires_on < today:
        raise ValidationError(
            {"expires_on": f"This vial expired on {_day(expires_on)}. Do not use it; take another vial."}
        )
    sizes = [int(size) for size in product.vial_sizes_mg]
    if int(size_mg) not in sizes:
        raise ValidationError(
            {"size_mg": f"{product.name} comes in {', '.join(mass_text(size, sizes) for size in sizes)} vials."}
        )
    vial = VialUsed(
        visit=visit,
        product=product,
        lot_number=lot_number.strip(),
        expires_on=expires_on,
        size_mg=size_mg,
        recorded_by=nurse,
    )
    vial.full_clean()
    vial.save()
    return vial


@transaction.atomic
def vial_void(*, vial: VialUsed, nurse, reason: str) -> VialUsed:
    """Take back a vial entered by mistake; only until the chart is signed.

    The row stays, voided with who, when and why: the chart and print view show it struck through, the tally
    leaves it out, and a lot recall still finds it (it was in the home)."""
    _guard(vial.visit, nurse)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why this vial is taken back (e.g. entered twice, wrong lot)."})
    vial = VialUsed.objects.select_for_update().get(pk=vial.pk)
    if vial.voided_at is not None:
        raise ServiceError(f"The vial of lot {vial.lot_number} was already taken back.")
    vial.voided_at = recorded_now()
    vial.voided_by = nurse
    vial.void_reason = reason
    vial.full_clean()
    vial.save(update_fields=["voided_at", "voided_by", "void_reason"])
    return vial


def vials_match_dose(*, total_mg: Decimal, dose_mg: Decimal, vial_sizes_mg) -> bool:
    """The vials cover the day's dose within the vial rounding: not short, and less than one smallest vial over."""
    smallest = min(Decimal(size) for size in vial_sizes_mg)
    return total_mg >= dose_mg and total_mg - dose_mg < smallest


def mass_text(mg, sizes_mg) -> str:
    """Grams when the product's vials are a gram or more (immune globulin), else milligrams: "2.5 g", "500 mg"."""
    value = Decimal(mg)
    if min(Decimal(size) for size in sizes_mg) >= 1000:
        value, unit = value / 1000, "g"
    else:
        unit = "mg"
    text = f"{value.quantize(Decimal('0.001')):f}".rstrip("0").rstrip(".")
    return f"{text} {unit}"


@dataclass(frozen=True)
class VialTally:
    vials: list
    total_mg: Decimal
    dose_mg: Decimal | None
    matches: bool
    message: str
    expected: VialCombination | None
    expected_text: str


def vial_tally(*, visit: Visit, vials: list[VialUsed] | None = None) -> VialTally:
    """The running total against the day's dose, and the expected vial combination."""
    # A voided vial was entered by mistake: it is shown, struck through, but never counted.
    vials = [vial for vial in (vials if vials is not None else visit.vials.all()) if vial.voided_at is None]
    sizes = [int(size) for size in visit.order.product.vial_sizes_mg]
    total = sum((Decimal(vial.size_mg) for vial in vials), Decimal(0))
    dose = visit.dose_mg
    if not dose or not sizes:
        return VialTally(vials, total, dose, False, "No dose is calculated for this visit.", None, "")
    expected = best_vial_combination(dose_amount=dose, vial_sizes=sizes)

    def combination_text(combo: VialCombination) -> str:
        parts = " + ".join(f"{count} × {mass_text(size, sizes)}" for size, count in combo.counts.items())
        return f"{parts} = {mass_text(combo.total, sizes)}"

    expected_text = combination_text(expected)
    if expected.least_waste is not None:
        least = expected.least_waste
        expected_text += (
            f" ({mass_text(expected.waste, sizes)} over the dose in {expected.vial_count} vials; the least waste, "
            f"{combination_text(least)}, takes {least.vial_count})"
        )
    matches = vials_match_dose(total_mg=total, dose_mg=dose, vial_sizes_mg=sizes)
    shown_total, shown_dose = mass_text(total, sizes), mass_text(dose, sizes)
    if not vials:
        message = f"No vials recorded yet; the day's dose is {shown_dose}."
    elif matches:
        message = f"Total {shown_total} for a dose of {shown_dose}: matches within the vial rounding."
    elif total < dose:
        message = f"Total {shown_total} is {mass_text(dose - total, sizes)} short of the day's dose ({shown_dose})."
    else:
        message = (
            f"Total {shown_total} is {mass_text(total - dose, sizes)} over the day's dose ({shown_dose}): more than "
            f"the vial rounding (smallest vial {mass_text(min(sizes), sizes)}). Check the vials entered."
        )
    return VialTally(vials, total, dose, matches, message, expected, expected_text)
