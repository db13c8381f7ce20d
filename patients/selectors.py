"""Reads that cross relations; they own the joins so query counts stay flat."""

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.shortcuts import get_object_or_404

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
        .select_related("user")
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
