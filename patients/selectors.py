"""Reads that cross relations; they own the joins so query counts stay flat."""

from datetime import datetime, time, timedelta

from django.db.models import Count, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone

from patients.models import CareTeamMember, Patient, WeightMeasurement

CARE_TEAM = Prefetch("care_team_members", queryset=CareTeamMember.objects.select_related("nurse"))


def latest_weight_subquery(field: str = "weight_kg") -> Subquery:
    latest = WeightMeasurement.objects.filter(patient=OuterRef("pk")).order_by("-measured_on", "-recorded_at")
    return Subquery(latest.values(field)[:1])


def patient_list(*, user, query: str = "") -> QuerySet[Patient]:
    return (
        Patient.objects.visible_to(user)
        .search(query)
        .annotate(latest_weight_kg=latest_weight_subquery(), latest_weight_on=latest_weight_subquery("measured_on"))
        .prefetch_related(CARE_TEAM)
    )


def patient_for_page(*, user, pk: int) -> Patient:
    """The patient with everything their page shows, in a fixed number of queries; 404 if not visible."""
    queryset = (
        Patient.objects.visible_to(user)
        .select_related("user", "home_located_by")
        .prefetch_related(
            "diagnoses",
            "weights",
            "lab_results",
            "authorizations",
            "invitations",
            "orders__product",
            "outcome_measures",
            CARE_TEAM,
        )
    )
    return get_object_or_404(queryset, pk=pk)


def own_record(*, user) -> Patient:
    """A portal user's own patient record, with their care team; 404 if none is linked."""
    queryset = Patient.objects.visible_to(user).prefetch_related(CARE_TEAM)
    return get_object_or_404(queryset, user=user)


VISIT_HISTORY_SIZE = 20  # the patient page shows the most recent; the rest are a page away


def _end_of_patients_day(patient: Patient):
    today = timezone.localtime(timezone.now(), patient.zone).date()
    return datetime.combine(today + timedelta(days=1), time.min, tzinfo=patient.zone)


def patient_visits(*, patient: Patient) -> QuerySet:
    """The patient's visit history, latest first: every visit up to the end of their today, with what a row shows
    (therapy, nurse, status and reactions).

    Reached through the reverse relation, so patients does not import visits (DESIGN §2).
    """
    return (
        patient.visits.filter(planned_start__lt=_end_of_patients_day(patient))
        .select_related("order__product", "nurse")
        .annotate(
            reaction_count=Count("reactions", distinct=True),
            delayed_reaction_count=Count("reactions", filter=Q(reactions__is_delayed=True), distinct=True),
            worst_reaction_grade=Max("reactions__grade"),
        )
        .order_by("-planned_start", "-pk")
    )


def patient_visit_history(*, patient: Patient, size: int = VISIT_HISTORY_SIZE) -> dict:
    """The most recent ``size`` visits of the history, how many it holds, and the next planned visit after today
    (three queries at any size)."""
    visits = patient_visits(patient=patient)
    upcoming = (
        patient.visits.filter(planned_start__gte=_end_of_patients_day(patient), status="scheduled")
        .select_related("order__product", "nurse")
        .order_by("planned_start")
    )
    return {"visits": list(visits[:size]), "total": visits.count(), "next_visit": upcoming.first()}
