"""Therapy orders: the dose with its arithmetic, the warnings and blocks, and the visits they become."""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from patients.models import Patient, PriorAuthorization, WeightMeasurement
from visits import clinical
from visits.models import AppliedLimits, TherapyOrder, Visit, VisitEvent
from visits.orders import regimens
from visits.scig import plan as scig

# Abatacept IV label tiers: < 60 kg 500 mg; 60-100 kg 750 mg; > 100 kg 1,000 mg.
ABATACEPT_TIERS = [(60, 500), (100, 750, True), (None, 1000)]
OBESE_BMI = Decimal("30")  # WHO obesity threshold; above it consider the adjusted body weight


class OrderBlocked(Exception):
    def __init__(self, blocks):
        super().__init__("; ".join(blocks))
        self.blocks = blocks


@dataclass
class PlannedVisit:
    cycle_number: int
    day_number: int
    start: datetime
    planned_minutes: int
    infusion_minutes: int
    dose_mg: Decimal
    volume_ml: Decimal
    is_first_infusion: bool
    authorization_warning: str = ""
    existing: Visit | None = None


@dataclass
class OrderCalculation:
    """Everything a coordinator and a nurse need to see about an order, with how each number was reached."""

    weight: WeightMeasurement | None
    dosing_weight: clinical.DosingWeight | None = None
    bsa_m2: Decimal | None = None
    dose_per_cycle: clinical.Dose | None = None
    dose_per_infusion: clinical.Dose | None = None
    infusions_per_cycle: int = 1
    volume_ml: Decimal | None = None
    volume_line: str = ""
    vials: clinical.VialCombination | None = None
    first_plan: clinical.TitrationPlan | None = None
    later_plan: clinical.TitrationPlan | None = None
    first_visit_minutes: int | None = None
    later_visit_minutes: int | None = None
    rate_label_unit: str = ""
    limits: AppliedLimits | None = None  # the label limits of the order's indication, or the product's own
    final_concentration_mg_per_ml: Decimal | None = None
    # A field of the order that must be filled before it can be saved, with the reason (dose outside the label's
    # range for the indication; a dose above the product's single-dose ceiling).
    confirmations_needed: dict[str, str] = field(default_factory=dict)
    first_infusion_reason: str = ""  # why the order's first visit is a first infusion, or ""
    scig_plan: scig.ScigPlan | None = None  # SCIG: the weekly dose divided over infusion sites
    warnings: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)

    @property
    def dose_per_infusion_mg(self) -> Decimal | None:
        return None if self.dose_per_infusion is None else to_mg(self.dose_per_infusion).quantize(Decimal("0.1"))

    @property
    def setup_minutes(self) -> int:
        return clinical.DEFAULT_SETUP_MIN

    @property
    def first_observation_minutes(self) -> int:
        """The observation after the order's first visit: 60 min when it is a first infusion (for whatever reason,
        not only the order's tick box), else 30; the same figure its planned length was computed with."""
        return observation_minutes(first_infusion=bool(self.first_infusion_reason))

    @property
    def later_observation_minutes(self) -> int:
        return observation_minutes(first_infusion=False)

    @property
    def vial_unit(self) -> str:
        return self.dose_per_infusion.unit if self.dose_per_infusion else "mg"


def observation_minutes(*, first_infusion: bool) -> int:
    """DESIGN §3: 60 minutes of observation after a first infusion, 30 after later ones."""
    return clinical.FIRST_INFUSION_OBSERVATION_MIN if first_infusion else clinical.LATER_INFUSION_OBSERVATION_MIN


def to_mg(dose: clinical.Dose) -> Decimal:
    return dose.amount * (1000 if dose.unit == "g" else 1)


def latest_weight(patient: Patient) -> WeightMeasurement | None:
    return patient.weights.order_by("-measured_on", "-recorded_at").first()


# Statuses of a visit whose infusion was given (or is being given): the patient has had this drug.
INFUSION_GIVEN = (Visit.Status.INFUSING, Visit.Status.OBSERVING, Visit.Status.COMPLETED, Visit.Status.SIGNED)


