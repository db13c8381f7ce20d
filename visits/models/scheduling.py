"""The visits themselves, their history, the nurses' availability, and the patient's requests and calendar."""

import secrets
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from infusion_site.roles import COORDINATOR, NURSE, PATIENT, role_of
from patients.models import Patient, validate_time_zone
from visits.models.orders import Competency, TherapyOrder

__all__ = [
    "VisitQuerySet",
    "Visit",
    "VisitEvent",
    "NurseProfile",
    "WorkingHours",
    "TimeOff",
    "RescheduleRequest",
    "new_feed_token",
    "CalendarFeed",
]


class VisitQuerySet(models.QuerySet):
    def visible_to(self, user):
        role = role_of(user)
        if role == COORDINATOR:
            return self.all()
        if role == NURSE:
            # The patients she may see: her care team, and any she holds emergency access to (patients.models).
            return self.filter(patient__in=Patient.objects.visible_to(user))
        if role == PATIENT:
            return self.filter(patient__user=user)
        return self.none()

    def upcoming(self):
        return self.filter(planned_start__gte=timezone.now(), status=Visit.Status.SCHEDULED)

    def active(self):
        """Visits that still take a nurse's time (not cancelled or missed)."""
        return self.exclude(status__in=[Visit.Status.CANCELLED, Visit.Status.MISSED])


class Visit(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CHECKED_IN = "checked_in", "Checked in"
        INFUSING = "infusing", "Infusing"
        OBSERVING = "observing", "Observing"
        COMPLETED = "completed", "Completed"
        SIGNED = "signed", "Signed"
        CANCELLED = "cancelled", "Cancelled"
        MISSED = "missed", "Missed"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="visits")
    order = models.ForeignKey(TherapyOrder, on_delete=models.PROTECT, related_name="visits")
    cycle_number = models.PositiveSmallIntegerField()
    day_number = models.PositiveSmallIntegerField(default=1)
    nurse = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    planned_start = models.DateTimeField(db_index=True)
    planned_minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(15), MaxValueValidator(720)])
    infusion_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    dose_mg = models.DecimalField("Day's dose (mg)", max_digits=10, decimal_places=1, null=True, blank=True)
    volume_ml = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    is_first_infusion = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED, db_index=True)
    authorization_warning = models.CharField(max_length=200, blank=True)
    status_reason = models.CharField(max_length=300, blank=True, help_text="Why it was cancelled or missed.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        ordering = ["planned_start", "pk"]
        indexes = [
            models.Index(fields=["nurse", "planned_start"]),
            models.Index(fields=["status", "planned_start"]),
            # A patient's visits by date: the patient page and the authorization counts (migration 0013).
            models.Index(fields=["patient", "planned_start"], name="visit_patient_start"),
            # The sweep's "saved since", and the visits used inside each prior authorization (migration 0016).
            models.Index(fields=["updated_at"], name="visit_updated_at"),
            models.Index(
                fields=["patient", "planned_start"],
                condition=~Q(status__in=["cancelled", "missed"]),
                name="visit_patient_live_start",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "cycle_number", "day_number"],
                condition=~Q(status__in=["cancelled", "missed"]),
                name="one_live_visit_per_order_day",
            )
        ]

    def __str__(self) -> str:
        return f"Visit {self.pk}"

    @property
    def verification(self):
        """The live check-in record (electronic visit verification), or None; voided ones stay in ``verifications``.

        Reads ``prefetch_related("verifications")`` when the caller prefetched them.
        """
        prefetched = getattr(self, "_prefetched_objects_cache", {}).get("verifications")
        if prefetched is not None:
            return next((row for row in prefetched if row.voided_at is None), None)
        if self.pk is None:
            return None
        return self.verifications.filter(voided_at__isnull=True).first()

    @property
    def planned_end(self):
        return self.planned_start + timedelta(minutes=self.planned_minutes)

    @property
    def is_documented(self) -> bool:
        """Anything past "scheduled" has a chart; it is never regenerated or moved by an order edit."""
        return self.status not in (self.Status.SCHEDULED, self.Status.CANCELLED)

    @property
    def local_start(self):
        return timezone.localtime(self.planned_start, self.patient.zone)

    @property
    def local_end(self):
        return timezone.localtime(self.planned_end, self.patient.zone)

    @property
    def arrival_window(self) -> tuple:
        """The patient is told a 30-minute window starting at the planned time."""
        start = self.local_start
        return start, start + timedelta(minutes=30)


class VisitEvent(models.Model):
    """What happened to a visit's schedule: assigned, moved, cancelled, overridden — and by whom."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        ASSIGNED = "assigned", "Assigned"
        UNASSIGNED = "unassigned", "Unassigned"
        RESCHEDULED = "rescheduled", "Rescheduled"
        CANCELLED = "cancelled", "Cancelled"
        MISSED = "missed", "Marked missed"
        OVERRIDE = "override", "Conflict overridden"

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    detail = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        # Recent changes of one kind: the sweep's "visit moved" notices, the alert queue's overrides (0013).
        indexes = [models.Index(fields=["kind", "at"], name="visitevent_kind_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


class NurseProfile(models.Model):
    nurse = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nurse_profile")
    competencies = models.JSONField(default=list, blank=True)
    max_visits_per_day = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    travel_buffer_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MaxValueValidator(240)], help_text="Between two visits, for the drive."
    )
    time_zone = models.CharField(max_length=64, default=settings.TIME_ZONE, validators=[validate_time_zone])

    def __str__(self) -> str:
        return f"Profile of {self.nurse}"

    def competency_labels(self) -> list[str]:
        return [Competency(code).label for code in self.competencies if code in Competency.values]

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class WorkingHours(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    nurse = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        ordering = ["weekday", "starts"]
        constraints = [
            models.CheckConstraint(condition=Q(ends__gt=models.F("starts")), name="working_hours_end_after_start"),
            models.UniqueConstraint(fields=["nurse", "weekday"], name="one_shift_per_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"


class TimeOff(models.Model):
    nurse = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="time_off")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="time_off_end_after_start")
        ]

    def __str__(self) -> str:
        return f"Time off {self.starts_at:%Y-%m-%d} to {self.ends_at:%Y-%m-%d}"


class RescheduleRequest(models.Model):
    """A patient asks to move a visit; it waits on the coordinator's alert queue."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="reschedule_requests")
    reason = models.TextField(max_length=1000)
    preferred_dates = models.CharField(max_length=300, help_text="Days and times that suit you.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["visit"], condition=Q(resolved_at__isnull=True), name="one_open_reschedule_request_per_visit"
            )
        ]

    def __str__(self) -> str:
        return f"Reschedule request {self.pk}"


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A patient's private calendar address; revoking it makes the old address answer 404."""

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(auto_now=True)
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Calendar feed {self.pk}"
