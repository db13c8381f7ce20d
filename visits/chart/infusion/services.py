"""The infusion record and vital signs of a visit: start, rate changes, end, and each set of vitals (DESIGN §3).

Writes go through the services below (keyword-only, one transaction, ``full_clean()`` before save). The read side,
``infusion_state``, gathers what the chart's infusion and vitals sections and the "what is next" strip show.
"""

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from patients.models import WeightMeasurement
from patients.services import ServiceError
from visits import clinical
from visits.chart.infusion import vitals
from visits.chart.rules import StaleSection, ensure_editable, ensure_nurse_of, section_save
from visits.models import Assessment, InfusionRecord, PreInfusionChecklist, RateChange, Reaction, Visit, VitalSigns
from visits.orders.services import order_calculate

# Times typed on a tablet may run a little ahead of the server's clock; beyond this they have not happened yet.
CLOCK_TOLERANCE = timedelta(minutes=5)

RUNNING = (RateChange.Kind.START, RateChange.Kind.INCREASE, RateChange.Kind.DECREASE, RateChange.Kind.RESUME)
HELD = (RateChange.Kind.PAUSE, RateChange.Kind.STOP)


# DESIGN §3 "The volume infused cannot exceed the bag plus a small stated tolerance": priming the line and a flush.
DEFAULT_VOLUME_TOLERANCE_ML = Decimal("25")
# A volume infused below this share of the day's volume asks why (stopped early, a reaction, the pump occluded).
SHORT_OF_PLAN_FRACTION = Decimal("0.9")
SHORT_REASONS = {
    "stopped_early": "Stopped early",
    "reaction": "Reaction",
    "occlusion": "Pump occlusion or alarm",
    "patient_request": "At the patient's request",
    "other": "Other (say which in the note)",
}


def volume_tolerance_ml() -> Decimal:
    """The agency's allowance for priming and flush, settings.INFUSION_VOLUME_TOLERANCE_ML (default 25 mL)."""
    return Decimal(str(getattr(settings, "INFUSION_VOLUME_TOLERANCE_ML", DEFAULT_VOLUME_TOLERANCE_ML)))


class RateRefused(ServiceError):
    """A rate the plan does not allow (above its maximum), or a change that does not fit the pump's state."""


class TitrationHeld(RateRefused):
    """A warning sign (flagged vitals, an open reaction) is not assessed yet: no rate increase is accepted."""


# --- reading ----------------------------------------------------------------------------------------------------


def local_hhmm(moment: datetime | None, visit: Visit) -> str:
    return "" if moment is None else timezone.localtime(moment, visit.patient.zone).strftime("%H:%M")


def rate_text(ml_per_hr: Decimal) -> str:
    return f"{Decimal(ml_per_hr):.1f} mL/hr"


@dataclass(frozen=True)
class PlannedStep:
    step: clinical.TitrationStep
    at: datetime | None  # from the actual start, once the infusion has started
    label_unit: str = ""  # the label's rate unit, mL/kg/min or mL/kg/hr

    @property
    def label_rate(self) -> str:
        """The step's rate as the label gives it (0.02 mL/kg/min, 100 mg/hr)."""
        step = self.step
        if step.ml_per_kg_hr is not None:
            if self.label_unit == "mL/kg/hr":
                return f"{clinical.fmt(step.ml_per_kg_hr, places=4)} mL/kg/hr"
            return f"{clinical.fmt(step.ml_per_kg_min, places=4)} mL/kg/min"
        if step.mg_per_hr is not None:
            return f"{clinical.fmt(step.mg_per_hr)} mg/hr"
        return ""


def dosing_weight_of(visit: Visit) -> WeightMeasurement | None:
    """The weight the order's dose was calculated from: the visit's plan uses it, so a weight recorded since (at
    this or another visit) changes no rate until the dose is reviewed and the order recalculated. None for an
    order saved before that weight was kept (the latest weight is used then)."""
    kg = visit.order.calculated_from_weight_kg
    if not kg:
        return None
    return WeightMeasurement(patient=visit.patient, weight_kg=kg, measured_on=timezone.localdate())