def first_infusion_reason(order: TherapyOrder) -> str:
    """Why the order's first visit gets the first-infusion rates and the 60-minute observation (DESIGN §3), or "".

    Derived, not only flagged: the order says so; or it switches product (the IVIG labels restart at the minimum
    rate, and rituximab after a switch starts at 50 mg/hr); or the patient has no documented infusion of this drug.
    """
    if order.first_infusion:
        return "the order says this is the first infusion of this therapy"
    if order.product_switch:
        return "a product switch: the titration restarts at the first-infusion rates"
    given = Visit.objects.filter(
        patient_id=order.patient_id, order__product__therapy=order.product.therapy, status__in=INFUSION_GIVEN
    )
    if not given.exists():
        return f"no documented {order.product.get_therapy_display()} infusion for this patient"
    return ""


def splits_dose_over_days(order: TherapyOrder) -> bool:
    """A consecutive-day cycle splits one cycle's dose over its days (IVIG 2 g/kg over 2-5 days); pulses and
    paired doses give the full ordered dose at every infusion (methylprednisolone 1 g daily; rituximab 1 g twice)."""
    return order.regimen == TherapyOrder.Regimen.CYCLE


def order_calculate(
    *, order: TherapyOrder, on: date | None = None, weight: WeightMeasurement | None = None
) -> OrderCalculation:
    """Dose, volume, vials and titration for an order on its patient's latest weight (or on ``weight``, e.g. the
    weight its dose was calculated from), with warnings and blocks."""
    patient, product = order.patient, order.product
    on = on or timezone.localdate()
    calc = OrderCalculation(weight=weight or latest_weight(patient), rate_label_unit=product.label_rate_unit)
    calc.blocks.extend(order_span_problems(order=order))
    if product.is_immune_globulin and patient.iga_contraindicated:
        calc.blocks.append(
            "Blocked: IgA deficiency with anti-IgA antibodies is a contraindication to immune globulin "
            f"({product.name}). Choose another therapy with the prescriber."
        )
    if calc.weight is None:
        calc.blocks.append("No weight is recorded for this patient: add a weight before ordering.")
        return calc
    actual = calc.weight.weight_kg
    if calc.weight.is_stale(on):
        calc.warnings.append(
            f"The latest weight ({actual} kg) is from {calc.weight.measured_on:%Y-%m-%d}, more than 6 months ago: "
            "weigh the patient and update the dose before the first infusion."
        )
    body_mass_index = clinical.bmi(weight_kg=actual, height_cm=patient.height_cm)
    if body_mass_index >= OBESE_BMI and order.weight_method == TherapyOrder.WeightMethod.ACTUAL:
        suggestion = clinical.dosing_weight(
            method="adjusted", actual_kg=actual, height_cm=patient.height_cm, sex=patient.sex
        )
        calc.warnings.append(
            f"BMI {body_mass_index} (30 or more): consider dosing on the adjusted body weight, "
            f"{clinical.fmt(suggestion.kg)} kg ({'; '.join(suggestion.lines)})."
        )
    calc.dosing_weight = clinical.dosing_weight(
        method=order.weight_method, actual_kg=actual, height_cm=patient.height_cm, sex=patient.sex
    )
    weight = calc.dosing_weight.kg
    if order.dose_rule == TherapyOrder.DoseRule.MG_PER_M2:
        calc.bsa_m2 = clinical.body_surface_area_m2(height_cm=patient.height_cm, weight_kg=weight)
    try:
        calc.dose_per_cycle = clinical.dose_per_cycle(
            rule=order.dose_rule,
            amount=order.dose_amount,
            weight_kg=weight,
            bsa_m2=calc.bsa_m2,
            tiers=ABATACEPT_TIERS if order.dose_rule == TherapyOrder.DoseRule.WEIGHT_TIERED else None,
        )
    except ValueError as error:
        calc.blocks.append(f"The dose cannot be calculated: {error}.")
        return calc
    if splits_dose_over_days(order) and order.days_per_cycle > 1:
        calc.infusions_per_cycle = order.days_per_cycle
        calc.dose_per_infusion = clinical.dose_per_day(dose=calc.dose_per_cycle, days=order.days_per_cycle)
    else:
        calc.dose_per_infusion = calc.dose_per_cycle
    dose = calc.dose_per_infusion
    if product.diluted_volume_ml:
        calc.volume_ml = Decimal(product.diluted_volume_ml)
        calc.volume_line = f"diluted to {product.diluted_volume_ml} mL"
    else:
        calc.volume_ml = clinical.volume_ml(
            dose_amount=dose.amount, dose_unit=dose.unit, concentration_mg_per_ml=product.concentration_mg_per_ml
        )
        calc.volume_line = clinical.volume_line(
            dose_amount=dose.amount, dose_unit=dose.unit, concentration_mg_per_ml=product.concentration_mg_per_ml
        )
    per_unit = Decimal(1000) if dose.unit == "g" else Decimal(1)
    calc.vials = clinical.best_vial_combination(
        dose_amount=dose.amount, vial_sizes=[Decimal(size) / per_unit for size in product.vial_sizes_mg]
    )
    calc.limits = limits = product.limits_for(order.indication)
    if limits.off_label:
        calc.warnings.append(
            f"Off-label for {limits.indication_label}: the most conservative limits of {product.name} are used."
        )
    _check_label_dose(order=order, calc=calc)
    blocks_before = len(calc.blocks)
    _check_concentration_and_ceiling(order=order, calc=calc)
    if len(calc.blocks) > blocks_before:
        return calc  # no plan at a concentration outside the label's range
    at_risk = patient.at_renal_or_thrombosis_risk
    if at_risk and product.rate_basis == product.RateBasis.WEIGHT:
        risks = " and ".join(
            name for name, flag in (("renal", patient.renal_risk), ("thrombosis", patient.thrombosis_risk)) if flag
        )
        if limits.protocol.at_risk_max_ml_per_kg_hr is not None:
            policy = " (agency policy: the label asks for the minimum rate practicable)"
            calc.warnings.append(
                f"{risks.capitalize()} risk: the reduced maximum rate of {product.name} applies"
                f"{policy if limits.at_risk_is_agency_policy else ''}."
            )
        else:
            calc.warnings.append(
                f"{risks.capitalize()} risk: {product.name}'s label gives no reduced maximum; infuse at the minimum "
                "practicable rate."
            )
    # Times on the plan assume the infusion starts after the set-up, on the first day at the preferred time.
    infusion_start = None
    if order.start_date and order.preferred_start_time:
        infusion_start = datetime.combine(order.start_date, order.preferred_start_time) + timedelta(
            minutes=clinical.DEFAULT_SETUP_MIN
        )
    plan_args = {
        "start": infusion_start,
        "protocol": limits.protocol,
        "weight_kg": weight,
        "volume_ml": calc.volume_ml,
        "at_risk": at_risk,
        "product_switch": order.product_switch,
        "concentration_mg_per_ml": product.concentration_mg_per_ml,
    }
    calc.first_infusion_reason = first_infusion_reason(order)
    calc.first_plan = clinical.titration_plan(first_infusion=bool(calc.first_infusion_reason), **plan_args)
    calc.later_plan = clinical.titration_plan(first_infusion=False, **{**plan_args, "product_switch": False})
    if product.rate_basis != product.RateBasis.FIXED_DURATION and limits.indication:
        basis = limits.basis(at_risk=at_risk and product.rate_basis == product.RateBasis.WEIGHT)
        calc.first_plan, calc.later_plan = (
            replace(plan, max_reason=f"{plan.max_reason} ({basis})") for plan in (calc.first_plan, calc.later_plan)
        )
    calc.first_visit_minutes = clinical.planned_visit_minutes(
        infusion_minutes=calc.first_plan.total_infusion_minutes, first_infusion=bool(calc.first_infusion_reason)
    )
    calc.later_visit_minutes = clinical.planned_visit_minutes(
        infusion_minutes=calc.later_plan.total_infusion_minutes, first_infusion=False
    )
    # SCIG (Hizentra): the weekly volume is divided over infusion sites within the label's per-site volume and rate
    # (visits/scig/plan.py); its infusion time replaces the catalog's fixed minutes. PI switching from IVIG takes
    # the label's conversion of the previous IV dose instead of the ordered g/kg.
    if product.therapy == "scig":
        try:
            calc.scig_plan = scig.scig_plan(
                indication=order.indication or None,
                weight_kg=weight,
                g_per_kg=order.dose_amount,
                previous_iv_dose_g=order.previous_iv_dose_g,
                previous_iv_interval_weeks=order.previous_iv_interval_weeks,
                sites_ordered=order.sites_per_infusion,
            )
        except ValueError as error:  # scig.PlanRefused included: a site would be overfilled as ordered
            calc.blocks.append(f"The infusion sites cannot be planned: {error}")
            return calc
        calc.warnings.extend(calc.scig_plan.warnings)
        calc.dose_per_cycle = calc.dose_per_infusion = clinical.Dose(
            amount=calc.scig_plan.dose.grams, unit="g", lines=calc.scig_plan.dose.lines
        )
        calc.volume_ml, calc.volume_line = calc.scig_plan.volume_ml, calc.scig_plan.volume_line
        calc.vials = clinical.best_vial_combination(
            dose_amount=calc.scig_plan.dose.grams, vial_sizes=[Decimal(size) / 1000 for size in product.vial_sizes_mg]
        )
        is_first = bool(calc.first_infusion_reason)
        for name, sites, first in (
            ("first_plan", calc.scig_plan.first if is_first else calc.scig_plan.later, is_first),
            ("later_plan", calc.scig_plan.later, False),
        ):
            protocol = clinical.TitrationProtocol.fixed_duration(
                product_name=product.name, infusion_duration_min=sites.infusion_minutes
            )
            plan = clinical.titration_plan(
                protocol=protocol, weight_kg=weight, volume_ml=calc.volume_ml, start=infusion_start
            )
            setattr(calc, name, plan)
            minutes = clinical.planned_visit_minutes(infusion_minutes=plan.total_infusion_minutes, first_infusion=first)
            setattr(calc, name.replace("plan", "visit_minutes"), minutes)
    return calc


