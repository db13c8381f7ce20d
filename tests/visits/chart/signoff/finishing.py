"""Completing a visit the way a nurse does before she signs: every vital-sign set on time, then the check-out.

Tests that sign for another reason (the lock, the password, two tablets) start from a finished visit, so the
sign-off rule is met rather than waived.
"""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from visits.chart.checkin.services import visit_check_out
from visits.chart.infusion import vitals
from visits.chart.infusion.services import infusion_state
from visits.models import VisitVerification, VitalSigns

OWED = (vitals.MISSING, vitals.OVERDUE, vitals.DUE, vitals.LATE)


def take_vitals(visit, nurse, *, at, phase) -> VitalSigns:
    return VitalSigns.objects.create(
        visit=visit,
        taken_at=at,
        phase=phase,
        temperature_c=Decimal("36.8"),
        pulse=74,
        systolic=120,
        diastolic=78,
        respiratory_rate=16,
        spo2=97,
        pain=0,
        recorded_by=nurse,
    )


def _on_time(item: vitals.DueSet, state, now):
    """A moment inside the set's window: before the start for the baseline, else just before its deadline."""
    if item.phase == vitals.BASELINE:
        return (state.started_at or now) - timedelta(minutes=5)
    if item.due_at is not None and item.overdue_at is not None and item.due_at < item.overdue_at:
        at = item.due_at
    elif item.overdue_at is not None and item.phase in (vitals.TITRATION, vitals.MAXIMUM):
        at = item.overdue_at - timedelta(minutes=1)
    else:
        at = item.due_at or now
    return min(at, now)


def take_owed_vitals(visit, nurse, *, now=None) -> None:
    """Take, on time, every set the due list asks for by ``now`` (the post-infusion ones once their time came)."""
    now = now or timezone.now()
    for _ in range(100):
        state = infusion_state(visit=visit, now=now)
        owed = next((item for item in state.due if item.status in OWED), None)
        if owed is None:
            return
        take_vitals(visit, nurse, at=_on_time(owed, state, now), phase=owed.phase)
    raise AssertionError("the due list kept asking for sets")


def check_in_row(visit, nurse, *, at) -> VisitVerification:
    patient = visit.patient
    return VisitVerification.objects.create(
        visit=visit,
        nurse=nurse,
        service="IVIG infusion",
        checked_in_at=at,
        check_in_latitude=patient.latitude,
        check_in_longitude=patient.longitude,
        check_in_distance_m=10,
        check_in_verified=True,
        version=1,
        updated_by=nurse,
    )


def check_out(visit, nurse, *, at=None) -> VisitVerification:
    """Check out through the service (checking in first when the test's visit never did)."""
    at = at or timezone.now()
    if visit.verification is None:
        check_in_row(visit, nurse, at=visit.planned_start - timedelta(minutes=10))
    return visit_check_out(
        visit=visit, nurse=nurse, at=at, latitude=visit.patient.latitude, longitude=visit.patient.longitude
    )


def finish_visit(visit, nurse=None, *, now=None):
    """Every vital-sign set taken on time and the check-out recorded: what sign-off needs besides the clock."""
    nurse = nurse or visit.nurse
    take_owed_vitals(visit, nurse, now=now)
    check_out(visit, nurse, at=now)
    return visit
