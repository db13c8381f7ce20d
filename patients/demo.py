"""Demonstration accounts and patients (DESIGN §5). Idempotent: run it as often as you like.

All people here are invented; any likeness to a real patient is chance.
"""

import os
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from infusion_site.roles import COORDINATOR, NURSE, PATIENT, ensure_groups, give_role, make_privacy_officer
from patients.models import (
    CareTeamMember,
    Diagnosis,
    LabResult,
    Patient,
    PriorAuthorization,
    Team,
    WeightMeasurement,
    patient_today,
)
from patients.services import symptom_entry_save

DEFAULT_DEMO_PASSWORD = "infusion-demo-2026"

ACCOUNTS = [
    # username, first, last, role
    ("admin", "Ada", "Admin", None),
    ("coordinator", "Carmen", "Ortiz", COORDINATOR),
    ("nurse1", "Nora", "Fields", NURSE),
    ("nurse2", "Ben", "Okafor", NURSE),
    ("patient1", "Maria", "Alvarez", PATIENT),
    ("patient2", "James", "Whitaker", PATIENT),
]

DERMATOMYOSITIS = ("M33.10", "Dermatomyositis, organ involvement unspecified")

# mrn, first, last, born, sex, height cm, weight kg, weighed days ago, city, lat, lon, diagnosis,
# extra profile, creatinine (mg/dL, days ago) or None, authorization (payer, days left, visits), nurses, portal user
PATIENTS = [
    (
        "MRN1001",
        "Maria",
        "Alvarez",
        "1978-03-14",
        "F",
        165,
        "70.0",
        12,
        "Springfield",
        "39.781700",
        "-89.650100",
        DERMATOMYOSITIS,
        {"allergies": "Sulfa drugs: rash"},
        ("0.8", 20),
        ("Blue Cross", 160, 24),
        ["nurse1"],
        "patient1",
    ),
    (
        "MRN1002",
        "James",
        "Whitaker",
        "1961-09-02",
        "M",
        180,
        "92.5",
        30,
        "Chatham",
        "39.676100",
        "-89.704300",
        ("M33.12", "Dermatomyositis with myopathy"),
        {"renal_risk": True, "risk_notes": "Age over 60, type 2 diabetes"},
        ("1.3", 40),
        ("Medicare", 10, 12),
        ["nurse1", "nurse2"],
        "patient2",
    ),
    (
        "MRN1003",
        "Aisha",
        "Rahman",
        "1990-06-21",
        "F",
        158,
        "54.0",
        45,
        "Sherman",
        "39.893600",
        "-89.604800",
        ("M33.13", "Dermatomyositis without myopathy"),
        {"no_known_allergies": True},
        ("0.7", 150),
        ("Aetna", 90, 6),
        ["nurse2"],
        None,
    ),
    (
        "MRN1004",
        "Robert",
        "Kowalski",
        "1955-11-30",
        "M",
        175,
        "104.0",
        60,
        "Rochester",
        "39.749800",
        "-89.531800",
        ("M33.11", "Dermatomyositis with respiratory involvement"),
        {"renal_risk": True, "thrombosis_risk": True, "risk_notes": "Prior DVT 2021; eGFR 55"},
        ("1.5", 25),
        ("Medicare", 200, 30),
        ["nurse1"],
        None,
    ),
    (
        "MRN1005",
        "Elena",
        "Petrova",
        "1983-01-09",
        "F",
        170,
        "63.0",
        20,
        "Riverton",
        "39.844200",
        "-89.547300",
        ("M31.30", "Granulomatosis with polyangiitis"),
        {
            "iga_status": Patient.IgAStatus.DEFICIENT,
            "anti_iga_antibodies": Patient.AntiIgA.PRESENT,
            "allergies": "Penicillin: hives",
            "risk_notes": "IgA deficient with anti-IgA antibodies: no IVIG",
        },
        ("0.9", 35),
        ("United Healthcare", 120, 4),
        ["nurse2"],
        None,
    ),
    (
        "MRN1006",
        "David",
        "Nguyen",
        "1972-07-17",
        "M",
        183,
        "88.0",
        100,
        "Petersburg",
        "40.011700",
        "-89.848200",
        ("K50.90", "Crohn's disease, unspecified"),
        {"no_known_allergies": True},
        None,
        ("Cigna", 60, 8),
        ["nurse1"],
        None,
    ),
    (
        "MRN1007",
        "Grace",
        "Holloway",
        "1966-04-25",
        "F",
        162,
        "77.5",
        10,
        "Auburn",
        "39.591700",
        "-89.746500",
        ("M05.79", "Rheumatoid arthritis with rheumatoid factor"),
        {"thrombosis_risk": True, "risk_notes": "On oral estrogen"},
        ("0.9", 15),
        ("Humana", 75, 5),
        ["nurse2"],
        None,
    ),
    (
        "MRN1008",
        "Samuel",
        "Brooks",
        "1949-12-03",
        "M",
        172,
        "68.0",
        200,
        "Pawnee",
        "39.591400",
        "-89.580100",
        ("M32.14", "Glomerular disease in systemic lupus erythematosus"),
        {"renal_risk": True, "risk_notes": "Lupus nephritis"},
        ("1.8", 10),
        ("Medicare", 45, 6),
        ["nurse1"],
        None,
    ),
    (
        "MRN1009",
        "Lucia",
        "Ferreira",
        "2001-08-12",
        "F",
        160,
        "52.0",
        5,
        "Springfield",
        "39.799000",
        "-89.644000",
        ("D83.9", "Common variable immunodeficiency"),
        {"no_known_allergies": True},
        ("0.6", 30),
        ("Blue Cross", 300, 52),
        ["nurse2"],
        None,
    ),
]