def visit_plan(visit: Visit, record: InfusionRecord | None = None) -> tuple[clinical.TitrationPlan | None, str]:
    """The titration plan of the visit and, when there is none, why.

    Once the infusion has started, the plan frozen at its start (``record.plan_snapshot``); before, the order's
    plan (the first-infusion plan on a first infusion) on the weight its dose was calculated from. Kept on the
    visit object: the chart's sections and the strip ask for it in one request.
    """
    if record is not None and record.plan_snapshot:
        return clinical.plan_from_data(record.plan_snapshot["plan"]), ""
    cached = getattr(visit, "_titration_plan", None)
    if cached is not None:
        return cached
    try:
        calc = order_calculate(order=visit.order, weight=dosing_weight_of(visit))
    except (ValueError, TypeError, ArithmeticError) as error:
        result = (None, f"The titration plan cannot be calculated: {error}.")
    else:
        plan = calc.first_plan if visit.is_first_infusion else calc.later_plan
        result = (plan, "" if plan else " ".join(calc.blocks) or "The titration plan cannot be calculated.")
        visit._plan_weight = calc.dosing_weight
    visit._titration_plan = result
    return result


def plan_snapshot(visit: Visit, plan: clinical.TitrationPlan) -> dict:
    """What the infusion is given by, frozen at its start: the plan, the weight and the product's protocol."""
    product = visit.order.product
    dosing = getattr(visit, "_plan_weight", None)
    return {
        "plan": clinical.plan_as_data(plan),
        "weight_kg": clinical.plain_data(visit.order.calculated_from_weight_kg),
        "dosing_weight_kg": clinical.plain_data(dosing.kg if dosing else visit.order.dosing_weight_kg),
        "dose_mg": clinical.plain_data(visit.dose_mg),
        "volume_ml": clinical.plain_data(plan.volume_ml),
        "first_infusion": visit.is_first_infusion,
        "product_id": product.pk,
        "product": product.name,
        "step_interval_min": product.step_interval_min,
        "label_rate_unit": product.label_rate_unit,
        "indication": visit.order.indication,
        "protocol": {
            name: clinical.plain_data(value)
            for name, value in asdict(product.protocol_for(visit.order.indication)).items()
        },
        "taken_at": timezone.now().isoformat(),
    }


