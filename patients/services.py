"""Every write to patient data goes through here: one transaction, full_clean first."""

import logging
import math
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from infusion_site.queueing import enqueue_on_commit
from infusion_site.roles import NURSE, PATIENT, give_role, role_of
from patients import units
from patients.models import (
    CareTeamMember,
    Diagnosis,
    HomeLocationSource,
    Patient,
    PortalInvitation,
    SymptomEntry,
    WeightMeasurement,
    patient_today,
)

logger = logging.getLogger(__name__)


class ServiceError(Exception):
    """A request that the domain refuses, with a message for the person who made it."""


def _save(instance):
    instance.full_clean()
    instance.save()
    return instance


# A home located from a tablet whose fix is less precise than this would misplace the home for every later check-in
# (compared within the check-in radius, 200 m by default): the nurse tries again, or the coordinator types it.
HOME_LOCATION_MAX_ACCURACY_M = 100
COORDINATE_PLACES = Decimal("0.000001")  # the model keeps 6 decimal places: about 0.1 m


def _mark_entered_location(patient: Patient, *, by) -> None:
    """Coordinates typed on the profile: say so, and by whom, when they are new or changed."""
    if not patient.has_home_location:
        patient.home_location_source, patient.home_located_by, patient.home_located_at = "", None, None
        return
    before = Patient.objects.filter(pk=patient.pk).values("latitude", "longitude").first() if patient.pk else None
    if before and (before["latitude"], before["longitude"]) == (patient.latitude, patient.longitude):
        return
    patient.home_location_source = HomeLocationSource.ENTERED
    patient.home_located_by = by
    patient.home_located_at = timezone.now()


@transaction.atomic
def patient_create(
    *,
    patient: Patient,
    weight_kg: Decimal,
    weighed_on: date,
    diagnosis_code: str,
    diagnosis_description: str,
    by,
    weight_unit: str = units.KG,
) -> Patient:
    _mark_entered_location(patient, by=by)
    _save(patient)
    weight_add(
        weight=WeightMeasurement(
            patient=patient, measured_on=weighed_on, weight_kg=weight_kg, entered_unit=weight_unit
        ),
        by=by,
    )
    _save(
        Diagnosis(
            patient=patient, icd10_code=diagnosis_code.upper(), description=diagnosis_description, is_primary=True
        )
    )
    return patient


@transaction.atomic
def patient_update(*, patient: Patient, by=None) -> Patient:
    _mark_entered_location(patient, by=by)
    return _save(patient)