def _dose_in_rule(amount: Decimal, *, rule: str, to_rule: str) -> Decimal | None:
    """The ordered amount in the unit of the label's dose rule (g/kg and mg/kg convert), or None."""
    if rule == to_rule:
        return amount
    if (rule, to_rule) == (TherapyOrder.DoseRule.MG_PER_KG, TherapyOrder.DoseRule.G_PER_KG):
        return amount / 1000
    if (rule, to_rule) == (TherapyOrder.DoseRule.G_PER_KG, TherapyOrder.DoseRule.MG_PER_KG):
        return amount * 1000
    return None


def _check_label_dose(*, order: TherapyOrder, calc: OrderCalculation) -> None:
    """A dose outside the label's range for the order's indication needs the prescriber's reason."""
    limit = calc.limits.limit if calc.limits else None
    if limit is None or not limit.dose_rule or order.dose_amount is None or order.dose_outside_label_reason.strip():
        return
    amount = _dose_in_rule(Decimal(order.dose_amount), rule=order.dose_rule, to_rule=limit.dose_rule)
    if amount is None:
        return
    low, high = limit.dose_min, limit.dose_max
    if (low is not None and amount < low) or (high is not None and amount > high):
        unit = TherapyOrder.DoseRule(limit.dose_rule).label
        if unit == TherapyOrder.DoseRule.FLAT_MG.label:
            unit = "mg"
        span = f"{clinical.fmt(low)} {unit}" if low == high else f"{clinical.fmt(low)}–{clinical.fmt(high)} {unit}"
        calc.confirmations_needed["dose_amount"] = (
            f"{order.product.name}'s label for {calc.limits.indication_label} gives {span} "
            f"({limit.source}); for {clinical.fmt(amount)} {unit} give the prescriber's reason below."
        )


