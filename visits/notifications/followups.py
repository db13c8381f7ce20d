"""Follow-up questions after an IVIG cycle (DESIGN §3, delayed reactions after IVIG).

48 hours after the last infusion of a cycle the patient is asked about the signs of aseptic
meningitis, kidney injury, blood clots and haemolysis (24–72 h); on day 10 about the eczematous
reaction (day 7–14). A "yes" becomes a delayed reaction on that visit, where its lots are
recorded, and alerts the coordinator at once; no answer within 24 hours becomes a call on the
alert queue.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from visits.alerts.background import visit_ended_at
from visits.chart.rules import notify_at_once
from visits.models import FollowUp, Reaction, Therapy, Visit, VisitVerification, visit_ended_within


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    meaning: str  # for the clinician reading the answer
    emergency: bool = False


EARLY_QUESTIONS = [
    Question(
        "meningitis",
        "A bad headache, a stiff neck, fever, or eyes that hurt in bright light",
        "headache, stiff neck, fever or light sensitivity (aseptic meningitis?)",
    ),
    Question(
        "kidneys",
        "Passing much less urine than usual, or new swelling of the face, hands or feet",
        "less urine or swelling (kidneys?)",
    ),
    Question(
        "clot",
        "Swelling or pain in one leg, chest pain, or being short of breath",
        "leg swelling, chest pain or breathlessness (blood clot?)",
        emergency=True,
    ),
    Question("haemolysis", "Dark urine, the colour of tea or cola", "dark urine (haemolysis?)"),
]
LATE_QUESTIONS = [
    Question(
        "eczema",
        "Small itchy blisters on the palms of your hands or the soles of your feet, or an itchy rash that is spreading",
        "itchy blisters on palms or soles, spreading (eczematous reaction?)",
    ),
]
QUESTIONS = {FollowUp.Window.EARLY: EARLY_QUESTIONS, FollowUp.Window.LATE: LATE_QUESTIONS}
OTHER = Question("other", "Anything else new since the infusion that worries you", "other new symptom")

AFTER_INFUSION = {FollowUp.Window.EARLY: timedelta(hours=48), FollowUp.Window.LATE: timedelta(days=10)}
# Past these, asking is no longer useful (DESIGN: 24–72 h and day 7–14).
STILL_WORTH_ASKING = {FollowUp.Window.EARLY: timedelta(hours=24), FollowUp.Window.LATE: timedelta(days=4)}
LOOK_BACK = timedelta(days=15)
# More cycles changed since the last sweep than this (an import, a bulk edit) and the sweep derives them all.
CHANGED_CYCLES_AT_MOST = 200
FOLLOW_UP_WHEN = {
    FollowUp.Window.EARLY: "48 hours after the infusion",
    FollowUp.Window.LATE: "on day 10 after the infusion",
}


def questions_for(follow_up: FollowUp) -> list[Question]:
    return [*QUESTIONS[follow_up.window], OTHER]


def cycle_end_visits(*, now: datetime):
    """IVIG visits of the last 15 days that were given, and were the last day of their cycle."""
    later_day = Visit.objects.active().filter(
        order=OuterRef("order"), cycle_number=OuterRef("cycle_number"), day_number__gt=OuterRef("day_number")
    )
    return (
        Visit.objects.filter(
            order__product__therapy=Therapy.IVIG,
            status__in=[Visit.Status.COMPLETED, Visit.Status.SIGNED],
            planned_start__gte=now - LOOK_BACK,
            planned_start__lt=now,
        )
        .exclude(Exists(later_day))
        .select_related("patient")
        .prefetch_related("verifications")
    )


def open_follow_ups(*, patient, now: datetime) -> list[FollowUp]:
    """Questions the patient can still answer (until the window's end), oldest first."""
    return [
        follow_up
        for follow_up in FollowUp.objects.filter(
            visit__patient=patient, answered_at=None, called_at=None, due_at__lte=now
        ).order_by("due_at", "pk")
        if now < follow_up.due_at + STILL_WORTH_ASKING[follow_up.window] + timedelta(days=3)
    ]


def changed_cycles(since: datetime) -> set[tuple[int, int]]:
    """(order, cycle) of the visits whose row or check-in record was saved after ``since``, at most one more than
    ``CHANGED_CYCLES_AT_MOST``; two index reads."""
    limit = CHANGED_CYCLES_AT_MOST + 1
    saved = Visit.objects.filter(updated_at__gt=since).values_list("order_id", "cycle_number")[:limit]
    checked = VisitVerification.objects.filter(updated_at__gt=since).values_list(
        "visit__order_id", "visit__cycle_number"
    )
    return {*saved, *checked[:limit]}


def follow_ups_create_due(*, now: datetime, since: datetime | None = None) -> None:
    """Open the questionnaires that have fallen due (an existing one is left as it is); with ``since``, only for
    visits that reached 48 hours or day 10 after it, or whose cycle's visits changed after it."""
    visits = cycle_end_visits(now=now)
    if since is not None:
        reached = Q()
        for after in AFTER_INFUSION.values():
            reached |= visit_ended_within(since - after, now - after)
        # The cycles with a visit saved since, read first: as a subquery per candidate visit the planner ran it
        # over every visit of the agency (11.6 s at 10,000 patients).
        cycles = changed_cycles(since)
        if len(cycles) <= CHANGED_CYCLES_AT_MOST:  # more is a bulk change: every visit is derived, as in a full run
            for order_id, cycle_number in cycles:
                reached |= Q(order_id=order_id, cycle_number=cycle_number)
            visits = visits.filter(reached)
    rows = []
    for visit in visits:
        ended = visit_ended_at(visit)
        for window, after in AFTER_INFUSION.items():
            due = ended + after
            if due <= now < due + STILL_WORTH_ASKING[window]:
                rows.append(FollowUp(visit=visit, window=window, due_at=due))
    FollowUp.objects.bulk_create(rows, ignore_conflicts=True)


class FollowUpError(Exception):
    pass


@dataclass
class Answered:
    positive: bool
    emergency: bool


def _onset(follow_up: FollowUp, started_on: date | None, now: datetime) -> datetime:
    if started_on is None:
        return now
    moment = datetime.combine(started_on, time(12, 0), tzinfo=follow_up.visit.patient.zone)
    return min(max(moment, follow_up.visit.planned_start), now)


def follow_up_answer(
    *, follow_up: FollowUp, answers: dict[str, bool], note: str, started_on: date | None, by
) -> Answered:
    """Record the patient's answers once; a "yes" becomes a delayed reaction on the visit and alerts at once."""
    now = timezone.now()
    questions = questions_for(follow_up)
    missing = [question.text for question in questions if question.key not in answers]
    if missing:
        raise FollowUpError("Answer every question (yes or no).")
    if answers.get(OTHER.key) and not note.strip():
        raise FollowUpError("Tell us in a few words what else is new.")
    yes = [question for question in questions if answers[question.key]]
    with transaction.atomic():
        claimed = FollowUp.objects.filter(pk=follow_up.pk, answered_at=None).update(
            answered_at=now,
            answers={question.key: bool(answers[question.key]) for question in questions},
            positive=bool(yes),
        )
        if not claimed:
            raise FollowUpError("These questions were already answered. Thank you.")
        if yes:
            emergency = any(question.emergency for question in yes)
            summary = "; ".join(question.meaning for question in yes)
            reaction = Reaction.objects.create(
                visit=follow_up.visit,
                onset_at=_onset(follow_up, started_on, now),
                symptoms=["other"],
                other_symptom=summary[:200],
                is_delayed=True,
                outcome=(
                    f"Reported by the patient when asked {FOLLOW_UP_WHEN[follow_up.window]}"
                    + ("; told to seek emergency care now" if emergency else "")
                    + (f". Patient's words: {note.strip()}" if note.strip() else ".")
                ),
                recorded_by=by,
                recorded_at=now,
            )
            FollowUp.objects.filter(pk=follow_up.pk).update(reaction=reaction)
            notify_at_once("delayed_reaction")
            return Answered(positive=True, emergency=emergency)
    return Answered(positive=False, emergency=False)
