"""Demonstration charts: past visits documented and signed, and one infusion in progress today for nurse1.

Rows are written directly (as a chart imported from history would be), following the same rules the services
enforce: vitals at every phase and on time, rates from the titration plan, lots in date, reactions graded. Each
past visit is then checked out and signed through the sign-off service, which refuses a chart that is not
finished. Idempotent: a visit that already has a chart is left alone.
"""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from patients.demo import demo_password
from patients.models import Patient
from visits.chart.infusion import vitals
from visits.chart.infusion.services import as_reading, dosing_weight_of, infusion_state, plan_snapshot
from visits.chart.signoff.services import visit_sign
from visits.models import (
    Addendum,
    Assessment,
    InfusionRecord,
    PreInfusionChecklist,
    PremedicationGiven,
    RateChange,
    Reaction,
    VialUsed,
    Visit,
    VisitEvent,
    VisitSignature,
    VisitVerification,
    VitalSigns,
)
from visits.orders.services import order_calculate

CHARTED_PAST_VISITS = 12
# The nurse leaves the home a few minutes after the last set of vitals, then signs from her car.
CHECK_OUT_AFTER_LAST_SET = timedelta(minutes=2)
SIGN_AFTER_CHECK_OUT = timedelta(minutes=3)
GAPS = (vitals.MISSING, vitals.LATE, vitals.OVERDUE)


def _vitals(visit, at, phase, nurse, *, temperature="36.8", pulse=76, systolic=124, diastolic=78, flags=()):
    VitalSigns.objects.create(
        visit=visit,
        taken_at=at,
        phase=phase,
        temperature_c=Decimal(temperature),
        pulse=pulse,
        systolic=systolic,
        diastolic=diastolic,
        respiratory_rate=16,
        spo2=97,
        pain=0,
        flags=list(flags),
        recorded_by=nurse,
    )


def _vitals_on_time(visit, nurse, until) -> None:
    """A set wherever the chart's due list finds one missing, late or overdue while infusing (up to ``until``), so
    the chart shows no gaps: every 15 min while titrating, every 30 min at the maximum rate (DESIGN §3)."""
    for _ in range(200):
        due = infusion_state(visit=visit, now=until).due
        gap = next(
            (item for item in due if item.phase in (vitals.TITRATION, vitals.MAXIMUM) and item.status in GAPS),
            None,
        )
        if gap is None:
            return
        on_time = gap.due_at if gap.due_at < gap.overdue_at else gap.overdue_at - timedelta(minutes=2)
        _vitals(visit, on_time, gap.phase, nurse, pulse=78)


def _lot(visit, index) -> str:
    return f"{visit.order.product.name[:3].upper()}{visit.planned_start:%y%m}{index:02d}"


