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
            errors["action"] = f"A grade {reaction.grade} reaction requires stopping the infusion (DESIGN §3)."
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
    now = timezone.now()
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


@transaction.atomic
def visit_sign(*, visit: Visit, nurse, note: str, password: str) -> VisitSignature:
    """Sign the chart with the nurse's note, after asking for her password again; the chart is then locked.

    Signing is allowed once the infusion has ended (InfusionRecord.ended_at): the observation period is shown on
    the chart, and vitals after the signature become addenda.
    """
    ensure_nurse_of(visit, nurse)
    # Lock the visit row: two tablets signing at once must not both sign.
    locked = Visit.objects.select_for_update().get(pk=visit.pk)
    ensure_editable(locked)
    errors = {}
    if not note.strip():
        errors["note"] = "Write the nurse's note before signing."
    # check_password, not authenticate(): a mistyped password here re-asks, it does not count towards a lockout.
    if not password or not nurse.check_password(password):
        errors["password"] = "That is not your password; nothing was signed."
    if errors:
        raise ValidationError(errors)
    infusion = InfusionRecord.objects.filter(visit=locked).first()
    if infusion is None or infusion.ended_at is None:
        raise ServiceError("Record the end of the infusion before signing.")
    signature = _save(VisitSignature(visit=locked, note=note.strip(), signed_by=nurse, signed_at=timezone.now()))
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
