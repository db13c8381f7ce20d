"""Notifications, the recipients' preferences, and the follow-up questionnaires after IVIG.

A notification is a row before it is a message: periodic sweeps derive what is due from
the database and insert one row per recipient and channel under a unique ``key``; a
worker claims a row with a conditional update before sending it. A lost Celery message,
a worker killed mid-send, two beats or a Redis outage therefore delay a notification but
never lose or double it (DESIGN §4).
"""

from datetime import time, timedelta

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from visits.models.chart import VisitVerification

__all__ = [
    "Notification",
    "NotificationPreference",
    "FollowUp",
    "SweepWatermark",
    "REMINDER_LEAD_CHOICES",
    "visit_ended_within",
    "visit_changed_since",
]

# Hours before a visit a patient may choose to be reminded (DESIGN: 48 h and 24 h by default).
REMINDER_LEAD_CHOICES = [(72, "3 days before"), (48, "2 days before"), (24, "1 day before"), (3, "3 hours before")]


def default_reminder_hours() -> list[int]:
    return [48, 24]


class NotificationQuerySet(models.QuerySet):
    def pending(self):
        """Neither sent, given up on, nor withdrawn."""
        return self.filter(sent_at=None, failed_at=None, withdrawn_at=None)

    def claimable(self, now):
        """Pending rows due now whose last claim (if any) has lapsed."""
        return self.pending().filter(next_attempt_at__lte=now).filter(Q(claimed_until=None) | Q(claimed_until__lt=now))

    def inbox_of(self, user):
        """The in-app notifications a staff member sees, newest first."""
        return self.filter(recipient=user, channel=Notification.Channel.IN_APP).exclude(sent_at=None)


class Notification(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "Text message"
        IN_APP = "in_app", "In the app"

    class Kind(models.TextChoices):
        VISIT_REMINDER = "visit_reminder", "Visit reminder"
        VISIT_CHANGED = "visit_changed", "Visit moved, reassigned or cancelled"
        NURSE_AGENDA = "nurse_agenda", "Tomorrow's visits"
        UNASSIGNED_VISIT = "unassigned_visit", "Visit without a nurse"
        CHART_UNSIGNED = "chart_unsigned", "Chart not signed"
        FOLLOW_UP = "follow_up", "Follow-up questions after an infusion"
        DELAYED_REACTION = "delayed_reaction", "Delayed reaction reported"
        FOLLOW_UP_CALL = "follow_up_call", "Follow-up call needed"
        AUTHORIZATION = "authorization", "Prior authorization running out"
        CREATININE_DUE = "creatinine_due", "Creatinine due"
        SEVERE_REACTION = "severe_reaction", "Severe reaction"
        HARD_STOP_OVERRIDE = "hard_stop_override", "Hard stop overridden"
        CHECKIN_EXCEPTION = "checkin_exception", "Check-in not verified"
        EMERGENCY_ACCESS = "emergency_access", "Emergency access to a record"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    # One row per thing to say, per recipient and channel; inserting it twice is a no-op.
    key = models.CharField(max_length=200, unique=True)
    about_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    about_id = models.PositiveBigIntegerField(null=True, blank=True)
    about = GenericForeignKey("about_type", "about_id")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    url = models.CharField(max_length=300, blank=True, help_text="Where in the app the recipient acts on it.")
    address = models.CharField(max_length=254, blank=True, help_text="Email address or phone number it went to.")

    due_at = models.DateTimeField(help_text="When it became due.")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Pointless after this (the visit has begun).")
    next_attempt_at = models.DateTimeField(db_index=True, help_text="Not sent before this (quiet hours, back-off).")
    queued_at = models.DateTimeField(null=True, blank=True, help_text="Last handed to a worker.")
    claimed_until = models.DateTimeField(null=True, blank=True, help_text="A worker is sending it until then.")
    claim_token = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True, help_text="Given up on; the reason is in last_error.")
    withdrawn_at = models.DateTimeField(null=True, blank=True, help_text="No longer true (the visit moved).")
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-due_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "channel", "read_at"]),
            models.Index(fields=["kind", "sent_at"]),
            models.Index(fields=["about_type", "about_id"]),
            # Rows given up on (the alert queue) and rows the sweep may hand out: small parts of a large table
            # (migration 0013).
            models.Index(fields=["failed_at"], condition=Q(failed_at__isnull=False), name="notification_failed"),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(sent_at__isnull=True, failed_at__isnull=True, withdrawn_at__isnull=True),
                name="notification_pending_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=["email", "sms", "in_app"]), name="notification_channel_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.get_channel_display()}"

    @property
    def state(self) -> str:
        if self.sent_at:
            return "sent"
        if self.failed_at:
            return "failed"
        if self.withdrawn_at:
            return "withdrawn"
        return "waiting"