def chart_visit(visit: Visit, *, reaction_grade: int | None = None, in_progress_until=None) -> None:
    """Document a visit the way a nurse would have, phase by phase."""
    nurse = visit.nurse
    patient = visit.patient
    calc = order_calculate(order=visit.order, weight=dosing_weight_of(visit))
    plan = calc.first_plan if visit.is_first_infusion else calc.later_plan
    arrived = visit.planned_start + timedelta(minutes=5)
    VisitVerification.objects.create(
        visit=visit,
        nurse=nurse,
        service=f"{visit.order.product.get_therapy_display()} infusion",
        checked_in_at=arrived,
        check_in_latitude=patient.latitude,
        check_in_longitude=patient.longitude,
        check_in_accuracy_m=12,
        check_in_distance_m=8,
        check_in_verified=True,
        version=1,
        updated_by=nurse,
    )
    PreInfusionChecklist.objects.create(
        visit=visit,
        identifiers_confirmed=True,
        kit_epinephrine=True,
        kit_diphenhydramine=True,
        kit_saline=True,
        kit_expires_on=timezone.localdate() + timedelta(days=200),
        no_fever_or_infection=True,
        premedications_given=bool(visit.order.premedications),
        completed_at=arrived + timedelta(minutes=15),
        version=1,
        updated_by=nurse,
    )
    if visit.order.premedications:
        for drug, dose in (("Acetaminophen", "650 mg"), ("Diphenhydramine", "25 mg")):
            PremedicationGiven.objects.create(
                visit=visit,
                drug=drug,
                dose=dose,
                route="PO",
                given_at=arrived + timedelta(minutes=10),
                recorded_by=nurse,
            )
    for index, (size, count) in enumerate(sorted(calc.vials.counts.items())):
        size_mg = int(Decimal(size) * (1000 if calc.vial_unit == "g" else 1))
        for copy in range(count):
            VialUsed.objects.create(
                visit=visit,
                product=visit.order.product,
                lot_number=_lot(visit, index),
                expires_on=visit.planned_start.date() + timedelta(days=300),
                size_mg=size_mg,
                recorded_by=nurse,
                recorded_at=arrived + timedelta(minutes=20, seconds=copy),
            )
    start = arrived + timedelta(minutes=25)
    _vitals(visit, start - timedelta(minutes=3), VitalSigns.Phase.BASELINE, nurse)
    record = InfusionRecord.objects.create(
        visit=visit, started_at=start, plan_snapshot=plan_snapshot(visit, plan), version=1, updated_by=nurse
    )
    stop_at = in_progress_until or start + timedelta(minutes=plan.total_infusion_minutes)
    previous = None
    for step in plan.steps:
        at = start + timedelta(minutes=step.offset_min)
        if at > stop_at:
            break
        kind = RateChange.Kind.START if previous is None else RateChange.Kind.INCREASE
        if previous is not None:
            phase = VitalSigns.Phase.MAXIMUM if step.at_maximum else VitalSigns.Phase.TITRATION
            _vitals(visit, at - timedelta(minutes=2), phase, nurse, pulse=78)
        RateChange.objects.create(visit=visit, at=at, kind=kind, rate_ml_per_hr=step.ml_per_hr, recorded_by=nurse)
        if reaction_grade and step.number == 3 and previous is not None:
            onset = at + timedelta(minutes=10)
            _vitals(visit, onset, VitalSigns.Phase.TITRATION, nurse, temperature="37.6", pulse=98)
            Reaction.objects.create(
                visit=visit,
                onset_at=onset,
                symptoms=["headache", "flushing"] if reaction_grade == 1 else ["chills", "rash or hives"],
                grade=reaction_grade,
                action=Reaction.Action.PREVIOUS_RATE if reaction_grade == 1 else Reaction.Action.PAUSED,
                medications_given="" if reaction_grade == 1 else "Diphenhydramine 25 mg PO",
                outcome="Resolved within 20 minutes; titration resumed as tolerated.",
                recorded_by=nurse,
                recorded_at=onset + timedelta(minutes=5),
            )
            RateChange.objects.create(
                visit=visit,
                at=onset + timedelta(minutes=2),
                kind=RateChange.Kind.DECREASE if reaction_grade == 1 else RateChange.Kind.PAUSE,
                rate_ml_per_hr=previous if reaction_grade == 1 else Decimal("0"),
                note="Reaction: back to the previous rate" if reaction_grade == 1 else "Reaction: paused",
                recorded_by=nurse,
            )
            if reaction_grade == 2:
                RateChange.objects.create(
                    visit=visit,
                    at=onset + timedelta(minutes=25),
                    kind=RateChange.Kind.RESUME,
                    rate_ml_per_hr=previous,
                    recorded_by=nurse,
                )
        previous = step.ml_per_hr
    _vitals_on_time(visit, nurse, stop_at)
    if in_progress_until is not None:
        visit.status = Visit.Status.INFUSING
        visit.save(update_fields=["status", "updated_at"])
        return
    record.ended_at = stop_at
    record.volume_infused_ml = visit.volume_ml
    record.save(update_fields=["ended_at", "volume_infused_ml"])
    RateChange.objects.create(visit=visit, at=stop_at, kind=RateChange.Kind.STOP, rate_ml_per_hr=0, recorded_by=nurse)
    _vitals(visit, stop_at, VitalSigns.Phase.END, nurse)
    _vitals(visit, stop_at + timedelta(minutes=30), VitalSigns.Phase.POST_30, nurse)
    # The observation is 30 or 60 min; these nurses stay for the 60-min set either way, then check out and sign.
    _vitals(visit, stop_at + timedelta(minutes=60), VitalSigns.Phase.POST_60, nurse)
    checked_out_at = stop_at + timedelta(minutes=60) + CHECK_OUT_AFTER_LAST_SET
    verification = visit.verification
    verification.checked_out_at = checked_out_at
    verification.check_out_latitude, verification.check_out_longitude = patient.latitude, patient.longitude
    verification.check_out_distance_m, verification.check_out_verified = 8, True
    verification.save()
    visit_sign(
        visit=visit,
        nurse=nurse,
        note="Tolerated the infusion. Site clean, no swelling. Patient knows whom to call for headache, stiff neck "
        "or leg swelling in the next three days.",
        password=demo_password(),
        now=checked_out_at + SIGN_AFTER_CHECK_OUT,
    )