@dataclass
class InfusionState:
    """What the infusion and vitals sections, sign-off and the strip read; the derived values (the rate events,
    the next increase, the sets due) are worked out once, as several of them ask for each."""

    visit: Visit
    now: datetime
    record: InfusionRecord | None
    changes: list[RateChange]
    sets: list[VitalSigns]
    plan: clinical.TitrationPlan | None
    plan_problem: str
    checklist_completed_at: datetime | None
    signed: bool
    reactions: list[Reaction]
    assessments: list[Assessment]

    @property
    def snapshot(self) -> dict | None:
        return self.record.plan_snapshot if self.record else None

    @property
    def step_interval_min(self) -> int | None:
        """The product's step interval, as frozen with the plan once the infusion started."""
        if self.snapshot:
            return self.snapshot.get("step_interval_min")
        return self.visit.order.product.step_interval_min

    @property
    def label_unit(self) -> str:
        if self.snapshot:
            return self.snapshot.get("label_rate_unit") or ""
        return self.visit.order.product.label_rate_unit

    @cached_property
    def hold(self) -> "Hold | None":
        return titration_hold(self.sets, self.reactions, self.assessments, self.visit)

    @property
    def day_volume_ml(self) -> Decimal | None:
        """The bag (or the day's volume) the end is checked against: the frozen plan's, else the visit's."""
        if self.plan is not None:
            return self.plan.volume_ml
        return self.visit.volume_ml

    @property
    def started_at(self) -> datetime | None:
        return self.record.started_at if self.record else None

    @property
    def ended_at(self) -> datetime | None:
        return self.record.ended_at if self.record else None

    @property
    def version(self) -> int:
        return self.record.version if self.record else 0

    @cached_property
    def events(self) -> list[vitals.RateEvent]:
        return [vitals.RateEvent(change.at, change.kind, change.rate_ml_per_hr) for change in self.changes]

    @property
    def last_change(self) -> RateChange | None:
        return self.changes[-1] if self.changes else None

    @cached_property
    def current_rate(self) -> Decimal | None:
        return vitals.current_rate(self.events)

    @property
    def is_running(self) -> bool:
        return vitals.is_running(self.events) and self.ended_at is None

    @property
    def is_held(self) -> bool:
        return bool(self.changes) and self.changes[-1].kind in HELD and self.ended_at is None

    @property
    def max_ml_per_hr(self) -> Decimal | None:
        return self.plan.max_ml_per_hr if self.plan else None

    @property
    def at_maximum(self) -> bool:
        return self.is_running and self.max_ml_per_hr is not None and self.current_rate >= self.max_ml_per_hr

    @property
    def start_rate(self) -> Decimal | None:
        return self.plan.steps[0].ml_per_hr if self.plan else None

    @cached_property
    def planned_steps(self) -> list[PlannedStep]:
        if not self.plan:
            return []
        start = self.started_at
        return [
            PlannedStep(
                step,
                None if start is None else start + timedelta(minutes=step.offset_min),
                self.label_unit,
            )
            for step in self.plan.steps
        ]

    @property
    def planned_end(self) -> datetime | None:
        if not self.plan or self.started_at is None:
            return None
        return self.started_at + timedelta(minutes=float(self.plan.infusion_minutes_exact))

    @cached_property
    def next_increase(self) -> vitals.NextIncrease | None:
        if not self.plan or self.ended_at is not None:
            return None
        return vitals.next_increase(
            events=self.events,
            plan_rates=[step.ml_per_hr for step in self.plan.steps],
            step_interval_min=self.step_interval_min,
            max_ml_per_hr=self.plan.max_ml_per_hr,
        )

    @property
    def previous_rate(self) -> Decimal | None:
        """The last running rate below the current one: "back to the previous rate" after a mild reaction."""
        current = self.current_rate
        if current is None:
            return None
        for change in reversed(self.changes[:-1]):
            if change.kind in RUNNING and 0 < change.rate_ml_per_hr < current:
                return change.rate_ml_per_hr
        return None

    @property
    def rate_before_hold(self) -> Decimal | None:
        for change in reversed(self.changes):
            if change.kind in RUNNING:
                return change.rate_ml_per_hr
        return None

    @cached_property
    def baseline(self) -> VitalSigns | None:
        return baseline_of(self.sets, before=self.started_at)

    @cached_property
    def due(self) -> list[vitals.DueSet]:
        return vitals.due_list(
            now=self.now,
            sets=[vitals.TakenSet(s.taken_at, s.phase, s.spo2 is not None) for s in self.sets],
            events=self.events,
            started_at=self.started_at,
            ended_at=self.ended_at,
            max_ml_per_hr=self.max_ml_per_hr,
            upcoming_increase=self.next_increase,
        )

    @property
    def observation_minutes(self) -> int:
        if self.visit.is_first_infusion:
            return clinical.FIRST_INFUSION_OBSERVATION_MIN
        return clinical.LATER_INFUSION_OBSERVATION_MIN

    @property
    def observe_until(self) -> datetime | None:
        return None if self.ended_at is None else self.ended_at + timedelta(minutes=self.observation_minutes)


def baseline_of(sets, *, before: datetime | None = None) -> VitalSigns | None:
    """The baseline set the others are compared with: the latest one taken before the start (or at all)."""
    baselines = [s for s in sets if s.phase == VitalSigns.Phase.BASELINE and (before is None or s.taken_at <= before)]
    return baselines[-1] if baselines else None


def infusion_state(*, visit: Visit, now: datetime | None = None) -> InfusionState:
    """Everything the infusion and vitals sections show, in a fixed number of queries."""
    record = InfusionRecord.objects.filter(visit=visit).first()
    plan, problem = visit_plan(visit, record)
    checklist = PreInfusionChecklist.objects.filter(visit=visit).values_list("completed_at", flat=True).first()
    return InfusionState(
        visit=visit,
        now=now or timezone.now(),
        record=record,
        changes=list(RateChange.objects.filter(visit=visit).order_by("at", "pk")),
        sets=list(VitalSigns.objects.filter(visit=visit).order_by("taken_at", "pk")),
        plan=plan,
        plan_problem=problem,
        checklist_completed_at=checklist,
        signed=visit.status == Visit.Status.SIGNED,
        reactions=list(Reaction.objects.filter(visit=visit, is_delayed=False).order_by("recorded_at", "pk")),
        assessments=list(
            Assessment.objects.filter(visit=visit).select_related("recorded_by").order_by("recorded_at", "pk")
        ),
    )


