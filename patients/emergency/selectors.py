"""Reads about emergency accesses: the nurse's own (for the banner) and the coordinators' list."""

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from patients.models import EmergencyAccess

# The coordinators' page lists what is open and what ended in the last week (the audit trail keeps the rest).
RECENT = timedelta(days=7)


def emergency_accesses_active_for(*, nurse, now: datetime | None = None) -> list[EmergencyAccess]:
    """One indexed query per page a nurse opens; nothing for anyone else."""
    return list(EmergencyAccess.objects.active(now).filter(nurse=nurse).order_by("expires_at", "pk"))


def emergency_accesses_for_coordinators(*, now: datetime | None = None):
    now = now or timezone.now()
    return (
        EmergencyAccess.objects.filter(Q(started_at__gte=now - RECENT) | Q(ended_at=None, expires_at__gt=now))
        .select_related("patient", "nurse", "ended_by")
        .order_by("-started_at", "-pk")
    )