def _finite(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@transaction.atomic
def patient_home_located_from_tablet(
    *, patient: Patient, nurse, latitude: float, longitude: float, accuracy_m: float
) -> Patient:
    """The nurse at the home confirms "I am at the patient's home": her tablet's location becomes the home's.

    Only for a home with no coordinates yet (a coordinator changes existing ones on the profile), only by a nurse on
    the patient's care team, and only with a fix precise enough to compare later check-ins with. The change is
    audited (django-auditlog) and says who set it, when, and from where.
    """
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    if role_of(nurse) != NURSE or not locked.care_team_members.filter(nurse=nurse).exists():
        raise ServiceError("Only a nurse on this patient's care team can set the home's location from her tablet.")
    if locked.has_home_location:
        raise ServiceError(
            "The home already has a location; nothing was changed. The coordinator can correct it on the profile."
        )
    for name, value, limit in (("latitude", latitude, 90), ("longitude", longitude, 180)):
        if not _finite(value) or not -limit <= value <= limit:
            raise ServiceError(f"The tablet sent an impossible {name}; nothing was changed. Try again.")
    if not _finite(accuracy_m) or accuracy_m < 0:
        raise ServiceError("The tablet did not say how precise its location is; nothing was changed. Try again.")
    if accuracy_m > HOME_LOCATION_MAX_ACCURACY_M:
        raise ServiceError(
            f"Your tablet's location is only accurate to ±{accuracy_m:.0f} m (±{HOME_LOCATION_MAX_ACCURACY_M} m or "
            "better is needed); nothing was changed. Try again near a window or outside, or ask the coordinator to "
            "enter the home's coordinates."
        )
    locked.latitude = Decimal(str(latitude)).quantize(COORDINATE_PLACES)
    locked.longitude = Decimal(str(longitude)).quantize(COORDINATE_PLACES)
    locked.home_location_source = HomeLocationSource.TABLET
    locked.home_located_by = nurse
    locked.home_located_at = timezone.now()
    _save(locked)
    return locked


@transaction.atomic
def weight_add(*, weight: WeightMeasurement, by) -> WeightMeasurement:
    weight.recorded_by = by
    return _save(weight)


@transaction.atomic
def record_add(*, record, by=None):
    """Add a dated section record (lab result, authorization, diagnosis) to a patient."""
    if hasattr(record, "recorded_by_id") and by is not None:
        record.recorded_by = by
    if isinstance(record, Diagnosis) and record.is_primary:
        record.patient.diagnoses.filter(is_primary=True).update(is_primary=False)
    return _save(record)


@transaction.atomic
def care_team_add(*, patient: Patient, nurse) -> CareTeamMember:
    if role_of(nurse) != NURSE:
        raise ServiceError("Only nurses can join a care team.")
    member, _ = CareTeamMember.objects.get_or_create(patient=patient, nurse=nurse)
    return member


@transaction.atomic
def care_team_remove(*, patient: Patient, nurse) -> None:
    for member in CareTeamMember.objects.filter(patient=patient, nurse=nurse):
        member.delete()  # one by one, so each removal is audited


@transaction.atomic
def patient_invite_to_portal(*, patient: Patient, email: str, by) -> PortalInvitation:
    """Create the patient's portal account (no usable password yet) and queue the invitation."""
    if patient.user_id is not None:
        raise ServiceError("This patient already has a portal account.")
    User = get_user_model()
    if User.objects.filter(username__iexact=email).exists():
        raise ServiceError("An account with this email already exists.")
    user = User(username=email, email=email, first_name=patient.first_name, last_name=patient.last_name)
    user.set_unusable_password()
    user.save()
    give_role(user, PATIENT)
    patient.user = user
    patient.save(update_fields=["user", "updated_at"])
    invitation = _save(PortalInvitation(patient=patient, email=email, invited_by=by))
    enqueue_on_commit("patients.tasks.send_invitation", invitation.pk)
    return invitation


def set_password_link(user) -> str:
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.SITE_URL.rstrip("/") + path


def invitation_send(*, invitation_id: int) -> bool:
    """Send one invitation exactly once: claim it with a conditional update, then send.

    If sending fails the claim is released so the next sweep tries again.
    """
    claimed = PortalInvitation.objects.filter(pk=invitation_id, sent_at=None).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    invitation = PortalInvitation.objects.select_related("patient__user").get(pk=invitation_id)
    user = invitation.patient.user
    if user is None:
        PortalInvitation.objects.filter(pk=invitation_id).update(last_error="The portal account was removed.")
        return False
    context = {
        "first_name": invitation.patient.first_name,
        "link": set_password_link(user),
        "agency": settings.AGENCY_NAME,
    }
    try:
        send_mail(
            subject=f"Your {settings.AGENCY_NAME} patient portal",
            message=render_to_string("patients/email/portal_invitation.txt", context),
            from_email=None,
            recipient_list=[invitation.email],
        )
    except Exception as error:
        PortalInvitation.objects.filter(pk=invitation_id).update(sent_at=None, last_error=type(error).__name__[:200])
        logger.warning("Portal invitation %s not sent (%s); will retry.", invitation_id, type(error).__name__)
        return False
    return True


# --- Symptom journal ------------------------------------------------------------------------------


def journal_day_text(day: date) -> str:
    """“Friday 20 November 2026”: unambiguous whichever way the patient writes dates."""
    return f"{day:%A} {day.day} {day:%B} {day.year}"


def duplicate_day_error(day: date) -> ValidationError:
    return ValidationError(
        {
            "recorded_on": ValidationError(
                f"You already have a journal entry for {journal_day_text(day)}. "
                "Change that entry instead, or choose another day.",
                code="duplicate_day",
            )
        }
    )


def symptom_day_taken(entry: SymptomEntry) -> bool:
    """Whether the patient has another entry for the entry's day."""
    others = SymptomEntry.objects.filter(patient_id=entry.patient_id, recorded_on=entry.recorded_on)
    return others.exclude(pk=entry.pk).exists()


@transaction.atomic
def symptom_entry_save(
    *,
    patient: Patient,
    entry: SymptomEntry | None = None,
    recorded_on: date | None,
    muscle_weakness: int,
    rash: int,
    fatigue: int,
    pain: int,
    note: str = "",
) -> SymptomEntry:
    """Write the patient's journal entry for a day: a new one, or a change to one of theirs.

    ``recorded_on`` None means today in the patient's time zone. One entry per day: a second one
    for the same day is refused with a message naming the day.
    """
    if entry is None:
        entry = SymptomEntry(patient=patient)
    elif entry.patient_id != patient.pk:
        raise ServiceError("This journal entry belongs to another patient.")
    entry.recorded_on = recorded_on or patient_today(patient)
    entry.muscle_weakness, entry.rash, entry.fatigue, entry.pain = muscle_weakness, rash, fatigue, pain
    entry.note = note
    if symptom_day_taken(entry):
        raise duplicate_day_error(entry.recorded_on)
    try:
        with transaction.atomic():
            return _save(entry)
    except IntegrityError:
        # Another save for the same day landed between the check above and this insert.
        if symptom_day_taken(entry):
            raise duplicate_day_error(entry.recorded_on) from None
        raise