# --- warning signs hold the titration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hold:
    """Why no rate increase is accepted now, and what the nurse records to go on (DESIGN §3)."""

    text: str
    finding: str  # the Assessment.Finding that releases it
    vitals: VitalSigns | None = None
    reaction: Reaction | None = None


def flag_summary(flags: list[str]) -> str:
    """ "Temperature 38.6 °C, pulse 125/min": each flag's value, without the threshold it crossed."""
    values = [flag.split(":", 1)[0] for flag in flags]
    return ", ".join([values[0], *(value[:1].lower() + value[1:] for value in values[1:])]) if values else ""


def titration_hold(sets, reactions, assessments, visit: Visit) -> Hold | None:
    """The warning sign not assessed yet, or None.

    A reaction is open until the nurse records that it resolved; the latest set of vitals, when flagged, holds until
    she records a reaction or "assessed, no reaction". Later records are compared by when they were recorded.
    """

    def assessed_since(moment) -> bool:
        return any(assessment.recorded_at >= moment for assessment in assessments)

    reaction = reactions[-1] if reactions else None
    if reaction is not None and not assessed_since(reaction.recorded_at):
        grade = f"grade {reaction.grade}" if reaction.grade else "not graded"
        action = f", {reaction.get_action_display().lower()}" if reaction.action else ""
        return Hold(
            f"Reaction at {local_hhmm(reaction.onset_at, visit)} ({grade}{action}): record that it has resolved "
            "before any rate increase",
            Assessment.Finding.RESOLVED,
            reaction=reaction,
        )
    latest = sets[-1] if sets else None
    if latest is not None and latest.flags:
        answered = assessed_since(latest.recorded_at) or any(r.recorded_at >= latest.recorded_at for r in reactions)
        if not answered:
            return Hold(
                f"{flag_summary(latest.flags)}: assess for a reaction before any rate increase",
                Assessment.Finding.NO_REACTION,
                vitals=latest,
            )
    return None


@transaction.atomic
def assessment_record(*, visit: Visit, nurse, finding: str, note: str, at: datetime) -> Assessment:
    """The nurse's assessment of the open warning sign: "assessed, no reaction" after flagged vitals, or "resolved"
    after a reaction, with a note. It releases the hold on rate increases; nothing else changes."""
    visit = _locked(visit, nurse)
    if visit.status not in VITALS_STATUSES:
        raise ServiceError("Check in before recording an assessment.")
    state = infusion_state(visit=visit)
    hold = state.hold
    if hold is None:
        raise ServiceError("No warning sign is waiting for an assessment.")
    errors = {}
    if finding != hold.finding:
        if hold.finding == Assessment.Finding.RESOLVED:
            errors["finding"] = "A reaction is open: record that it has resolved, or record a new reaction."
        else:
            errors["finding"] = "Record “assessed, no reaction”, or record the reaction in Reactions."
    if not (note or "").strip():
        errors["note"] = "Write what you assessed (symptoms asked about, findings)."
    _check_time(at, visit)
    moment = hold.vitals.taken_at if hold.vitals else hold.reaction.onset_at
    if at < moment:
        errors["at"] = f"The warning sign was at {local_hhmm(moment, visit)}: the assessment comes after it."
    if errors:
        raise ValidationError(errors)
    assessment = Assessment(
        visit=visit,
        assessed_at=at,
        finding=finding,
        note=note.strip(),
        vitals=hold.vitals,
        reaction=hold.reaction,
        recorded_by=nurse,
    )
    assessment.full_clean()
    assessment.save()
    return assessment


# --- what the rates could deliver ----------------------------------------------------------------------------------


