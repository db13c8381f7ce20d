"""Reads that cross relations; they own the joins so query counts stay flat."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Count, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
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


RECENT_RECORDS = 10  # each dated list on the patient page shows its latest rows; the rest are a page away


@dataclass(frozen=True)
class Record:
    """A list of the patient page that grows with the patient's time in care: the relation it is read through (by
    name, so patients does not import visits), latest first, what a row shows beside its own fields, and how many
    rows the patient page shows."""

    relation: str
    ordering: tuple = ()
    joined: tuple = ()
    recent: int = RECENT_RECORDS


RECORDS = {
    "weights": Record("weights", ("-measured_on", "-recorded_at")),
    "creatinine": Record("lab_results", ("-collected_on", "-recorded_at")),
    "authorizations": Record("authorizations", ("-valid_to", "-pk")),
    "diagnoses": Record("diagnoses", ("-is_primary", "-pk")),
    "orders": Record("orders", ("-start_date", "-pk"), ("product",)),
    "outcomes": Record("outcome_measures", ("-measured_on", "-pk"), recent=40),  # their chart: about three years
    "alerts": Record("alert_handlings", (), ("acknowledged_by", "resolved_by")),  # the model's order: in hand first
}


@dataclass
class RecentRecords:
    """The latest rows of one list of the patient page and how many the whole list holds."""

    rows: list
    total: int

    @property
    def more(self) -> bool:
        return self.total > len(self.rows)


def patient_records(*, patient: Patient, section: str) -> QuerySet:
    """Every row of one of the patient page's lists, latest first (its own page shows them all, paged)."""
    record = RECORDS[section]
    rows = getattr(patient, record.relation).all().select_related(*record.joined)
    return rows.order_by(*record.ordering) if record.ordering else rows


def _related_model(relation: str):
    return Patient._meta.get_field(relation).related_model


def _total(record: Record) -> Coalesce:
    field = Patient._meta.get_field(record.relation).field.name
    rows = _related_model(record.relation).objects.filter(**{field: OuterRef("pk")}).order_by().values(field)
    return Coalesce(Subquery(rows.annotate(total=Count("pk")).values("total")), 0)


def patient_for_page(*, user, pk: int) -> Patient:
    """The patient with their care team and the size of each growing list as ``<section>_total``, in one query
    besides the care team's; 404 if not visible."""
    queryset = (
        Patient.objects.visible_to(user)
        .select_related("user", "home_located_by")
        .annotate(**{f"{key}_total": _total(record) for key, record in RECORDS.items()})
        .prefetch_related(CARE_TEAM)
    )
    return get_object_or_404(queryset, pk=pk)


def patient_page_records(*, patient: Patient) -> dict[str, RecentRecords]:
    """The latest rows of each growing list of a patient from ``patient_for_page``: one plain query per list (for
    one patient, a LIMIT is cheaper to build and to run than a windowed prefetch)."""
    return {
        key: RecentRecords(
            rows=list(patient_records(patient=patient, section=key)[: record.recent]),
            total=getattr(patient, f"{key}_total"),
        )
        for key, record in RECORDS.items()
    }


def patient_invitations(*, patient: Patient) -> list:
    return list(patient.invitations.all()[:RECENT_RECORDS])


def patient_visible(*, user, pk: int) -> Patient:
    """Only the patient's own row, for a page that shows one list of theirs; 404 if not visible."""
    return get_object_or_404(Patient.objects.visible_to(user), pk=pk)


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
    total = patient.visits.filter(planned_start__lt=_end_of_patients_day(patient)).count()
    return {"visits": list(visits[:size]), "total": total, "next_visit": upcoming.first()}
