"""Reactions, sign-off, addenda and outcome measures: the end of a visit's chart (DESIGN §3, issue 4 items 8–10).

Field problems are raised as ``ValidationError`` keyed by field, so a form can show each message where it belongs;
a chart that may not be edited raises ``ChartLocked``; anything else the domain refuses raises ``ServiceError``.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from infusion_site.roles import is_coordinator
from patients.services import ServiceError
from visits.chart.clock import recorded_now
from visits.chart.infusion import vitals
from visits.chart.infusion.services import InfusionState, infusion_state, local_hhmm, rate_text
from visits.chart.rules import ensure_editable, ensure_nurse_of, notify_at_once
from visits.models import (
    Addendum,
    InfusionRecord,
    Notification,
    OutcomeMeasure,
    RateChange,
    Reaction,
    TherapyOrder,
    Visit,
    VisitSignature,
)

# DESIGN §3: post-infusion observation is 60 min after a first infusion and 30 min after later ones.
OBSERVATION_AFTER_FIRST_INFUSION_MIN = 60
OBSERVATION_AFTER_LATER_INFUSION_MIN = 30

# DESIGN §3 (CTCAE v5): grade 3 or more requires "stopped" and a physician-notified time, and alerts the coordinator.
SEVERE_GRADE = 3

# CTCAE v5 grades as DESIGN §3 words them, shown next to each choice on the chart.
GRADE_MEANINGS = {
    1: "Mild; no interruption of the infusion needed.",
    2: "Interruption needed; responds promptly to treatment.",
    3: "Prolonged, recurring, or needing hospital care.",
    4: "Life-threatening; urgent intervention needed.",
    5: "Death.",
}

# The symptoms of an infusion reaction the chart offers as checkboxes (issue 4 item 8).
SYMPTOMS = {
    "headache": "Headache",
    "chills": "Chills",
    "fever": "Fever",
    "flushing": "Flushing",
    "rash_hives": "Rash or hives",
    "itching": "Itching",
    "nausea": "Nausea",
    "chest_tightness": "Chest tightness",
    "shortness_of_breath": "Shortness of breath",
    "low_blood_pressure": "Low blood pressure",
    "back_pain": "Back pain",
    "other": "Other",
}

# A clock a few minutes fast on a tablet must not make a time "in the future".
CLOCK_SKEW = timedelta(minutes=5)
# A reaction's onset long before the visit was planned is a typing mistake (wrong day), not a reaction of this visit.
EARLIEST_ONSET_BEFORE_PLANNED_START = timedelta(hours=12)

RUNNING_KINDS = (RateChange.Kind.START, RateChange.Kind.INCREASE, RateChange.Kind.DECREASE, RateChange.Kind.RESUME)

SIGN_FIRST = "The chart is not signed yet: sign first; edit the chart instead of adding an addendum."


def _save(instance):
    instance.full_clean()
    instance.save()
    return instance


def _ensure_editable_now(visit: Visit) -> None:
    """Check the lock on the visit row itself, so a save racing a signature on another tablet waits and is refused."""
    ensure_editable(visit)
    ensure_editable(Visit.objects.select_for_update().only("status").get(pk=visit.pk))


# --- observation ---------------------------------------------------------------------------------------------------


def observation_minutes(visit: Visit) -> int:
    return OBSERVATION_AFTER_FIRST_INFUSION_MIN if visit.is_first_infusion else OBSERVATION_AFTER_LATER_INFUSION_MIN


@dataclass(frozen=True)
class Observation:
    minutes: int
    infusion_ended_at: datetime | None

    @property
    def ends_at(self) -> datetime | None:
        return self.infusion_ended_at + timedelta(minutes=self.minutes) if self.infusion_ended_at else None

    def is_over(self, now: datetime) -> bool:
        return self.ends_at is not None and now >= self.ends_at

    def minutes_left(self, now: datetime) -> int | None:
        if self.ends_at is None:
            return None
        return max(0, math.ceil((self.ends_at - now).total_seconds() / 60))


def observation_for(visit: Visit, infusion: InfusionRecord | None) -> Observation:
    return Observation(observation_minutes(visit), infusion.ended_at if infusion else None)


# --- reactions -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepBack:
    current_rate: Decimal
    previous_rate: Decimal


def step_back_rates(changes: list[RateChange]) -> StepBack:
    """The running rate now and the rate before the latest increase, which "back to the previous rate" returns to.

    DESIGN §3: a mild reaction without vital-sign change usually means going back to the previous rate.
    """
    if not changes:
        raise ValidationError({"action": "The infusion has not started: there is no rate to go back from."})
    last = changes[-1]
    if last.kind not in RUNNING_KINDS:
        raise ValidationError(
            {"action": f"The infusion is {last.get_kind_display().lower()}: there is no running rate to step back."}
        )
    increases = [index for index, change in enumerate(changes) if change.kind == RateChange.Kind.INCREASE]
    before = None
    if increases:
        earlier = changes[: increases[-1]]
        before = next((change for change in reversed(earlier) if change.kind in RUNNING_KINDS), None)
    if before is None:
        raise ValidationError(
            {
                "action": "The rate has not been raised yet, so there is no previous rate to go back to. "
                "Choose paused or stopped."
            }
        )
    if last.rate_ml_per_hr <= before.rate_ml_per_hr:
        raise ValidationError(
            {
                "action": f"The infusion already runs at {last.rate_ml_per_hr} mL/hr, not above the rate before the "
                f"latest increase ({before.rate_ml_per_hr} mL/hr)."
            }
        )
    return StepBack(current_rate=last.rate_ml_per_hr, previous_rate=before.rate_ml_per_hr)


def _reaction_errors(*, visit: Visit, reaction: Reaction, now: datetime) -> dict[str, str]:
    errors = {}
    unknown = [symptom for symptom in reaction.symptoms if symptom not in SYMPTOMS]
    if unknown:
        errors["symptoms"] = f"Unknown symptom: {', '.join(map(str, unknown))}."
    elif not reaction.symptoms:
        errors["symptoms"] = "Tick at least one symptom."
    elif "other" in reaction.symptoms and not reaction.other_symptom.strip():
        errors["other_symptom"] = "Say what the other symptom is."
    if reaction.onset_at > now + CLOCK_SKEW:
        errors["onset_at"] = "The onset time is in the future."
    elif reaction.onset_at < visit.planned_start - EARLIEST_ONSET_BEFORE_PLANNED_START:
        errors["onset_at"] = "The onset is long before this visit; check the date."
    notified = reaction.physician_notified_at
    if notified is not None:
        if notified > now + CLOCK_SKEW:
            errors["physician_notified_at"] = "The time the physician was notified is in the future."
        elif notified < reaction.onset_at:
            errors["physician_notified_at"] = "The physician was notified before the reaction began; check the time."
    if reaction.grade is not None and reaction.grade >= SEVERE_GRADE:
        if reaction.action != Reaction.Action.STOPPED:
            errors["action"] = f"A grade {reaction.grade} reaction requires stopping the infusion."
        if notified is None:
            errors.setdefault(
                "physician_notified_at",
                f"A grade {reaction.grade} reaction requires calling the prescriber; give the time they were notified.",
            )
    return errors


@transaction.atomic
def reaction_record(
    *,
    visit: Visit,
    nurse,
    onset_at: datetime,
    symptoms: list[str],
    grade: int,
    action: str,
    other_symptom: str = "",
    medications_given: str = "",
    physician_notified_at: datetime | None = None,
    outcome: str = "",
    step_back: bool = True,
    at: datetime | None = None,
) -> Reaction:
    """Record a reaction during the visit.

    Grade 3 or more must be "stopped" with a physician-notified time; the coordinator's alert queue shows it at
    once (visits.alerts.sources "severe_reaction"). "Back to the previous rate" with ``step_back`` also records the rate
    change back to the rate before the latest increase, in the same transaction.
    """
    ensure_nurse_of(visit, nurse)
    _ensure_editable_now(visit)
    now = recorded_now()
    reaction = Reaction(
        visit=visit,
        onset_at=onset_at,
        symptoms=list(symptoms),
        other_symptom=other_symptom.strip() if "other" in symptoms else "",
        grade=grade,
        action=action,
        medications_given=medications_given.strip(),
        physician_notified_at=physician_notified_at,
        outcome=outcome.strip(),
        recorded_by=nurse,
        recorded_at=now,
    )
    errors = _reaction_errors(visit=visit, reaction=reaction, now=now)
    try:
        reaction.full_clean()
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, messages[0])
    step = None
    if not errors and action == Reaction.Action.PREVIOUS_RATE and step_back:
        changes = list(visit.rate_changes.all())
        step = step_back_rates(changes)
        at = at or now.replace(microsecond=0)  # as the chart's other "now" times, so "end now" is not before it
        if at < changes[-1].at:
            raise ValidationError({"action": "The step back cannot be earlier than the last rate change."})
    if errors:
        raise ValidationError(errors)
    reaction.save()
    if reaction.grade >= SEVERE_GRADE:
        notify_at_once(Notification.Kind.SEVERE_REACTION)
    if step is not None:
        _save(
            RateChange(
                visit=visit,
                at=at,
                kind=RateChange.Kind.DECREASE,
                rate_ml_per_hr=step.previous_rate,
                note=f"Back to the previous rate after a grade {grade} reaction (was {step.current_rate} mL/hr).",
                recorded_by=nurse,
            )
        )
    return reaction


# --- sign-off and addenda ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Missing:
    """One thing sign-off needs that the chart does not show yet, in the nurse's words."""

    code: str
    text: str


