"""Demonstration notification preferences, and visits placed so reminders fall due minutes after `make run`.

Idempotent: preferences are set, not added; a visit is moved only if none already sits in the
reminder window; the follow-up questions are opened once.
"""

from datetime import time, timedelta

from django.db import transaction
from django.utils import timezone

from visits.models import FollowUp, NotificationPreference, Therapy, Visit

PREFERENCES = {
    # username: email, sms, lead hours, quiet hours (patient's own time zone)
    "patient1": (True, True, [48, 24], (time(22, 0), time(7, 0))),
    "patient2": (True, False, [24, 3], (None, None)),
    "coordinator": (True, False, [], (None, None)),
    "nurse1": (False, False, [], (None, None)),
    "nurse2": (True, False, [], (None, None)),
}
# The 24-hour reminder of this visit falls due this long after seeding.
REMINDER_DUE_IN = timedelta(minutes=3)


def seed_preferences(users: dict) -> None:
    for username, (by_email, by_sms, hours, (quiet_start, quiet_end)) in PREFERENCES.items():
        NotificationPreference.objects.update_or_create(
            user=users[username],
            defaults={
                "by_email": by_email,
                "by_sms": by_sms,
                "in_app": True,
                "reminder_hours": hours or [48, 24],
                "quiet_start": quiet_start,
                "quiet_end": quiet_end,
            },
        )


def place_reminder_visit(patient_user, *, lead: timedelta) -> Visit | None:
    """Move the patient's next planned visit so that its reminder falls due in a few minutes."""
    now = timezone.now()
    target = (now + lead + REMINDER_DUE_IN).replace(second=0, microsecond=0)
    upcoming = Visit.objects.filter(patient__user=patient_user, status=Visit.Status.SCHEDULED, planned_start__gt=now)
    if upcoming.filter(planned_start__gt=now + lead, planned_start__lte=target).exists():
        return None
    visit = upcoming.filter(planned_start__gt=target).order_by("planned_start").first()
    if visit is None:
        return None
    # Demo set-up, not a reschedule: no "your visit has moved" message for it.
    Visit.objects.filter(pk=visit.pk).update(planned_start=target)
    return visit


def open_follow_up(patient_user) -> FollowUp | None:
    """Open the 48-hour questions for the patient's last charted IVIG visit, as the sweep would."""
    visit = (
        Visit.objects.filter(
            patient__user=patient_user,
            order__product__therapy=Therapy.IVIG,
            status__in=[Visit.Status.COMPLETED, Visit.Status.SIGNED],
        )
        .order_by("-planned_start")
        .first()
    )
    if visit is None or FollowUp.objects.filter(visit=visit).exists():
        return None
    return FollowUp.objects.create(visit=visit, window=FollowUp.Window.EARLY, due_at=timezone.now())


@transaction.atomic
def seed_notifications(users: dict) -> int:
    seed_preferences(users)
    moved = [place_reminder_visit(users["patient2"], lead=timedelta(hours=24))]
    moved.append(place_reminder_visit(users["patient1"], lead=timedelta(hours=48)))
    open_follow_up(users["patient1"])
    return sum(visit is not None for visit in moved)
