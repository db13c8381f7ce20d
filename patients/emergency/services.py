"""Starting and ending an emergency access. The coordinators' alert is visits.alerts' own source reading these rows
(visits/alerts/emergency_sources.py): the queue is computed when read, so the alert is there the moment the row
is committed, urgent while the access is open."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from infusion_site.queueing import enqueue_on_commit
from infusion_site.roles import NURSE, role_of
from patients.models import EmergencyAccess, Patient
from patients.services import ServiceError


class NoSuchPatient(ServiceError):
    """No patient has exactly this MRN (the form shows it next to the MRN field)."""


def emergency_access_hours() -> int:
    return settings.EMERGENCY_ACCESS_HOURS


@transaction.atomic
def emergency_access_start(*, nurse, mrn: str, reason: str, now: datetime | None = None) -> EmergencyAccess:
    """Break the glass: the patient with exactly this MRN, for ``EMERGENCY_ACCESS_HOURS``.

    Exact match only (case and surrounding spaces aside): the form is not a way to browse the registry.
    """
    now = now or timezone.now()
    if role_of(nurse) != NURSE:
        raise ServiceError("Only nurses use emergency access; coordinators already see every record.")
    patient = Patient.objects.filter(mrn__iexact=mrn.strip()).first()
    if patient is None:
        raise NoSuchPatient("No patient has this MRN. Check it with the person who gave it to you.")
    if patient.care_team_members.filter(nurse=nurse).exists():
        raise ServiceError("You are on this patient's care team: open the record from your patients.")
    current = EmergencyAccess.objects.active(now).filter(nurse=nurse, patient=patient).first()
    if current is not None:
        return current  # a second submit (a double tap, a retry) opens the same access, not a second one
    access = EmergencyAccess(
        patient=patient,
        nurse=nurse,
        reason=reason.strip(),
        started_at=now,
        expires_at=now + timedelta(hours=emergency_access_hours()),
    )
    access.full_clean()
    access.save()  # audited (auditlog): the row itself carries {"emergency_access": id}
    # The coordinators hear of it at once (email, text, in the app as they chose), not at the next sweep.
    enqueue_on_commit("visits.tasks.notify_now", ["emergency_access"])
    return access


@transaction.atomic
def emergency_access_end(*, access_id: int, coordinator, now: datetime | None = None) -> EmergencyAccess:
    """A coordinator ends it early; at her next page the nurse is back to the normal 404."""
    now = now or timezone.now()
    access = EmergencyAccess.objects.select_for_update().filter(pk=access_id).first()
    if access is None:
        raise ServiceError("There is no such emergency access.")
    if not access.is_active(now):
        raise ServiceError("This emergency access has already ended.")
    access.ended_at = now
    access.ended_by = coordinator
    access.save(update_fields=["ended_at", "ended_by"])  # audited (auditlog)
    return access