# DESIGN §3: sign-off needs the infusion ended, the observation done with its vitals and a check-out; each missing
# item can only be waived with a reason printed on the record. In the order a visit reaches them.
INFUSION_ENDED, OBSERVATION, VITALS, CHECK_OUT = "infusion_ended", "observation", "vitals", "check_out"
SIGNOFF_ITEMS = (INFUSION_ENDED, OBSERVATION, VITALS, CHECK_OUT)

# Said next to an item's waiver field when signing is refused: what to do, or the reason it is waived.
WAIVER_REFUSALS = {
    INFUSION_ENDED: "The end of the infusion is not recorded: record it first, or give the reason it is waived.",
    OBSERVATION: "The observation is not over: wait until it ends, or give the reason it is waived.",
    VITALS: "Vital signs are missing: take them first, or give the reason they are waived.",
    CHECK_OUT: "Check-out is not recorded: check out first, or give the reason it is waived.",
}
WAIVER_REASON_MAX = 300

# The due list's sets still to take: missed, overdue, or due now.
VITALS_STILL_TO_TAKE = (vitals.MISSING, vitals.OVERDUE, vitals.DUE)
POST_INFUSION_PHASES = (vitals.POST_30, vitals.POST_60)
# Sets repeated through the infusion: named with their deadline, as several may be missing.
ROLLING_PHASES = (vitals.TITRATION, vitals.MAXIMUM)