class NotificationPreference(models.Model):
    """How a person wants to hear from us. No row means the defaults below."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    by_email = models.BooleanField("Email", default=True)
    by_sms = models.BooleanField("Text message (SMS)", default=False)
    in_app = models.BooleanField("In the app", default=True, help_text="Staff only.")
    phone = models.CharField(
        "Mobile number for texts", max_length=30, blank=True, help_text="Patients: the phone on file if left empty."
    )
    reminder_hours = models.JSONField("Remind me", default=default_reminder_hours, blank=True)
    quiet_start = models.TimeField("Quiet from", null=True, blank=True, default=time(21, 0))
    quiet_end = models.TimeField("Quiet until", null=True, blank=True, default=time(8, 0))
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Notification preferences of user {self.user_id}"

    def clean(self):
        allowed = {hours for hours, _ in REMINDER_LEAD_CHOICES}
        hours = self.reminder_hours or []
        if not isinstance(hours, list) or any(h not in allowed for h in hours):
            raise ValidationError({"reminder_hours": "Choose reminder times from the list."})
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValidationError({"quiet_end": "Give both ends of the quiet hours, or neither."})
        if self.quiet_start is not None and self.quiet_start == self.quiet_end:
            raise ValidationError({"quiet_end": "Quiet hours must end at a different time than they start."})


class FollowUp(models.Model):
    """The questions a patient is asked after an IVIG cycle (DESIGN §3, delayed reactions)."""

    class Window(models.TextChoices):
        EARLY = "48h", "48 hours after"
        LATE = "day10", "Day 10"

    visit = models.ForeignKey("visits.Visit", on_delete=models.CASCADE, related_name="follow_ups")
    window = models.CharField(max_length=6, choices=Window.choices)
    due_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    positive = models.BooleanField(null=True, blank=True)
    reaction = models.OneToOneField(
        "visits.Reaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_up"
    )
    called_at = models.DateTimeField(null=True, blank=True)
    # A questionnaire opened late (its visit was documented late) is found by the sweep by this, not by due_at.
    created_at = models.DateTimeField(default=timezone.now)
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    call_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-due_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["visit", "window"], name="one_follow_up_per_visit_window")]

    def __str__(self) -> str:
        return f"Follow-up {self.get_window_display()} of visit {self.visit_id}"


class SweepWatermark(models.Model):
    """How far one producer of the notification sweep has derived (``visits.notifications.due``).

    The next sweep of that producer looks only at what became due, or changed, after ``derived_until`` (less a
    small overlap), so a minute with nothing new costs almost nothing. It is moved forward only after the rows
    were inserted: a sweep that dies leaves it behind, and the next one derives that stretch again.
    """

    producer = models.CharField(max_length=40, unique=True)
    derived_until = models.DateTimeField()
    full_at = models.DateTimeField(null=True, blank=True, help_text="Last re-derivation of everything.")

    def __str__(self) -> str:
        return f"{self.producer} derived until {self.derived_until:%Y-%m-%d %H:%M:%S}"


# Visit.planned_minutes is at most 720: a visit planned to end in a stretch started at most this long before it.
LONGEST_VISIT = timedelta(minutes=720)


def visit_ended_within(start, end) -> Q:
    """Visits that may have ended (checked out, or planned to end) in (start, end]; the caller checks each exactly."""
    checked_out = VisitVerification.objects.filter(
        visit=OuterRef("pk"), checked_out_at__gt=start, checked_out_at__lte=end
    )
    return Q(planned_start__gt=start - LONGEST_VISIT, planned_start__lte=end) | Q(Exists(checked_out))


def visit_changed_since(since) -> Q:
    """Visits whose own row or check-in record was saved after ``since``."""
    saved = VisitVerification.objects.filter(visit=OuterRef("pk"), updated_at__gt=since)
    return Q(updated_at__gt=since) | Q(Exists(saved))
