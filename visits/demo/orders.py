"""Demonstration orders and visits: every therapy, 8 weeks back to 8 weeks ahead. Idempotent."""

from datetime import time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from patients.models import CareTeamMember, Patient
from visits.models import Competency, Indication, NurseProfile, Product, TherapyOrder, Visit, VisitEvent, WorkingHours
from visits.orders.services import order_save

WEEKS = 8

NURSES = {
    # username: competencies, max visits a day, shift per weekday (Mon-Fri, plus Saturday for nurse2)
    "nurse1": (
        [Competency.IVIG, Competency.SCIG, Competency.BIOLOGICS, Competency.STEROID_PULSE, Competency.PORT_ACCESS],
        3,
        range(0, 5),
    ),
    "nurse2": (
        [Competency.IVIG, Competency.SCIG, Competency.BIOLOGICS, Competency.CHEMOTHERAPY, Competency.STEROID_PULSE],
        3,
        range(0, 6),
    ),
}

# mrn, product, order fields, preferred local start; start dates are counted back from today.
ORDERS = [
    (
        "MRN1001",
        "Octagam 10%",
        {"dose_rule": "g_per_kg", "dose_amount": "2", "regimen": "cycle", "days_per_cycle": 5, "interval_weeks": 4},
        time(8, 0),
    ),
    (
        "MRN1002",
        "Privigen",
        {"dose_rule": "g_per_kg", "dose_amount": "2", "regimen": "cycle", "days_per_cycle": 5, "interval_weeks": 4},
        time(12, 30),
    ),
    ("MRN1003", "Hizentra", {"dose_rule": "g_per_kg", "dose_amount": "0.4", "regimen": "weekly"}, time(10, 0)),
    (
        "MRN1003",
        "Solu-Medrol",
        {
            "dose_rule": "flat_mg",
            "dose_amount": "1000",
            "regimen": "pulse",
            "days_per_cycle": 3,
            "number_of_cycles": 1,
            "weeks_ahead": 3,
        },
        time(15, 0),
    ),
    (
        "MRN1004",
        "Octagam 10%",
        {
            "dose_rule": "g_per_kg",
            "dose_amount": "2",
            "regimen": "cycle",
            "days_per_cycle": 4,
            "interval_weeks": 4,
            "weight_method": "adjusted",
        },
        time(8, 30),
    ),
    (
        "MRN1005",
        "Rituxan",
        {
            "dose_rule": "flat_mg",
            "dose_amount": "1000",
            "regimen": "paired",
            "second_dose_day": 15,
            "interval_months": 6,
            "number_of_cycles": 1,
            "first_infusion": True,
            "weeks_ahead": 1,
        },
        time(9, 0),
    ),
    (
        "MRN1006",
        "Remicade",
        {
            "dose_rule": "mg_per_kg",
            "dose_amount": "5",
            "regimen": "induction",
            "induction_weeks": [0, 2, 6],
            "interval_weeks": 8,
        },
        time(14, 0),
    ),
    (
        "MRN1007",
        "Orencia IV",
        {"dose_rule": "weight_tiered", "regimen": "induction", "induction_weeks": [0, 2, 4], "interval_weeks": 4},
        time(15, 30),
    ),
    (
        "MRN1008",
        "Cyclophosphamide",
        {"dose_rule": "mg_per_m2", "dose_amount": "750", "regimen": "cycle", "days_per_cycle": 1, "interval_weeks": 4},
        time(10, 30),
    ),
    (
        "MRN1009",
        "Gammagard Liquid",
        {"dose_rule": "g_per_kg", "dose_amount": "0.5", "regimen": "cycle", "days_per_cycle": 1, "interval_weeks": 4},
        time(13, 0),
    ),
]

# These patients' visits in the coming two weeks are left for the coordinator to staff.
UNASSIGNED_SOON = {"MRN1003", "MRN1009"}


def seed_nurses(users: dict) -> None:
    for username, (competencies, max_visits, weekdays) in NURSES.items():
        nurse = users[username]
        NurseProfile.objects.update_or_create(
            nurse=nurse,
            defaults={
                "competencies": list(competencies),
                "max_visits_per_day": max_visits,
                "time_zone": "America/Chicago",
            },
        )
        for weekday in weekdays:
            WorkingHours.objects.update_or_create(
                nurse=nurse, weekday=weekday, defaults={"starts": time(7, 30), "ends": time(19, 0)}
            )


@transaction.atomic
def seed_orders(users: dict) -> int:
    today = timezone.localdate()
    now = timezone.now()
    history_start = now - timedelta(weeks=WEEKS)
    created = 0
    for mrn, product_name, fields, start_time in ORDERS:
        patient = Patient.objects.get(mrn=mrn)
        product = Product.objects.get(name=product_name)
        if TherapyOrder.objects.filter(patient=patient, product=product).exists():
            continue
        fields = dict(fields)
        weeks_ahead = fields.pop("weeks_ahead", None)
        if weeks_ahead is None:
            start_date = today - timedelta(weeks=WEEKS) + timedelta(days=int(mrn[-2:]) % 7)  # staggered
            fields.setdefault("end_date", today + timedelta(weeks=WEEKS))
        else:
            start_date = today + timedelta(weeks=weeks_ahead)
        if "dose_amount" in fields:
            fields["dose_amount"] = Decimal(fields["dose_amount"])
        # Every order names the diagnosis it treats: the patient's primary one, and the indication it falls under.
        diagnosis = patient.diagnoses.order_by("-is_primary", "icd10_code").first()
        if diagnosis is not None:
            fields.setdefault("diagnosis", diagnosis)
            fields.setdefault("indication", Indication.for_icd10(diagnosis.icd10_code))
        order = TherapyOrder(
            patient=patient,
            product=product,
            prescriber=patient.prescriber_name,
            start_date=start_date,
            preferred_start_time=start_time,
            premedications="Acetaminophen 650 mg PO; diphenhydramine 25 mg PO, 30 min before the start"
            if product.is_immune_globulin or product.therapy == "rituximab"
            else "",
            **fields,
        )
        _, visits = order_save(order=order, by=users["coordinator"], since=history_start)
        created += 1
        assign_demo_nurses(patient=patient, visits=visits, now=now, coordinator=users["coordinator"])
    return created


def assign_demo_nurses(*, patient, visits, now, coordinator) -> None:
    team = list(CareTeamMember.objects.filter(patient=patient).select_related("nurse").order_by("pk"))
    soon = now + timedelta(weeks=2)
    for index, visit in enumerate(visits):
        if visit.planned_start < now:
            # History: most were given; one missed and one cancelled show how those look.
            visit.status = Visit.Status.COMPLETED
            if index == 1 and patient.mrn == "MRN1001":
                visit.status, visit.status_reason = Visit.Status.MISSED, "Patient in hospital for pneumonia."
            if index == 2 and patient.mrn == "MRN1009":
                visit.status, visit.status_reason = Visit.Status.CANCELLED, "Patient travelling."
        if team and not (patient.mrn in UNASSIGNED_SOON and now <= visit.planned_start <= soon):
            visit.nurse = team[index % len(team)].nurse if visit.planned_start < now else team[0].nurse
        visit.save()
        if visit.nurse_id:
            VisitEvent.objects.create(visit=visit, kind=VisitEvent.Kind.ASSIGNED, by=coordinator, detail="Demo data")