def _check_concentration_and_ceiling(*, order: TherapyOrder, calc: OrderCalculation) -> None:
    """The final concentration within the label's range (a block); a dose above the single-dose ceiling needs a
    second person's confirmation."""
    product = order.product
    dose_mg = to_mg(calc.dose_per_infusion)
    dose_text = f"{dose_mg.quantize(Decimal('0.1')).normalize():,f}"
    if product.diluted_volume_ml:
        concentration = dose_mg / Decimal(product.diluted_volume_ml)
        how = f"{dose_text} mg in {product.diluted_volume_ml} mL is {concentration:.1f} mg/mL"
    else:
        concentration = Decimal(product.concentration_mg_per_ml)
        how = f"{dose_text} mg at {clinical.fmt(concentration)} mg/mL"
    calc.final_concentration_mg_per_ml = concentration
    low, high = product.min_concentration_mg_per_ml, product.max_concentration_mg_per_ml
    if (low is not None and concentration < low) or (high is not None and concentration > high):
        span = f"{clinical.fmt(low or Decimal(0))}–{clinical.fmt(high)}" if high is not None else f"≥ {low}"
        calc.blocks.append(
            f"Blocked: {product.name} {how}, outside its safe final concentration of {span} mg/mL. "
            "Check the dose or the dilution with the pharmacy."
        )
    ceiling = product.max_single_dose_mg
    if ceiling and dose_mg > ceiling and not order.high_dose_confirmation.strip():
        calc.confirmations_needed["high_dose_confirmation"] = (
            f"{product.name} {dose_text} mg is above its single-dose ceiling of {ceiling:,} mg: a second "
            "person confirms it here with their name and the reason."
        )