def deliverable_ml(changes, *, until: datetime) -> Decimal:
    """The most the recorded rates could have delivered by ``until``: each rate × the time until the next change."""
    total = Decimal(0)
    for index, change in enumerate(changes):
        if change.at >= until:
            break
        ends = changes[index + 1].at if index + 1 < len(changes) else until
        hours = Decimal(str((min(ends, until) - change.at).total_seconds())) / 3600
        total += Decimal(change.rate_ml_per_hr) * hours
    return total.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --- guards ------------------------------------------------------------------------------------------------------


def _locked(visit: Visit, nurse) -> Visit:
    """Re-read the visit under a row lock, so two tablets' writes to one infusion happen one after the other."""
    ensure_nurse_of(visit, nurse)
    locked = Visit.objects.select_for_update().select_related("patient", "order__product").get(pk=visit.pk)
    ensure_editable(locked)
    if hasattr(visit, "_titration_plan"):
        locked._titration_plan = visit._titration_plan
    return locked


def _check_time(at: datetime, visit: Visit, *, field: str = "at") -> None:
    now = timezone.now()
    if at > now + CLOCK_TOLERANCE:
        later = f"{local_hhmm(at, visit)} is later than now ({local_hhmm(now, visit)})"
        raise ValidationError({field: f"{later}: give the time it happened."})


def _check_maximum(rate: Decimal, state: InfusionState, *, field: str = "rate_ml_per_hr") -> None:
    if state.plan is None:
        raise RateRefused(
            f"No rate can be checked against a maximum: {state.plan_problem} Ask the coordinator to review the order."
        )
    if rate > state.plan.max_ml_per_hr:
        raise ValidationError(
            {
                field: f"{rate_text(rate)} is above this patient's maximum of {rate_text(state.plan.max_ml_per_hr)} "
                f"({state.plan.max_reason}). Not recorded: set the pump to {rate_text(state.plan.max_ml_per_hr)} "
                "or less."
            }
        )


def _stale_message(state: InfusionState) -> str:
    record, last = state.record, state.last_change
    who = (record.updated_by.get_full_name() or record.updated_by.username) if record and record.updated_by else ""
    detail = (
        f"the last change is now “{last.get_kind_display()} {rate_text(last.rate_ml_per_hr)}” at "
        f"{local_hhmm(last.at, state.visit)}"
        if last
        else "the infusion record changed"
    )
    return (
        f"Not saved: {who or 'someone'} recorded a change on another device since you opened the chart; {detail}. "
        "Check the pump and record again."
    )


def _ensure_current(state: InfusionState, expected_version: int) -> None:
    """A tablet that did not see the last change to the infusion is told what it is before anything else."""
    if state.record is not None and expected_version != state.record.version:
        raise StaleSection(_stale_message(state))


def _bump(record: InfusionRecord, *, expected_version: int, nurse, state: InfusionState) -> None:
    """A rate change is a change to the infusion record: its version moves on in the same conditional update."""
    try:
        section_save(instance=record, expected_version=expected_version, by=nurse, changed_fields=[])
    except StaleSection:
        raise StaleSection(_stale_message(state)) from None


# --- writing -----------------------------------------------------------------------------------------------------