def demo_password() -> str:
    return os.environ.get("DEMO_PASSWORD", DEFAULT_DEMO_PASSWORD)


def seed_accounts() -> dict:
    ensure_groups()
    User = get_user_model()
    users = {}
    for username, first, last, role in ACCOUNTS:
        user, _ = User.objects.get_or_create(username=username)
        user.first_name, user.last_name = first, last
        user.email = f"{username}@example.org"
        user.is_staff = user.is_superuser = username == "admin"
        user.set_password(demo_password())
        user.save()
        if role:
            give_role(user, role)
        users[username] = user
    # The demo coordinator is also the privacy officer, so the audit trail search (/audit/) can be tried.
    make_privacy_officer(users["coordinator"])
    return users


# Two teams, so the board and the alert queue show their team filter: each nurse in one, the coordinator in both;
# a patient belongs to the team of the first nurse on their care team.
TEAMS = [("North team", "Springfield north", ["nurse1"]), ("South team", "Springfield south", ["nurse2"])]


def seed_teams(users: dict) -> dict:
    by_nurse = {}
    for name, region, nurses in TEAMS:
        team, _ = Team.objects.update_or_create(name=name, defaults={"region": region})
        team.members.add(users["coordinator"], *(users[nurse] for nurse in nurses))
        by_nurse.update({nurse: team for nurse in nurses})
    return by_nurse


