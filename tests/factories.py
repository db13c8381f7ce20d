from datetime import date, timedelta
from decimal import Decimal

import factory
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