@transaction.atomic
def infusion_start(*, visit: Visit, nurse, at: datetime, rate_ml_per_hr: Decimal) -> InfusionRecord:
    """Record the actual start: the infusion record's start time, a "start" rate change, and the visit infusing.

    Only after check-in, with the checklist complete and a baseline set with SpO₂ (DESIGN §3), and never above the
    plan's maximum.
    """
    visit = _locked(visit, nurse)
    state = infusion_state(visit=visit)
    if state.started_at is not None:
        raise StaleSection(
            f"Not saved: this infusion was already started at {local_hhmm(state.started_at, visit)} "
            f"at {rate_text(state.changes[0].rate_ml_per_hr) if state.changes else 'its first rate'}."
        )
    if visit.status != Visit.Status.CHECKED_IN:
        raise ServiceError("Check in before starting the infusion.")
    if state.checklist_completed_at is None:
        raise ServiceError("Complete the pre-infusion checklist before starting the infusion.")
    if state.baseline is None or state.baseline.spo2 is None:
        raise ServiceError("Take the baseline vital signs, with SpO₂, before starting.")
    _check_time(at, visit)
    if at < state.baseline.taken_at:
        raise ValidationError(
            {"at": f"The baseline set was taken at {local_hhmm(state.baseline.taken_at, visit)}: start after it."}
        )
    rate = Decimal(rate_ml_per_hr)
    if rate <= 0:
        raise ValidationError({"rate_ml_per_hr": "Give the start rate in mL/hr, more than 0."})
    _check_maximum(rate, state)
    record = state.record or InfusionRecord(visit=visit)
    record.started_at = at
    record.plan_snapshot = plan_snapshot(visit, state.plan)
    section_save(instance=record, expected_version=0, by=nurse, changed_fields=["started_at", "plan_snapshot"])
    change = RateChange(visit=visit, at=at, kind=RateChange.Kind.START, rate_ml_per_hr=rate, recorded_by=nurse)
    change.full_clean()
    change.save()
    visit.status = Visit.Status.INFUSING
    visit.full_clean(validate_constraints=False)
    visit.save(update_fields=["status", "updated_at"])
    return record


@transaction.atomic
def infusion_rate_change(
    *,
    visit: Visit,
    nurse,
    at: datetime,
    kind: str,
    rate_ml_per_hr: Decimal | None,
    expected_version: int,
    note: str = "",
    early_reason: str = "",
) -> RateChange:
    """Record a change at the pump: raised, back to a lower rate, paused, resumed or stopped.

    A rate above the plan's maximum is refused with the maximum and why. Pause and stop record 0 mL/hr; "back to a
    lower rate" defaults to the previous rate and resuming to the rate before the pause. While a warning sign is
    not assessed, raising and resuming are refused (DESIGN §3); slowing, pausing and stopping never are. A raise
    before the plan's step time needs ``early_reason`` and is recorded as early.
    """
    visit = _locked(visit, nurse)
    state = infusion_state(visit=visit)
    if visit.status != Visit.Status.INFUSING or state.started_at is None:
        raise ServiceError("The infusion is not running: record its start first.")
    _ensure_current(state, expected_version)
    if kind not in RateChange.Kind.values or kind == RateChange.Kind.START:
        raise ValidationError({"kind": "Choose what changed: raised, lower, paused, resumed or stopped."})
    _check_time(at, visit)
    last = state.last_change
    if at < last.at:
        raise ValidationError(
            {
                "at": f"The last change was at {local_hhmm(last.at, visit)}: changes are recorded in order, so give "
                "a time at or after it."
            }
        )
    current = state.current_rate
    rate = None if rate_ml_per_hr is None else Decimal(rate_ml_per_hr)
    if kind in (RateChange.Kind.INCREASE, RateChange.Kind.DECREASE) and not state.is_running:
        raise RateRefused("The pump is paused or stopped: resume it first.")
    hold = state.hold if kind in (RateChange.Kind.INCREASE, RateChange.Kind.RESUME) else None
    if hold is not None:
        raise TitrationHeld(
            f"Not recorded: {hold.text}. Record the assessment in Vital signs first; slowing, pausing and stopping "
            "stay open."
        )
    planned_at, early_reason = None, (early_reason or "").strip()
    if kind == RateChange.Kind.INCREASE:
        if rate is None:
            raise ValidationError({"rate_ml_per_hr": "Give the new rate in mL/hr."})
        if rate <= current:
            raise ValidationError({"rate_ml_per_hr": f"A raise must be above the current {rate_text(current)}."})
        _check_maximum(rate, state)
        upcoming = state.next_increase
        if upcoming is not None and at < upcoming.at:
            if not early_reason:
                minutes = max(1, round((upcoming.at - at).total_seconds() / 60))
                raise ValidationError(
                    {
                        "early_reason": f"The plan raises the rate at {local_hhmm(upcoming.at, visit)}, {minutes} min "
                        "from this time: give the reason to raise early, or wait."
                    }
                )
            planned_at = upcoming.at
    elif kind == RateChange.Kind.DECREASE:
        rate = rate if rate is not None else state.previous_rate
        if rate is None:
            raise ValidationError({"rate_ml_per_hr": "Give the lower rate in mL/hr (there is no previous rate)."})
        if not 0 < rate < current:
            raise ValidationError(
                {
                    "rate_ml_per_hr": f"A lower rate must be above 0 and below the current {rate_text(current)}; "
                    "to stop the pump, choose paused or stopped."
                }
            )
    elif kind in HELD:
        if not state.is_running and not (kind == RateChange.Kind.STOP and state.is_held):
            raise RateRefused("The pump is already paused or stopped.")
        if last.kind == RateChange.Kind.STOP:
            raise RateRefused("The pump is already stopped.")
        rate = Decimal(0)
    elif kind == RateChange.Kind.RESUME:
        if not state.is_held:
            raise RateRefused("The pump is running; there is nothing to resume.")
        rate = rate if rate is not None else state.rate_before_hold
        if rate is None or rate <= 0:
            raise ValidationError({"rate_ml_per_hr": "Give the rate to resume at, in mL/hr."})
        _check_maximum(rate, state)
    _bump(state.record, expected_version=expected_version, nurse=nurse, state=state)
    change = RateChange(
        visit=visit,
        at=at,
        kind=kind,
        rate_ml_per_hr=rate,
        note=note.strip(),
        planned_at=planned_at,
        early_reason=early_reason if planned_at else "",
        recorded_by=nurse,
    )
    change.full_clean()
    change.save()
    return change