def _infusion_not_ended(state: InfusionState) -> str | None:
    """Why the infusion does not count as ended, or None. A stop (after a reaction) is not the end: "End the
    infusion" records it."""
    if state.ended_at is not None:
        return None
    if state.started_at is None:
        return "Infusion not started"
    last = state.last_change
    if last is not None and last.kind in (RateChange.Kind.STOP, RateChange.Kind.PAUSE):
        held = "stopped" if last.kind == RateChange.Kind.STOP else "paused"
        return f"Infusion not ended: {held} at {local_hhmm(last.at, state.visit)}, its end not recorded"
    if state.current_rate is not None:
        return f"Infusion not ended: running at {rate_text(state.current_rate)}"
    return "Infusion not ended"


def _observation_not_over(observation: Observation, now: datetime, visit: Visit) -> str | None:
    if observation.is_over(now):
        return None
    if observation.ends_at is None:
        return "Observation: starts when the end of the infusion is recorded"
    return f"Observation: {observation.minutes_left(now)} min left, until {local_hhmm(observation.ends_at, visit)}"


def _sets_to_take(due: list[vitals.DueSet], observation: Observation, now: datetime) -> list[vitals.DueSet]:
    """The vital-sign sets the visit still owes: every set missed, overdue or due now, and once the observation is
    over the post-infusion sets not taken.

    Only the post-infusion sets that fall within the observation count: after a later infusion (30 min) the nurse
    leaves before the set 60 min after the end is due, so it is not asked for.
    """
    over = observation.is_over(now)
    owed = []
    for item in due:
        if item.phase in POST_INFUSION_PHASES:
            if observation.ends_at is not None and item.due_at is not None and item.due_at > observation.ends_at:
                continue
            if over and item.status != vitals.DONE:
                owed.append(item)
                continue
        if item.status in VITALS_STILL_TO_TAKE:
            owed.append(item)
    return owed


