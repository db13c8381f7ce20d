"""Context for the chart's "infusion" and "vitals" sections, and the "what is next" strip above them.

``bound`` is a dict of the forms posted with errors ({"start": form, "change": form, "end": form, "vitals": form}),
shown again with their messages.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from visits.chart.infusion import vitals
from visits.chart.infusion.forms import AssessmentForm, EndForm, RateChangeForm, StartForm, VitalsForm
from visits.chart.infusion.services import SHORT_REASONS, InfusionState, infusion_state, local_hhmm, rate_text
from visits.chart.state import chart_state
from visits.models import RateChange, Visit, VisitSignature, VitalSigns

STATUS_CSS = {
    vitals.DONE: "success",
    vitals.UPCOMING: "secondary",
    vitals.DUE: "warning",
    vitals.OVERDUE: "danger",
    vitals.LATE: "danger",
    vitals.MISSING: "danger",
}
STATUS_WORDS = {
    vitals.DONE: "taken",
    vitals.UPCOMING: "to come",
    vitals.DUE: "due now",
    vitals.OVERDUE: "overdue",
    vitals.LATE: "late",
    vitals.MISSING: "missing",
}


@dataclass(frozen=True)
class DueRow:
    item: vitals.DueSet
    when: str  # in words, local time

    @property
    def css(self) -> str:
        return STATUS_CSS[self.item.status]

    @property
    def status_words(self) -> str:
        return STATUS_WORDS[self.item.status]


def _due_rows(state: InfusionState) -> list[DueRow]:
    visit = state.visit
    rows = []
    for item in state.due:
        hhmm = lambda moment: local_hhmm(moment, visit)  # noqa: E731
        if item.status == vitals.DONE:
            when = f"taken {hhmm(item.taken_at)}"
        elif item.status == vitals.LATE:
            when = f"by {hhmm(item.overdue_at)}; the next set came only at {hhmm(item.taken_at)}"
        elif item.status == vitals.MISSING:
            when = f"by {hhmm(item.overdue_at)}; none taken" if item.overdue_at else "none taken"
        elif item.due_at is None and item.overdue_at is None:
            when = "before the start" if item.phase == vitals.BASELINE else "after the infusion ends"
        elif item.due_at == item.overdue_at or item.due_at is None:
            when = f"by {hhmm(item.overdue_at)}"
        else:
            when = f"{hhmm(item.due_at)}–{hhmm(item.overdue_at)}"
        rows.append(DueRow(item, when))
    return rows


def _suggested_phase(state: InfusionState, due: list[vitals.DueSet]) -> str:
    pending = vitals.first_needing_action(due) or vitals.next_upcoming(due)
    if pending is not None:
        return pending.phase
    if state.started_at is None:
        return VitalSigns.Phase.BASELINE
    if state.ended_at is not None:
        return VitalSigns.Phase.POST_30
    return VitalSigns.Phase.MAXIMUM if state.at_maximum else VitalSigns.Phase.TITRATION


def _chart_data(state: InfusionState) -> dict:
    sets = state.sets
    number = lambda value: None if value is None else float(value)  # noqa: E731
    return {
        "labels": [local_hhmm(s.taken_at, state.visit) for s in sets],
        "phases": [s.get_phase_display() for s in sets],
        "temperature": [number(s.temperature_c) for s in sets],
        "pulse": [s.pulse for s in sets],
        "systolic": [s.systolic for s in sets],
        "diastolic": [s.diastolic for s in sets],
        "respiratory_rate": [s.respiratory_rate for s in sets],
        "spo2": [s.spo2 for s in sets],
    }


@dataclass(frozen=True)
class QuickAction:
    """One tap at the pump: a hidden-field form of the rate-change endpoint. An early raise is not one tap: it
    opens to ask for the reason (``needs_reason``)."""

    label: str
    kind: str
    rate: Decimal | None
    css: str
    needs_reason: bool = False


def _quick_actions(state: InfusionState, hold) -> list[QuickAction]:
    """The pump's next moves as buttons. While a warning sign waits for its assessment, no raise or resume is
    offered; slowing, pausing and stopping stay one tap."""
    if state.ended_at is not None or not state.changes:
        return []
    actions = []
    if state.is_running:
        upcoming = state.next_increase
        if upcoming is not None and hold is None:
            early = state.now < upcoming.at
            label = f"Raise to {rate_text(upcoming.ml_per_hr)} now"
            if early:  # the plan's interval has not passed yet: say so on the button itself
                label += f" (planned {local_hhmm(upcoming.at, state.visit)})…"
            css = "outline-primary" if early else "primary"
            actions.append(QuickAction(label, RateChange.Kind.INCREASE, upcoming.ml_per_hr, css, needs_reason=early))
        previous = state.previous_rate
        if previous is not None:
            actions.append(
                QuickAction(f"Back to {rate_text(previous)} now", RateChange.Kind.DECREASE, previous, "outline-warning")
            )
        actions.append(QuickAction("Pause now", RateChange.Kind.PAUSE, None, "outline-secondary"))
    elif state.is_held and hold is None:
        resume = state.rate_before_hold
        if resume is not None:
            actions.append(QuickAction(f"Resume at {rate_text(resume)} now", RateChange.Kind.RESUME, resume, "primary"))
    return actions


def context(*, visit, user, bound=None, now: datetime | None = None) -> dict:
    bound = bound if isinstance(bound, dict) else {}
    state = infusion_state(visit=visit, now=now) if now else chart_state(visit).infusion
    due = state.due
    upcoming = state.next_increase
    start_form = bound.get("start") or StartForm(visit=visit, initial={"rate_ml_per_hr": state.start_rate})
    change_form = bound.get("change") or RateChangeForm(
        visit=visit,
        initial={
            "kind": RateChange.Kind.INCREASE,
            "rate_ml_per_hr": upcoming.ml_per_hr if upcoming else None,
            "version": state.version,
        },
    )
    end_form = bound.get("end") or EndForm(
        visit=visit, initial={"volume_infused_ml": visit.volume_ml, "version": state.version}
    )
    vitals_form = bound.get("vitals") or VitalsForm(
        visit=visit, initial={"phase": _suggested_phase(state, due), "temperature_unit": vitals.CELSIUS}
    )
    latest = state.sets[-1] if state.sets else None
    hold = state.hold
    assessment_form = bound.get("assessment") or AssessmentForm(
        visit=visit, initial={"finding": hold.finding if hold else ""}
    )
    return {
        "hold": hold,
        "assessment_form": assessment_form,
        "assessments": state.assessments,
        "state": state,
        "plan": state.plan,
        "planned_steps": state.planned_steps,
        "changes": state.changes,
        "quick_actions": _quick_actions(state, hold),
        "next_increase": upcoming,
        "start_form": start_form,
        "change_form": change_form,
        "end_form": end_form,
        "vitals_form": vitals_form,
        "due_rows": _due_rows(state),
        "gaps": [item for item in due if item.is_gap],
        "vital_sets": state.sets,
        "flagged_latest": latest if latest is not None and latest.flags else None,
        "short_reasons": SHORT_REASONS,
        "chart_data": _chart_data(state),
        "chart_data_id": f"vitals-chart-data-{visit.pk}",
        "oob": bool(bound.get("oob")),
        "locked": visit.status
        not in (
            Visit.Status.SCHEDULED,
            Visit.Status.CHECKED_IN,
            Visit.Status.INFUSING,
            Visit.Status.OBSERVING,
            Visit.Status.COMPLETED,
        ),
    }


# --- what is next ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    text: str
    detail: str = ""
    anchor: str = ""  # the section to go to
    tone: str = "primary"


def next_step(*, visit: Visit, now: datetime | None = None) -> NextStep:
    """One sentence from the visit's state: what the nurse does next (issue 4, item 2)."""
    status = visit.status
    if status == Visit.Status.SIGNED:
        signature = VisitSignature.objects.filter(visit=visit).first()
        when = f" at {local_hhmm(signature.signed_at, visit)}" if signature else ""
        return NextStep(f"Signed{when}", "The chart is locked; corrections are addenda.", "section-signoff", "success")
    if status in (Visit.Status.CANCELLED, Visit.Status.MISSED):
        return NextStep(f"This visit is {visit.get_status_display().lower()}", visit.status_reason, "", "secondary")
    if status == Visit.Status.SCHEDULED:
        return NextStep("Check in", "Record your arrival at the home.", "section-checkin")
    if status == Visit.Status.COMPLETED:
        return NextStep("Sign the chart", "Write the note and sign.", "section-signoff")
    state = infusion_state(visit=visit, now=now) if now else chart_state(visit).infusion
    now = state.now
    due = state.due
    hhmm = lambda moment: local_hhmm(moment, visit)  # noqa: E731
    if status == Visit.Status.CHECKED_IN:
        if state.checklist_completed_at is None:
            return NextStep("Complete the checklist", "Every hard stop passes or has a reason.", "section-checklist")
        if state.baseline is None or state.baseline.spo2 is None:
            return NextStep("Take baseline vitals with SpO₂", "Before the start.", "section-vitals")
        if state.start_rate is None:
            return NextStep("No titration plan", state.plan_problem, "section-infusion", "danger")
        return NextStep(
            f"Start at {rate_text(state.start_rate)}",
            f"Maximum {rate_text(state.max_ml_per_hr)} ({state.plan.max_reason}).",
            "section-infusion",
        )
    hold = state.hold if status == Visit.Status.INFUSING else None
    if hold is not None:
        return NextStep(
            hold.text[:1].upper() + hold.text[1:],
            "Record the assessment in Vital signs. Slowing, pausing and stopping stay open.",
            "section-vitals",
            "danger",
        )
    pending = vitals.first_needing_action(due)
    if pending is not None:
        if pending.status == vitals.OVERDUE:
            detail = f"{pending.label}: overdue since {hhmm(pending.overdue_at)}."
        else:
            detail = f"{pending.label}" + (f", by {hhmm(pending.overdue_at)}." if pending.overdue_at else ".")
        return NextStep(
            "Vitals due now", detail, "section-vitals", "danger" if pending.status == vitals.OVERDUE else "warning"
        )
    upcoming_set = vitals.next_upcoming(due)
    next_vitals = f"Next vitals by {hhmm(upcoming_set.overdue_at or upcoming_set.due_at)}." if upcoming_set else ""
    if status == Visit.Status.INFUSING:
        if state.is_held:
            last = state.last_change
            resume = state.rate_before_hold
            action = f"resume at {rate_text(resume)} or end the infusion" if resume else "resume or end the infusion"
            return NextStep(
                f"{'Stopped' if last.kind == RateChange.Kind.STOP else 'Paused'} since {hhmm(last.at)}: {action}",
                next_vitals,
                "section-infusion",
                "warning",
            )
        upcoming = state.next_increase
        if upcoming is not None:
            return NextStep(
                f"Raise to {rate_text(upcoming.ml_per_hr)} at {hhmm(upcoming.at)} after vitals",
                next_vitals,
                "section-infusion",
            )
        ends = f" until about {hhmm(state.planned_end)}" if state.planned_end else ""
        where = "at the maximum rate" if state.at_maximum else "at this rate"
        return NextStep(
            f"Continue {where}, {rate_text(state.current_rate)}{ends}", next_vitals, "section-infusion", "success"
        )
    # Observing: DESIGN §3, 60 min after a first infusion and 30 after later ones.
    until = state.observe_until
    if until is not None and now < until:
        which = "a first infusion" if visit.is_first_infusion else "a later infusion"
        return NextStep(
            f"Observe until {hhmm(until)} ({state.observation_minutes} min after {which})",
            next_vitals,
            "section-vitals",
        )
    verification = chart_state(visit).verification
    if verification is None or verification.checked_out_at is None:
        return NextStep(
            "Check out, then sign",
            "Observation is over: check out of the home, then write the note and sign.",
            "section-checkin",
        )
    return NextStep(
        "Sign the chart", "Observation is over and you have checked out: write the note and sign.", "section-signoff"
    )