@transaction.atomic
def seed_patients(users: dict) -> list[Patient]:
    today = timezone.localdate()
    patients = []
    team_of_nurse = seed_teams(users)
    for mrn, first, last, born, sex, height, weight, weighed_ago, city, lat, lon, (
        code,
        description,
    ), extra, creatinine, (payer, auth_days_left, auth_visits), nurses, portal_user in PATIENTS:
        defaults = {
            "first_name": first,
            "last_name": last,
            "date_of_birth": born,
            "sex": sex,
            "phone": f"+1 217 555 {mrn[-4:]}",
            "email": f"{first.lower()}.{last.lower()}@example.org",
            "address_line1": f"{int(mrn[-3:]) * 7 + 100} Maple Street",
            "city": city,
            "state": "IL",
            "postal_code": "62701",
            "latitude": Decimal(lat),
            "longitude": Decimal(lon),
            "time_zone": "America/Chicago",
            "height_cm": Decimal(height),
            "prescriber_name": "Dr. Priya Raman" if code.startswith("M33") else "Dr. Thomas Lee",
            "prescriber_phone": "+1 217 555 0199",
            "prescriber_npi": "1234567893",
            "user": users.get(portal_user),
            "team": team_of_nurse[nurses[0]],
            **extra,
        }
        patient, _ = Patient.objects.update_or_create(mrn=mrn, defaults=defaults)
        patient.full_clean()
        Diagnosis.objects.get_or_create(
            patient=patient, icd10_code=code, defaults={"description": description, "is_primary": True}
        )
        # Dated records are added once; a later run (another day) leaves them as they are.
        if not patient.weights.exists():
            WeightMeasurement.objects.create(
                patient=patient,
                measured_on=today - timedelta(days=weighed_ago),
                weight_kg=Decimal(weight),
                recorded_by=users["coordinator"],
            )
        if creatinine and not patient.lab_results.exists():
            value, days_ago = creatinine
            LabResult.objects.create(
                patient=patient,
                collected_on=today - timedelta(days=days_ago),
                value=Decimal(value),
                recorded_by=users["coordinator"],
            )
        PriorAuthorization.objects.update_or_create(
            payer=payer,
            number=f"PA-{mrn[-4:]}",
            defaults={
                "patient": patient,
                "member_id": f"M{mrn[-4:]}0",
                "therapy": "Home infusion and nursing visits",
                "valid_from": today - timedelta(days=max(30, 365 - auth_days_left)),
                "valid_to": today + timedelta(days=auth_days_left),
                "visits_authorized": auth_visits,
            },
        )
        for nurse in nurses:
            CareTeamMember.objects.get_or_create(patient=patient, nurse=users[nurse])
        if mrn == JOURNAL_MRN and not patient.symptom_entries.exists():
            seed_journal(patient)
        patients.append(patient)
    return patients


# Maria Alvarez keeps a symptom journal. Her IVIG cycles in visits/demo.py run 5 days, every 28 days, the
# first starting 55 days ago; her weakness and tiredness ease in the week after each cycle and creep back
# before the next one, and the infusion days themselves are tiring.
JOURNAL_MRN = "MRN1001"
JOURNAL_DAYS = 42
CYCLE_DAYS, FIRST_CYCLE_DAYS_AGO, INFUSION_DAYS = 28, 55, 5
JOURNAL_WOBBLE = (0, 0, 1, 0, -1, 0, 0)  # good days and bad days
JOURNAL_NOTES = {
    2: "Headache in the evening after the drip; better with water and rest.",
    8: "Climbed the stairs without stopping for the first time in weeks.",
    20: "Legs heavy again getting out of the car.",
}


def journal_scores(cycle_day: int, wobble: int) -> dict:
    """Symptom scores (0–10) on a day of the IVIG cycle (0 = first infusion day)."""
    if cycle_day < INFUSION_DAYS:
        weakness, fatigue = 6, 7
    elif cycle_day < 12:  # the week after: easing day by day
        weakness, fatigue = 6 - (cycle_day - 4) * 3 // 7, 6 - (cycle_day - 4) * 4 // 7
    elif cycle_day < 19:
        weakness, fatigue = 3, 2
    else:  # wearing off before the next cycle
        weakness, fatigue = 3 + (cycle_day - 18) * 3 // 9, 2 + (cycle_day - 18) * 4 // 9
    return {
        "muscle_weakness": max(0, weakness + wobble),
        "rash": 4 if cycle_day < 14 else 3,
        "fatigue": max(0, fatigue + wobble),
        "pain": 4 if 1 <= cycle_day <= 2 else 2,  # post-infusion headache and aches
    }


def seed_journal(patient: Patient) -> None:
    today = patient_today(patient)
    for days_ago in range(JOURNAL_DAYS, 0, -1):
        if days_ago % 11 == 0:
            continue  # a few forgotten days, as in any real journal
        cycle_day = (FIRST_CYCLE_DAYS_AGO - days_ago) % CYCLE_DAYS
        symptom_entry_save(
            patient=patient,
            recorded_on=today - timedelta(days=days_ago),
            note=JOURNAL_NOTES.get(cycle_day, "") if days_ago < CYCLE_DAYS else "",
            **journal_scores(cycle_day, wobble=JOURNAL_WOBBLE[days_ago % len(JOURNAL_WOBBLE)]),
        )