@transaction.atomic
def infusion_end(
    *,
    visit: Visit,
    nurse,
    at: datetime,
    volume_infused_ml: Decimal,
    expected_version: int,
    short_reason: str = "",
    short_note: str = "",
) -> InfusionRecord:
    """Record the end of the infusion and the volume infused; the pump stops and the visit is observing.

    The volume must be plausible (DESIGN §3): at most the day's volume plus the priming/flush tolerance, and at most
    what the recorded rates could deliver plus that tolerance. Well below the day's volume it needs the reason.
    """
    visit = _locked(visit, nurse)
    state = infusion_state(visit=visit)
    if state.ended_at is not None:
        raise StaleSection(f"Not saved: this infusion was already ended at {local_hhmm(state.ended_at, visit)}.")
    if visit.status != Visit.Status.INFUSING or state.record is None or state.started_at is None:
        raise ServiceError("The infusion has not started; there is nothing to end.")
    _ensure_current(state, expected_version)
    _check_time(at, visit)
    if at < state.last_change.at:
        raise ValidationError(
            {"at": f"The last change was at {local_hhmm(state.last_change.at, visit)}: the end comes after it."}
        )
    volume = Decimal(volume_infused_ml)
    if volume < 0:
        raise ValidationError({"volume_infused_ml": "The volume infused cannot be negative."})
    short_reason, short_note = _check_volume(state, at=at, volume=volume, reason=short_reason, note=short_note)
    record = state.record
    record.ended_at = at
    record.volume_infused_ml = volume
    record.short_reason, record.short_note = short_reason, short_note
    section_save(
        instance=record,
        expected_version=expected_version,
        by=nurse,
        changed_fields=["ended_at", "volume_infused_ml", "short_reason", "short_note"],
    )
    if state.last_change.kind != RateChange.Kind.STOP:
        stop = RateChange(
            visit=visit, at=at, kind=RateChange.Kind.STOP, rate_ml_per_hr=0, note="End of infusion", recorded_by=nurse
        )
        stop.full_clean()
        stop.save()
    visit.status = Visit.Status.OBSERVING
    visit.full_clean(validate_constraints=False)
    visit.save(update_fields=["status", "updated_at"])
    return record


def _ml(value: Decimal) -> str:
    return f"{Decimal(value).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)} mL"


