"""Demonstration SCIG at home: patient1 switching from IVIG to weekly Hizentra, taught by nurse1 and signed off,
then three weeks of her own self-infusion log. Idempotent: what exists is left as it is.

Maria Alvarez (70 kg) also has primary immunodeficiency in the demo: IVIG 0.5 g/kg every 4 weeks was 35 g, so the
label's conversion gives 35 g ÷ 4 × 1.37 = 12 g weekly, 59.9 mL: 4 sites at the first infusion, 3 later.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from patients.models import Diagnosis, Patient
from visits.models import Product, ScigTeaching, SelfInfusion, SelfInfusionVial, TherapyOrder, Visit, VisitEvent
from visits.orders.services import order_calculate, order_save
from visits.scig.services import TEACHING_ITEMS

PATIENT_USERNAME = "patient1"
NURSE_USERNAME = "nurse1"
PRIMARY_IMMUNODEFICIENCY = ("D83.9", "Common variable immunodeficiency, unspecified")
PREVIOUS_IV_DOSE_G = Decimal("35")  # 0.5 g/kg × 70 kg
PREVIOUS_IV_INTERVAL_WEEKS = 4
TAUGHT_DAYS_AGO = 22  # the teaching visit; then a self-infusion every 7 days, the last one yesterday
SELF_INFUSIONS = 3
# Rotated each week (the teaching covers rotation); local reactions as patients log them.
SITE_ROTATION = (
    ("abdomen_left", "abdomen_right", "thigh_left"),
    ("thigh_right", "abdomen_left", "abdomen_right"),
    ("thigh_left", "thigh_right", "abdomen_left"),
)
LOCAL_REACTIONS = (["swelling", "redness"], ["swelling"], [])
LOTS = (("P100431", 10000), ("P100587", 2000))


def site_volumes(sites, total, share) -> list[dict]:
    """Each site's share as logged, the last one taking what rounding left so the sites add up to the total."""
    volumes = [share] * (len(sites) - 1)
    volumes.append(total - sum(volumes, Decimal(0)))
    return [{"site": site, "volume_ml": str(volume)} for site, volume in zip(sites, volumes, strict=True)]


@transaction.atomic
def seed_scig(users: dict) -> int:
    """The Hizentra order, its signed teaching visit and the self-infusion log; returns the log entries added."""
    patient = Patient.objects.filter(user=users[PATIENT_USERNAME]).first()
    if patient is None:
        return 0
    nurse, coordinator = users[NURSE_USERNAME], users["coordinator"]
    product = Product.objects.get(name="Hizentra")
    code, description = PRIMARY_IMMUNODEFICIENCY
    diagnosis, _ = Diagnosis.objects.get_or_create(
        patient=patient, icd10_code=code, defaults={"description": description, "is_primary": False}
    )
    zone = patient.zone
    taught_on = timezone.localdate() - timedelta(days=TAUGHT_DAYS_AGO)
    order = TherapyOrder.objects.filter(patient=patient, product=product).first()
    if order is None:
        order = TherapyOrder(
            patient=patient,
            product=product,
            diagnosis=diagnosis,
            indication="pi",
            previous_iv_dose_g=PREVIOUS_IV_DOSE_G,
            previous_iv_interval_weeks=PREVIOUS_IV_INTERVAL_WEEKS,
            dose_rule=TherapyOrder.DoseRule.G_PER_KG,
            dose_amount=Decimal("0.171"),  # the weekly equivalent; the dose is the label's conversion
            regimen=TherapyOrder.Regimen.WEEKLY,
            number_of_cycles=1,  # the nurse's teaching visit; the weekly doses after it are self-infused
            first_infusion=True,
            prescriber=patient.prescriber_name,
            start_date=taught_on,
            preferred_start_time=datetime.strptime("10:00", "%H:%M").time(),
            premedications="Acetaminophen 650 mg PO, 30 min before the start, as needed",
            notes="Switching from IVIG 0.5 g/kg every 4 weeks to weekly Hizentra at home.",
        )
        since = datetime.combine(taught_on, datetime.min.time(), tzinfo=zone)
        _, visits = order_save(order=order, by=coordinator, since=since)
        for visit in visits:
            visit.nurse = nurse
            visit.status = Visit.Status.COMPLETED
            visit.save()
            VisitEvent.objects.create(visit=visit, kind=VisitEvent.Kind.ASSIGNED, by=coordinator, detail="Demo data")
    visit = order.visits.order_by("planned_start").first()
    if visit is not None and not ScigTeaching.objects.filter(visit=visit).exists():
        ScigTeaching.objects.create(
            patient=patient,
            order=order,
            visit=visit,
            items=dict.fromkeys(TEACHING_ITEMS, True),
            notes="Maria drew up and primed without help, chose and rotated sites, set the pump and recorded the "
            "lots. Mild swelling at two sites, gone by evening. Reviewed when to call and when to go to emergency.",
            ready_to_self_infuse=True,
            signed_by=nurse,
            signed_at=visit.planned_start + timedelta(hours=3),
        )
    if order.self_infusions.exists():
        return 0
    later = order_calculate(order=order).scig_plan.later
    added = 0
    for week in range(1, SELF_INFUSIONS + 1):
        on = taught_on + timedelta(days=7 * week)
        infused_at = datetime.combine(on, datetime.strptime("19:30", "%H:%M").time(), tzinfo=zone)
        sites = SITE_ROTATION[(week - 1) % len(SITE_ROTATION)][: later.sites]
        entry = SelfInfusion.objects.create(
            patient=patient,
            order=order,
            infused_at=infused_at,
            sites=site_volumes(sites, later.volume_ml, later.site_volume_ml),
            volume_ml=later.volume_ml,
            local_reactions=LOCAL_REACTIONS[(week - 1) % len(LOCAL_REACTIONS)],
            notes="",
            recorded_by=users[PATIENT_USERNAME],
            recorded_at=infused_at + timedelta(hours=1, minutes=30),
        )
        for lot, size_mg in LOTS:
            SelfInfusionVial.objects.create(
                self_infusion=entry,
                product=product,
                lot_number=lot,
                expires_on=timezone.localdate() + timedelta(days=300),
                size_mg=size_mg,
            )
        added += 1
    return added