@transaction.atomic
def seed_charts(users: dict) -> int:
    """Chart the most recent past visits of nurse1 and nurse2, with two graded reactions and an addendum."""
    now = timezone.now()
    charted = 0
    seed_visit_in_progress(users, now)
    if VisitSignature.objects.exists():
        return charted  # the history is charted already
    past = (
        Visit.objects.filter(status=Visit.Status.COMPLETED, nurse__isnull=False, planned_start__lt=now)
        .exclude(verifications__isnull=False)
        .select_related("order__product", "patient", "nurse")
        .order_by("-planned_start")[:CHARTED_PAST_VISITS]
    )
    reactions = [1, 2]  # a grade 1 stepped back to the previous rate, a grade 2 paused, on titrated IVIG
    for index, visit in enumerate(past):
        titrated = visit.order.product.rate_basis == visit.order.product.RateBasis.WEIGHT
        grade = reactions.pop(0) if reactions and titrated else None
        chart_visit(visit, reaction_grade=grade)
        charted += 1
        if index == 1:
            Addendum.objects.create(
                visit=visit,
                author=visit.nurse,
                written_at=visit.signature.signed_at + timedelta(hours=3),
                text="Called the patient in the evening: no headache, drinking well.",
            )
    return charted


def seed_visit_in_progress(users: dict, now) -> None:
    """nurse1 is in Maria Alvarez's living room: checked in, checklist done, infusion running."""
    nurse = users["nurse1"]
    patient = Patient.objects.get(mrn="MRN1001")
    if Visit.objects.filter(nurse=nurse, status=Visit.Status.INFUSING).exists():
        return
    order = patient.orders.filter(status="active").order_by("pk").first()
    template = order.visits.exclude(dose_mg=None).first()
    last_cycle = order.visits.order_by("-cycle_number").values_list("cycle_number", flat=True).first() or 0
    visit = Visit.objects.create(
        patient=patient,
        order=order,
        cycle_number=last_cycle + 1,
        day_number=1,
        nurse=nurse,
        planned_start=now - timedelta(minutes=100),
        planned_minutes=template.planned_minutes,
        infusion_minutes=template.infusion_minutes,
        dose_mg=template.dose_mg,
        volume_ml=template.volume_ml,
        status=Visit.Status.SCHEDULED,
    )
    VisitEvent.objects.create(visit=visit, kind=VisitEvent.Kind.ASSIGNED, by=users["coordinator"], detail="Demo data")
    chart_visit(visit, in_progress_until=now - timedelta(minutes=5))
    flag_one_set_and_assess_it(visit)


def flag_one_set_and_assess_it(visit: Visit) -> None:
    """Early in the titration a set ran a temperature of 38.2 °C: flagged, on the coordinator's queue for a day, and
    assessed by the nurse ("no reaction") so the titration went on. Later sets are normal, so no hold is open."""
    first = visit.vitals.filter(phase=VitalSigns.Phase.TITRATION).order_by("taken_at").first()
    if first is None:
        return
    reading = vitals.Reading(
        temperature_c=Decimal("38.2"),
        pulse=first.pulse,
        systolic=first.systolic,
        diastolic=first.diastolic,
        respiratory_rate=first.respiratory_rate,
        spo2=first.spo2,
        pain=first.pain,
    )
    baseline = visit.vitals.filter(phase=VitalSigns.Phase.BASELINE).first()
    first.temperature_c = reading.temperature_c
    first.flags = vitals.flags(reading, baseline=as_reading(baseline) if baseline else None)
    first.save(update_fields=["temperature_c", "flags"])
    Assessment.objects.create(
        visit=visit,
        assessed_at=first.taken_at + timedelta(minutes=4),
        finding=Assessment.Finding.NO_REACTION,
        note="Warm room and a hot drink; no chills or rash. Rechecked at 37.6 °C.",
        vitals=first,
        recorded_by=visit.nurse,
    )