def _check_volume(state: InfusionState, *, at: datetime, volume: Decimal, reason: str, note: str) -> tuple[str, str]:
    """Refuse a volume the bag or the pump could not have given; ask why when it is well below the day's volume.
    Returns the reason and note to keep (none when the volume is not short)."""
    tolerance = volume_tolerance_ml()
    day = state.day_volume_ml
    allowance = f"plus {_ml(tolerance)} for priming and flush"
    if day is not None and volume > day + tolerance:
        raise ValidationError(
            {
                "volume_infused_ml": f"{_ml(volume)} is more than this day's {_ml(day)} {allowance} "
                f"({_ml(day + tolerance)} at most): read the volume infused on the pump again."
            }
        )
    could = deliverable_ml(state.changes, until=at)
    if volume > could + tolerance:
        start, end = local_hhmm(state.started_at, state.visit), local_hhmm(at, state.visit)
        raise ValidationError(
            {
                "volume_infused_ml": f"The rates recorded from {start} to {end} could deliver about {_ml(could)} "
                f"({_ml(could + tolerance)} at most, {allowance}), not {_ml(volume)}: read the pump's total again, "
                "or record the rate changes that are missing."
            }
        )
    reason, note = (reason or "").strip(), (note or "").strip()
    if day is None or volume >= day * SHORT_OF_PLAN_FRACTION:
        return "", ""
    errors = {}
    if reason not in SHORT_REASONS:
        percent = int(SHORT_OF_PLAN_FRACTION * 100)
        errors["short_reason"] = (
            f"{_ml(volume)} is less than {percent}% of this day's {_ml(day)}: say why (stopped early, a reaction, "
            "the pump…)."
        )
    elif reason == "other" and not note:
        errors["short_note"] = "Say why less was infused."
    if errors:
        raise ValidationError(errors)
    return reason, note


def thresholds() -> vitals.Thresholds:
    """DESIGN §3's defaults, editable per deployment through settings.VITAL_SIGN_THRESHOLDS (a dict of overrides)."""
    overrides = getattr(settings, "VITAL_SIGN_THRESHOLDS", None) or {}
    return vitals.Thresholds(**overrides) if overrides else vitals.DEFAULT_THRESHOLDS


def as_reading(row: VitalSigns) -> vitals.Reading:
    return vitals.Reading(
        temperature_c=row.temperature_c,
        pulse=row.pulse,
        systolic=row.systolic,
        diastolic=row.diastolic,
        respiratory_rate=row.respiratory_rate,
        spo2=row.spo2,
        pain=row.pain,
    )


VITALS_STATUSES = (Visit.Status.CHECKED_IN, Visit.Status.INFUSING, Visit.Status.OBSERVING, Visit.Status.COMPLETED)


@transaction.atomic
def vitals_record(*, visit: Visit, nurse, taken_at: datetime, phase: str, reading: vitals.Reading) -> VitalSigns:
    """Save one set of vital signs in SI units, flagged in words where it calls for action (DESIGN §3).

    Impossible values are refused (ValidationError by field); a baseline set needs SpO₂. Flags compare with the
    absolute thresholds and with the visit's baseline set.
    """
    visit = _locked(visit, nurse)
    if visit.status not in VITALS_STATUSES:
        raise ServiceError("Check in before recording vital signs.")
    _check_time(taken_at, visit, field="taken_at")
    problems = vitals.reading_problems(reading)
    if phase not in VitalSigns.Phase.values:
        problems["phase"] = "Choose the phase of this set."
    if phase == VitalSigns.Phase.BASELINE and reading.spo2 is None:
        problems["spo2"] = "The baseline set needs SpO₂."
    if problems:
        raise ValidationError(problems)
    earlier = list(VitalSigns.objects.filter(visit=visit, taken_at__lte=taken_at).order_by("taken_at", "pk"))
    record = InfusionRecord.objects.filter(visit=visit).first()
    baseline = None
    if phase != VitalSigns.Phase.BASELINE:
        baseline = baseline_of(earlier, before=record.started_at if record else None)
    row = VitalSigns(
        visit=visit,
        taken_at=taken_at,
        phase=phase,
        temperature_c=reading.temperature_c,
        pulse=reading.pulse,
        systolic=reading.systolic,
        diastolic=reading.diastolic,
        respiratory_rate=reading.respiratory_rate,
        spo2=reading.spo2,
        pain=reading.pain,
        flags=vitals.flags(reading, baseline=as_reading(baseline) if baseline else None, thresholds=thresholds()),
        recorded_by=nurse,
    )
    row.full_clean()
    row.save()
    return row
