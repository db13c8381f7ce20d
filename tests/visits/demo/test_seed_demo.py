"""`manage.py seed_demo`: the demo accounts and realistic patients, safe to run again."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from infusion_site.roles import COORDINATOR, NURSE, PATIENT, role_of
from patients.models import (
    CareTeamMember,
    Diagnosis,
    LabResult,
    Patient,
    PriorAuthorization,
    WeightMeasurement,
)
from visits.chart.infusion.services import infusion_state
from visits.chart.infusion.vitals import LATE, MISSING
from visits.chart.signoff.services import signoff_missing
from visits.demo.charts import CHARTED_PAST_VISITS
from visits.models import Visit, VisitSignature

ACCOUNTS = ["coordinator", "nurse1", "nurse2", "patient1", "patient2", "admin"]
DEFAULT_PASSWORD = "infusion-demo-2026"
SEEDED_MODELS = [get_user_model(), Patient, WeightMeasurement, LabResult, PriorAuthorization, Diagnosis, CareTeamMember]


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in SEEDED_MODELS}


def signs_in(username: str, password: str) -> bool:
    response = Client().post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302 and "_auth_user_id" in response.wsgi_request.session


@pytest.fixture
def seeded(db, monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    call_command("seed_demo", verbosity=0)


def test_seed_demo_twice_gives_the_same_data(seeded):
    first = counts()
    call_command("seed_demo", verbosity=0)
    assert counts() == first
    assert first["Patient"] > 0


@pytest.mark.parametrize("username", ACCOUNTS)
def test_demo_accounts_sign_in_with_the_default_password(seeded, username):
    assert signs_in(username, DEFAULT_PASSWORD)


def test_demo_password_comes_from_the_environment(db, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "a-different-demo-secret")
    call_command("seed_demo", verbosity=0)

    assert signs_in("nurse1", "a-different-demo-secret")
    assert not signs_in("nurse2", DEFAULT_PASSWORD)


def test_demo_accounts_have_their_roles(seeded):
    users = {user.username: user for user in get_user_model().objects.filter(username__in=ACCOUNTS)}
    assert {name: role_of(users[name]) for name in ACCOUNTS} == {
        "coordinator": COORDINATOR,
        "nurse1": NURSE,
        "nurse2": NURSE,
        "patient1": PATIENT,
        "patient2": PATIENT,
        "admin": COORDINATOR,  # a superuser acts as coordinator
    }
    assert users["admin"].is_superuser and users["admin"].is_staff
    assert Patient.objects.filter(user__username__in=["patient1", "patient2"]).count() == 2


def test_demo_has_at_least_eight_patients_with_varied_diagnoses(seeded):
    assert Patient.objects.count() >= 8
    assert Diagnosis.objects.filter(is_primary=True).values("icd10_code").distinct().count() >= 4
    assert not Patient.objects.filter(weights=None).exists()


def test_demo_has_an_iga_deficient_patient_with_anti_iga_antibodies(seeded):
    contraindicated = [patient for patient in Patient.objects.all() if patient.iga_contraindicated]
    assert len(contraindicated) == 1


def test_demo_has_at_least_two_patients_at_renal_risk(seeded):
    assert Patient.objects.filter(renal_risk=True).count() >= 2


def test_demo_has_an_authorization_ending_within_14_days(seeded):
    assert any(authorization.ends_soon for authorization in PriorAuthorization.objects.all())


def test_demo_has_a_creatinine_older_than_three_months(seeded):
    latest_per_patient = {}
    for lab in LabResult.objects.order_by("patient_id", "-collected_on"):
        latest_per_patient.setdefault(lab.patient_id, lab)
    assert any(lab.is_stale() for lab in latest_per_patient.values())
    assert (timezone.localdate() - min(lab.collected_on for lab in latest_per_patient.values())).days > 92


def test_demo_care_teams_span_both_nurses(seeded):
    nurses_on_teams = set(CareTeamMember.objects.values_list("nurse__username", flat=True))
    assert {"nurse1", "nurse2"} <= nurses_on_teams
    assert not Patient.objects.filter(care_team=None).exists()


# --- charted visits ----------------------------------------------------------------------------------------------


def signed_charts():
    return list(VisitSignature.objects.select_related("visit__patient", "visit__order__product"))


def test_demo_signs_its_past_charts(seeded):
    charts = signed_charts()
    assert len(charts) == CHARTED_PAST_VISITS
    assert all(signature.visit.status == Visit.Status.SIGNED for signature in charts)


def test_demo_charts_were_finished_before_they_were_signed(seeded):
    """Checked out, the observation over and every set of vitals taken: nothing was waived."""
    for signature in signed_charts():
        visit = signature.visit
        assert signature.waivers == {}, visit.pk
        assert visit.verification.checked_out_at <= signature.signed_at, visit.pk
        assert signoff_missing(visit=visit, now=signature.signed_at) == [], visit.pk


def test_demo_charts_show_no_vital_sign_gaps(seeded):
    for signature in signed_charts():
        due = infusion_state(visit=signature.visit, now=signature.signed_at).due
        assert [item.key for item in due if item.is_gap] == [], signature.visit.pk


def test_demo_visit_in_progress_has_no_overdue_vitals_in_the_past(seeded):
    visit = Visit.objects.get(status=Visit.Status.INFUSING, nurse__username="nurse1")
    due = infusion_state(visit=visit).due
    assert [item.key for item in due if item.status in (MISSING, LATE)] == []
    assert not VisitSignature.objects.filter(visit=visit).exists()


def test_demo_queue_has_a_flagged_vitals_alert_and_its_chart_runs_on_without_a_hold(seeded):
    from visits.alerts.selectors import collect_alerts

    flagged = [alert for alert in collect_alerts() if alert.kind == "vitals_flag"]
    visit = Visit.objects.get(nurse__username="nurse1", status=Visit.Status.INFUSING)
    assert [alert.about.visit for alert in flagged] == [visit]
    assert flagged[0].lines == ["Temperature 38.2 °C: 38.0 °C or more"]
    assert infusion_state(visit=visit).hold is None  # assessed, and the sets after it are normal