def order_regimen(order: TherapyOrder) -> regimens.Regimen:
    return regimens.Regimen(
        kind=order.regimen,
        days_per_cycle=order.days_per_cycle or 1,
        interval_weeks=order.interval_weeks,
        induction_weeks=tuple(order.induction_weeks or ()),
        second_dose_day=order.second_dose_day,
        interval_months=order.interval_months,
        number_of_cycles=order.number_of_cycles,
        end_date=order.end_date,
    )


def order_horizon(order: TherapyOrder) -> date:
    """The last day an order may plan a visit on: ``ORDER_MAX_YEARS`` after its start."""
    return regimens.add_months(order.start_date, 12 * settings.ORDER_MAX_YEARS)


def order_span_problems(*, order: TherapyOrder) -> list[str]:
    """Why the order runs too long or plans too many visits (empty when it does neither)."""
    if order.start_date is None or not order.regimen:
        return []
    years, most = settings.ORDER_MAX_YEARS, settings.ORDER_MAX_VISITS
    try:
        regimen = order_regimen(order)
        too_long = regimens.runs_past(regimen, order.start_date, order_horizon(order))
        count = len(regimens.infusion_days(regimen, order.start_date, horizon=order_horizon(order)))
    except (OverflowError, ValueError, TypeError):  # a regimen field missing or absurd: its own message says so
        return []
    problems = []
    if too_long:
        problems.append(
            f"An order runs at most {years} year{'s' if years != 1 else ''} from its start: lower the number of "
            "cycles, the interval or the end date, and renew the order for longer."
        )
    if count > most:
        problems.append(
            f"This order would plan {count} visits; an order plans at most {most}. Lower the number of cycles or "
            "the days per cycle."
        )
    return problems


def _authorization_warnings(patient: Patient, planned: list[PlannedVisit], replaced_ids: set[int]) -> None:
    """Flag visits outside every prior authorization's dates or beyond its count (counting visits already booked)."""
    authorizations = list(PriorAuthorization.objects.filter(patient=patient))
    booked = list(
        Visit.objects.filter(patient=patient)
        .active()
        .exclude(pk__in=replaced_ids)
        .values_list("planned_start", flat=True)
    )
    zone = patient.zone
    used = {
        auth.pk: sum(1 for start in booked if auth.valid_from <= start.astimezone(zone).date() <= auth.valid_to)
        for auth in authorizations
    }
    for visit in planned:
        on = visit.start.astimezone(zone).date()
        covering = [auth for auth in authorizations if auth.valid_from <= on <= auth.valid_to]
        if not covering:
            visit.authorization_warning = "Outside every prior authorization's dates."
            continue
        auth = max(covering, key=lambda a: a.visits_authorized - used[a.pk])
        used[auth.pk] += 1
        if used[auth.pk] > auth.visits_authorized:
            visit.authorization_warning = (
                f"Beyond the {auth.visits_authorized} visits authorized by {auth.payer} #{auth.number}."
            )