def _set_name(item: vitals.DueSet, visit: Visit) -> str:
    if item.phase in ROLLING_PHASES and not item.key.startswith("increase") and item.overdue_at is not None:
        return f"{item.label} by {local_hhmm(item.overdue_at, visit)}"
    return item.label


NOT_READ = object()


def signoff_missing(
    *, visit: Visit, now: datetime, state: InfusionState | None = None, verification=NOT_READ
) -> list[Missing]:
    """What the chart still lacks for sign-off at ``now``, in the order a visit reaches it (nothing is written).

    The infusion ended (a stop counts once its end is recorded); the observation over (60 min after a first
    infusion, 30 after later ones); no vital-sign set missing, overdue or due, and the post-infusion sets of the
    observation taken once it is over; a check-out on the live check-in record, by ``now``. The chart passes the
    infusion ``state`` and live ``verification`` its other sections already read.
    """
    state = state or infusion_state(visit=visit, now=now)
    observation = observation_for(visit, state.record)
    missing = []
    infusion = _infusion_not_ended(state)
    if infusion:
        missing.append(Missing(INFUSION_ENDED, infusion))
    observing = _observation_not_over(observation, now, visit)
    if observing:
        missing.append(Missing(OBSERVATION, observing))
    sets = _sets_to_take(state.due, observation, now)
    if sets:
        names = "; ".join(_set_name(item, visit) for item in sets)
        missing.append(Missing(VITALS, f"Vital signs missing: {names}"))
    if verification is NOT_READ:
        verification = visit.verification
    if verification is None or verification.checked_out_at is None or verification.checked_out_at > now:
        missing.append(Missing(CHECK_OUT, "Check-out not recorded"))
    return missing


def _waived(missing: list[Missing], waivers: dict[str, str]) -> tuple[dict, dict]:
    """Each missing item with its reason (code → {"item", "reason"}), and the field errors of those without one.
    Reasons given for items that are not missing are left out."""
    waived, errors = {}, {}
    for item in missing:
        reason = (waivers.get(item.code) or "").strip()
        if not reason:
            errors[f"waiver_{item.code}"] = WAIVER_REFUSALS[item.code]
        elif len(reason) > WAIVER_REASON_MAX:
            errors[f"waiver_{item.code}"] = f"Keep the reason to {WAIVER_REASON_MAX} characters; it has {len(reason)}."
        else:
            waived[item.code] = {"item": item.text, "reason": reason}
    return waived, errors


