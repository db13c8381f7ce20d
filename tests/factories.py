import importlib
from datetime import date, time, timedelta
from decimal import Decimal

import factory
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.utils import timezone

from infusion_site.roles import COORDINATOR, NURSE, PATIENT, give_role
from patients.models import CareTeamMember, Diagnosis, LabResult, Patient, PriorAuthorization, WeightMeasurement

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(self, create, role, **kwargs):
        if role:
            give_role(self, role)
        self.save()


def coordinator(**kwargs):
    return UserFactory(role=COORDINATOR, **kwargs)


def nurse(**kwargs):
    return UserFactory(role=NURSE, **kwargs)


def patient_user(**kwargs):
    return UserFactory(role=PATIENT, **kwargs)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    mrn = factory.Sequence(lambda n: f"MRN{n:05d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = date(1975, 5, 17)
    sex = Patient.Sex.FEMALE
    address_line1 = "12 Elm Street"
    city = "Springfield"
    state = "IL"
    postal_code = "62701"
    latitude = Decimal("39.781700")
    longitude = Decimal("-89.650100")
    time_zone = "America/Chicago"
    height_cm = Decimal("165.0")
    prescriber_name = "Dr. Priya Raman"


class WeightFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WeightMeasurement

    patient = factory.SubFactory(PatientFactory)
    measured_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=7))
    weight_kg = Decimal("70.0")


class CreatinineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LabResult

    patient = factory.SubFactory(PatientFactory)
    collected_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=14))
    value = Decimal("0.9")


class AuthorizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriorAuthorization

    patient = factory.SubFactory(PatientFactory)
    payer = "Blue Cross"
    number = factory.Sequence(lambda n: f"PA-{n:05d}")
    valid_from = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))
    valid_to = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=150))
    visits_authorized = 24


class DiagnosisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Diagnosis

    patient = factory.SubFactory(PatientFactory)
    icd10_code = "M33.10"
    description = "Dermatomyositis"
    is_primary = True


def on_care_team(patient, nurse_user):
    CareTeamMember.objects.get_or_create(patient=patient, nurse=nurse_user)
    return patient


# --- visits ---------------------------------------------------------------------------------


def product(name="Octagam 10%"):
    """Products come from the catalog migration; a transactional test's flush removes them, so reload if gone."""
    from visits.models import Product

    if not Product.objects.exists():
        catalog = importlib.import_module("visits.migrations.0002_product_catalog")
        catalog.add_catalog(django_apps, None)
        importlib.import_module("visits.migrations.0008_catalog_label_limits").apply_label_limits(django_apps, None)
    return Product.objects.get(name=name)


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "visits.TherapyOrder"

    patient = factory.SubFactory(PatientFactory)
    product = factory.LazyFunction(product)
    dose_rule = "g_per_kg"
    dose_amount = Decimal("2")
    weight_method = "actual"
    regimen = "cycle"
    days_per_cycle = 5
    interval_weeks = 4
    number_of_cycles = 3
    prescriber = "Dr. Priya Raman"
    start_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=7))
    preferred_start_time = time(9, 0)
    dosing_weight_kg = Decimal("70")
    calculated_from_weight_kg = Decimal("70")
    dose_per_cycle_mg = Decimal("140000")


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "visits.Visit"

    order = factory.SubFactory(OrderFactory)
    patient = factory.LazyAttribute(lambda visit: visit.order.patient)
    cycle_number = factory.Sequence(lambda n: n + 1)
    day_number = 1
    planned_start = factory.LazyFunction(lambda: timezone.now() + timedelta(days=2))
    planned_minutes = 240
    infusion_minutes = 145
    dose_mg = Decimal("28000")
    volume_ml = Decimal("280")


def infusing_visit(*, nurse_user, rates=(42, 84, 126), ended_minutes_ago=None, **kwargs):
    """A visit of ``nurse_user`` started two hours ago, with its rate steps 30 min apart (first one the start).

    ``ended_minutes_ago`` records the end of the infusion that long ago (the visit is then observing).
    """
    from visits.models import InfusionRecord, RateChange, Visit

    now = timezone.now()
    started = now - timedelta(hours=2)
    status = Visit.Status.INFUSING if ended_minutes_ago is None else Visit.Status.OBSERVING
    kwargs.setdefault("planned_start", started)
    visit = VisitFactory(nurse=nurse_user, status=status, **kwargs)
    on_care_team(visit.patient, nurse_user)
    ended = None if ended_minutes_ago is None else now - timedelta(minutes=ended_minutes_ago)
    InfusionRecord.objects.create(visit=visit, started_at=started, ended_at=ended, version=1)
    for step, rate in enumerate(rates):
        RateChange.objects.create(
            visit=visit,
            at=started + timedelta(minutes=30 * step),
            kind=RateChange.Kind.START if step == 0 else RateChange.Kind.INCREASE,
            rate_ml_per_hr=Decimal(rate),
        )
    return visit


# A plausible set of vital signs as the chart's vitals form posts it (taken now, titration phase).
VITALS_FORM = {
    "taken_at": "",
    "phase": "titration",
    "temperature": "36.8",
    "temperature_unit": "C",
    "pulse": "76",
    "systolic": "124",
    "diastolic": "78",
    "respiratory_rate": "16",
    "spo2": "97",
    "pain": "1",
}