def order_plan_visits(
    *, order: TherapyOrder, calc: OrderCalculation, now: datetime | None = None
) -> list[PlannedVisit]:
    """The visits the order calls for from now on, each at the preferred local time in the patient's zone."""
    now = now or timezone.now()
    zone = order.patient.zone
    existing = {}
    if order.pk:
        for visit in order.visits.all():
            existing[(visit.cycle_number, visit.day_number)] = visit
    planned = []
    first_key = None
    for day in regimens.infusion_days(order_regimen(order), order.start_date, horizon=order_horizon(order)):
        start = regimens.local_start(day.on, order.preferred_start_time, zone)
        key = (day.cycle_number, day.day_number)
        first_key = first_key or key
        current = existing.get(key)
        if start < now or (current is not None and (current.is_documented or current.planned_start < now)):
            continue  # the past and anything already charted stay as they are
        is_first = bool(calc.first_infusion_reason) and key == first_key
        plan = calc.first_plan if is_first else calc.later_plan
        planned.append(
            PlannedVisit(
                cycle_number=day.cycle_number,
                day_number=day.day_number,
                start=start,
                planned_minutes=calc.first_visit_minutes if is_first else calc.later_visit_minutes,
                infusion_minutes=plan.total_infusion_minutes,
                dose_mg=calc.dose_per_infusion_mg,
                volume_ml=calc.volume_ml,
                is_first_infusion=is_first,
                existing=current if current is not None and current.status == Visit.Status.SCHEDULED else None,
            )
        )
    replaced = {visit.existing.pk for visit in planned if visit.existing}
    replaced |= {
        visit.pk for visit in existing.values() if visit.status == Visit.Status.SCHEDULED and visit.planned_start >= now
    }
    _authorization_warnings(order.patient, planned, replaced)
    return planned


@transaction.atomic
def order_save(*, order: TherapyOrder, by, since: datetime | None = None) -> tuple[TherapyOrder, list[Visit]]:
    """Save an order and bring its future, undocumented visits in line with it.

    Visits already charted or in the past are never touched. A future scheduled visit on the same cycle day is
    updated in place (its nurse stays); days the order no longer calls for are removed. ``since`` (default now)
    is only moved back when loading history, e.g. the demonstration data.
    """
    calc = order_calculate(order=order)
    if calc.blocks or calc.confirmations_needed:
        raise OrderBlocked(calc.blocks + list(calc.confirmations_needed.values()))
    order.dosing_weight_kg = calc.dosing_weight.kg.quantize(Decimal("0.01"))
    order.calculated_from_weight_kg = calc.weight.weight_kg
    order.dose_per_cycle_mg = to_mg(calc.dose_per_cycle).quantize(Decimal("0.1"))
    if order.pk is None:
        order.created_by = by
    order.full_clean()
    order.save()
    now = since or timezone.now()
    planned = order_plan_visits(order=order, calc=calc, now=now) if order.is_active else []
    kept = set()
    visits = []
    for item in planned:
        visit = item.existing or Visit(order=order, patient=order.patient)
        moved = visit.pk is not None and visit.planned_start != item.start
        visit.cycle_number, visit.day_number = item.cycle_number, item.day_number
        visit.planned_start = item.start
        visit.planned_minutes = item.planned_minutes
        visit.infusion_minutes = item.infusion_minutes
        visit.dose_mg = item.dose_mg
        visit.volume_ml = item.volume_ml
        visit.is_first_infusion = item.is_first_infusion
        visit.authorization_warning = item.authorization_warning
        created = visit.pk is None
        visit.full_clean(validate_constraints=False)
        visit.save()
        kept.add(visit.pk)
        if created:
            VisitEvent.objects.create(visit=visit, kind=VisitEvent.Kind.CREATED, by=by, detail=f"From order {order.pk}")
        elif moved:
            VisitEvent.objects.create(
                visit=visit, kind=VisitEvent.Kind.RESCHEDULED, by=by, detail="The order was changed."
            )
        visits.append(visit)
    stale = order.visits.filter(status=Visit.Status.SCHEDULED, planned_start__gte=now).exclude(pk__in=kept)
    for visit in stale:
        visit.status = Visit.Status.CANCELLED
        visit.status_reason = "No longer called for by the order."
        visit.save(update_fields=["status", "status_reason", "updated_at"])
        VisitEvent.objects.create(visit=visit, kind=VisitEvent.Kind.CANCELLED, by=by, detail=visit.status_reason)
    return order, visits
