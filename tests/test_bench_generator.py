"""The generated agency of `make bench` (visits/bench/generator.py) is data the product could have written: every
visit's nurse on the patient's care team, documented visits charted at every phase, and counts that follow the
scale, so a page measured on it measures what a real agency of that size would cost."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.test import Client, override_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from patients.models import CareTeamMember, Patient
from tests.conftest import client_for
from visits.bench.generator import CHARTED, HISTORY_DAYS, HORIZON_DAYS, Size, generate_agency, team_model
from visits.models import (
    InfusionRecord,
    Notification,
    TherapyOrder,
    Visit,
    VisitSignature,
    VisitVerification,
    VitalSigns,
)

TINY = 0.0008  # 8 patients, 2 nurses, 1 coordinator: about 270 visits


@pytest.fixture
def agency(db):
    """The agency, generated as of now (returned): a loaded machine may take minutes over it."""
    now = timezone.now()
    generate_agency(scale=TINY, now=now, say=lambda message: None)
    return now


def test_sizes_follow_the_scale():
    assert Size.at(1.0) == Size(patients=10_000, nurses=150, coordinators=8, teams=10)
    assert Size.at(0.1) == Size(patients=1_000, nurses=15, coordinators=1, teams=10)
    assert Size.at(0.01).patients == 100
    assert Size.at(0.0001) == Size(patients=4, nurses=2, coordinators=1, teams=2)


def test_every_visit_nurse_is_on_the_patients_care_team(agency):
    staffed = Visit.objects.exclude(nurse=None)
    on_team = CareTeamMember.objects.filter(patient=OuterRef("patient"), nurse=OuterRef("nurse"))
    assert staffed.count() > 200
    assert staffed.filter(~Exists(on_team)).count() == 0
    # Only visits still to come wait for a nurse.
    assert not Visit.objects.filter(nurse=None).exclude(status=Visit.Status.SCHEDULED).exists()


def test_documented_visits_are_charted_at_every_phase(agency):
    signed = Visit.objects.filter(status=Visit.Status.SIGNED)
    assert signed.count() > 100
    phases = {
        visit_id: set(phases) for visit_id, phases in _phases_by_visit(signed.values_list("pk", flat=True)).items()
    }
    wanted = {"baseline", "end", "post_30", "post_60"}
    assert set(phases) == set(signed.values_list("pk", flat=True)), "a signed visit without vital signs"
    assert all(wanted <= found for found in phases.values())
    assert VisitSignature.objects.filter(visit__in=signed).count() == signed.count()
    assert VisitVerification.objects.filter(visit__in=signed, checked_out_at__isnull=False).count() == signed.count()
    assert not InfusionRecord.objects.filter(visit__in=signed, ended_at=None).exists()
    # Frozen plans and the order's dose basis are there, as the infusion start service leaves them.
    assert not InfusionRecord.objects.filter(visit__in=signed, plan_snapshot=None).exists()
    assert not TherapyOrder.objects.filter(calculated_from_weight_kg=None).exists()


def test_some_visits_are_infusing_now_and_not_yet_ended(agency):
    infusing = Visit.objects.filter(status=Visit.Status.INFUSING)
    assert infusing.exists()
    now = agency
    for visit in infusing:
        assert visit.planned_start < now
        assert visit.infusion.ended_at is None
        assert visit.vitals.filter(phase="baseline").exists()
        assert not visit.vitals.filter(phase="end").exists()
        assert not visit.vitals.filter(taken_at__gt=now).exists()
    assert not Visit.objects.filter(status=Visit.Status.SCHEDULED, planned_start__lt=now).exists()
    assert not Visit.objects.filter(status__in=CHARTED, planned_start__gt=now).exists()


def test_six_months_of_history_and_the_coming_weeks(agency):
    today = timezone.localdate()
    first, last = (Visit.objects.order_by(field).first().planned_start for field in ("planned_start", "-planned_start"))
    # Eight patients fill only part of the 28-day cycle grid, so the first visit may fall a cycle in.
    assert today - timedelta(days=HISTORY_DAYS + 1) <= first.date() <= today - timedelta(days=HISTORY_DAYS - 28)
    assert today + timedelta(days=HORIZON_DAYS - 3) <= last.date() <= today + timedelta(days=HORIZON_DAYS + 1)
    assert Visit.objects.filter(status=Visit.Status.SCHEDULED, planned_start__date__gt=today).count() >= 5


def test_counts_are_proportional_to_the_scale(db):
    def rows_at(scale):
        with transaction.atomic():
            counts = generate_agency(scale=scale, say=lambda message: None)
            transaction.set_rollback(True)
        return counts

    small, triple = rows_at(TINY), rows_at(TINY * 3)
    assert (small["patients.Patient"], triple["patients.Patient"]) == (8, 24)
    # (The nurses' agendas are not among them: a tiny agency still has two nurses.)
    for model in ("visits.Visit", "visits.VitalSigns", "visits.VialUsed", "visits.FollowUp", "auditlog.LogEntry"):
        ratio = triple[model] / small[model]
        assert 2.6 <= ratio <= 3.4, f"{model}: {small[model]} at {TINY}, {triple[model]} at three times that"
    # About 30 visits a patient in six months plus three weeks ahead, as the agency has (300,000 / 10,000).
    assert 28 <= small["visits.Visit"] / small["patients.Patient"] <= 40
    assert small["visits.VitalSigns"] / small["visits.InfusionRecord"] >= 6


def test_reminders_and_audit_entries_are_written(agency):
    assert Notification.objects.filter(kind=Notification.Kind.VISIT_REMINDER).exists()
    assert Notification.objects.exclude(failed_at=None).count() < Notification.objects.count() / 10
    portal_patients = Patient.objects.exclude(user=None).count()
    assert 0 < portal_patients < Patient.objects.count()
    per_patient = Visit.objects.values("patient").annotate(n=Count("pk")).order_by("n")
    assert per_patient.first()["n"] >= 20


def test_teams_hold_every_nurse_when_the_agency_has_teams(agency):
    Team = team_model()
    if Team is None:
        pytest.skip("patients.Team is not in this tree")
    assert Team.objects.count() == Size.at(TINY).teams
    nurses = Visit.objects.exclude(nurse=None).values_list("nurse", flat=True).distinct()
    assert set(Team.members.through.objects.values_list("user_id", flat=True)) >= set(nurses)


@override_settings(ROOT_URLCONF="visits.bench.urls")
def test_the_bare_view_is_the_benchs_own_and_signed_in_only(cast):
    assert client_for(cast.coordinator).get("/bench/bare/").content == b"ok"
    assert Client().get("/bench/bare/").status_code == 302


def test_the_bare_view_is_not_a_product_url():
    with pytest.raises(NoReverseMatch):
        reverse("bench_bare")


def _phases_by_visit(visit_ids):
    found = {}
    for visit_id, phase in VitalSigns.objects.filter(visit__in=list(visit_ids)).values_list("visit_id", "phase"):
        found.setdefault(visit_id, []).append(phase)
    return found