@transaction.atomic
def visit_sign(
    *,
    visit: Visit,
    nurse,
    note: str,
    password: str,
    waivers: dict[str, str] | None = None,
    now: datetime | None = None,
) -> VisitSignature:
    """Sign the chart with the nurse's note, after asking for her password again; the chart is then locked.

    Signing needs what ``signoff_missing`` lists (infusion ended, observation over with its vitals, checked out);
    each item still missing needs a written reason in ``waivers`` (code → reason), kept on the signature and
    printed on the record. A refusal names every field at once and writes nothing.
    """
    ensure_nurse_of(visit, nurse)
    now = now or timezone.now()
    # Lock the visit row: two tablets signing at once must not both sign.
    locked = Visit.objects.select_for_update().select_related("patient", "order__product").get(pk=visit.pk)
    ensure_editable(locked)
    errors = {}
    if not note.strip():
        errors["note"] = "Write the nurse's note before signing."
    # check_password, not authenticate(): a mistyped password here re-asks, it does not count towards a lockout.
    if not password or not nurse.check_password(password):
        errors["password"] = "That is not your password; nothing was signed."
    waived, waiver_errors = _waived(signoff_missing(visit=locked, now=now), waivers or {})
    errors.update(waiver_errors)
    if errors:
        raise ValidationError(errors)
    signature = _save(VisitSignature(visit=locked, note=note.strip(), signed_by=nurse, signed_at=now, waivers=waived))
    locked.status = Visit.Status.SIGNED
    locked.save(update_fields=["status", "updated_at"])
    visit.status = locked.status
    return signature


def may_add_addendum(visit: Visit, user) -> bool:
    """Only the visit's nurse or a coordinator corrects a signed chart."""
    return visit.nurse_id == user.pk or is_coordinator(user)


@transaction.atomic
def addendum_add(*, visit: Visit, author, text: str) -> Addendum:
    """A correction or late entry after signing, with its author and time; the signed record itself never changes."""
    if not may_add_addendum(visit, author):
        raise ServiceError("Only the visit's nurse or a coordinator adds an addendum.")
    if visit.status != Visit.Status.SIGNED:
        raise ValidationError({"text": SIGN_FIRST})
    if not text.strip():
        raise ValidationError({"text": "Write the addendum."})
    return _save(Addendum(visit=visit, author=author, text=text.strip(), written_at=timezone.now()))


# --- outcome measures ----------------------------------------------------------------------------------------------


def outcome_for_cycle(visit: Visit) -> OutcomeMeasure | None:
    return (
        OutcomeMeasure.objects.filter(visit__order_id=visit.order_id, visit__cycle_number=visit.cycle_number)
        .select_related("visit")
        .first()
    )


@transaction.atomic
def outcome_record(
    *,
    visit: Visit,
    nurse,
    mmt8: int,
    cdasi_activity: int,
    cdasi_damage: int,
    patient_global: int,
    measured_on=None,
) -> OutcomeMeasure:
    """Disease activity once per cycle (DESIGN §2: MMT-8 0–150, CDASI activity 0–100 and damage 0–32, global 0–10)."""
    ensure_nurse_of(visit, nurse)
    _ensure_editable_now(visit)
    # Lock the order: two tablets entering the same cycle's measures at once must not both succeed.
    TherapyOrder.objects.select_for_update().filter(pk=visit.order_id).first()
    earlier = outcome_for_cycle(visit)
    if earlier is not None:
        raise ServiceError(
            f"Outcome measures for cycle {visit.cycle_number} were already entered on "
            f"{earlier.measured_on:%Y-%m-%d} (day {earlier.visit.day_number}); they are entered once per cycle."
        )
    measure = OutcomeMeasure(
        patient_id=visit.patient_id,
        visit=visit,
        measured_on=measured_on or timezone.localdate(timezone.now(), visit.patient.zone),
        mmt8=mmt8,
        cdasi_activity=cdasi_activity,
        cdasi_damage=cdasi_damage,
        patient_global=patient_global,
        recorded_by=nurse,
    )
    return _save(measure)
