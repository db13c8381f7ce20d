"""Context for the chart sections "reactions", "signoff" and "outcomes".

One module serves three sections, and ``context()`` does not know which one asks: everything is read lazily, so
each section's template pays only for the queries it uses.
"""

from dataclasses import dataclass
from functools import cached_property

from django.core.exceptions import ValidationError

from visits.chart.rules import OPEN_STATUSES
from visits.chart.signoff.forms import AddendumForm, OutcomeForm, ReactionForm, SignForm, waiver_field_name
from visits.chart.signoff.services import (
    CHECK_OUT,
    GRADE_MEANINGS,
    INFUSION_ENDED,
    OBSERVATION,
    SEVERE_GRADE,
    SYMPTOMS,
    VITALS,
    Missing,
    may_add_addendum,
    observation_for,
    outcome_for_cycle,
    step_back_rates,
)
from visits.chart.state import chart_state
from visits.models import Reaction, VisitSignature

# Where each missing item is put right: the chart section (or, for the observation, the block above the form).
MISSING_ANCHORS = {
    INFUSION_ENDED: "section-infusion",
    OBSERVATION: "observation",
    VITALS: "section-vitals",
    CHECK_OUT: "section-checkin",
}


@dataclass(frozen=True)
class MissingRow:
    """One missing item on the sign-off form: its words, where to go, and its waiver reason field."""

    item: Missing
    anchor: str
    waiver: object  # the form's bound field

    @property
    def dom_id(self) -> str:
        return f"signoff-missing-{self.item.code}"


class SignoffChart:
    """What the three sections show, read on first use."""

    def __init__(self, *, visit, user, bound):
        self.visit = visit
        self.user = user
        self.bound = bound or {}
        self.zone = visit.patient.zone
        self.chart = chart_state(visit)
        self.now = self.chart.now

    @cached_property
    def editable(self) -> bool:
        return self.visit.status in OPEN_STATUSES

    def _form(self, key, form_class, **kwargs):
        return self.bound.get(key) or form_class(**kwargs)

    # --- reactions ---

    @cached_property
    def reactions(self) -> list[dict]:
        rows = []
        for reaction in Reaction.objects.filter(visit=self.visit):
            rows.append(
                {
                    "reaction": reaction,
                    "symptoms": [
                        (reaction.other_symptom or SYMPTOMS[key]) if key == "other" else SYMPTOMS.get(key, key)
                        for key in reaction.symptoms
                    ],
                    "meaning": GRADE_MEANINGS.get(reaction.grade, ""),
                    "severe": (reaction.grade or 0) >= SEVERE_GRADE,
                }
            )
        return rows

    @cached_property
    def reaction_form(self):
        return self._form("reaction", ReactionForm, zone=self.zone, initial={"onset_at": self.now})

    @cached_property
    def step_back(self):
        """The rate "back to the previous rate" would return to, or None when there is none."""
        try:
            return step_back_rates(self.chart.infusion.changes)
        except ValidationError:  # no step back is possible now: the hint is simply not shown
            return None

    grade_meanings = GRADE_MEANINGS
    severe_grade = SEVERE_GRADE

    # --- observation, note, signature and addenda ---

    @cached_property
    def infusion(self):
        return self.chart.infusion.record

    @cached_property
    def observation(self):
        return observation_for(self.visit, self.infusion)

    @cached_property
    def observation_minutes_left(self):
        return self.observation.minutes_left(self.now)

    @cached_property
    def signature(self):
        return VisitSignature.objects.filter(visit=self.visit).select_related("signed_by").first()

    @cached_property
    def addenda(self):
        return list(self.visit.addenda.select_related("author"))

    @cached_property
    def missing(self) -> list[Missing]:
        return self.chart.signoff_missing

    @cached_property
    def sign_form(self):
        return self._form("sign", SignForm, missing=self.missing)

    @cached_property
    def missing_rows(self) -> list[MissingRow]:
        """The items the form was built for (after a refused post, those checked at that post)."""
        form = self.sign_form
        return [
            MissingRow(item, MISSING_ANCHORS.get(item.code, "section-signoff"), form[waiver_field_name(item.code)])
            for item in form.missing
        ]

    @cached_property
    def checked_out_at(self):
        verification = self.chart.verification
        return verification.checked_out_at if verification else None

    @cached_property
    def waivers(self) -> list[dict]:
        """What was waived at signing, as printed on the record (``item``, ``reason``)."""
        if self.signature is None:
            return []
        return [waiver for _code, waiver in sorted(self.signature.waivers.items())]

    @cached_property
    def addendum_form(self):
        return self._form("addendum", AddendumForm)

    @cached_property
    def may_add_addendum(self) -> bool:
        return may_add_addendum(self.visit, self.user)

    # --- outcome measures ---

    @cached_property
    def outcome(self):
        return outcome_for_cycle(self.visit)

    @cached_property
    def outcome_form(self):
        return self._form("outcome", OutcomeForm)


def context(*, visit, user, bound=None) -> dict:
    return {"signoff": SignoffChart(visit=visit, user=user, bound=bound)}
