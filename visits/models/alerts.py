"""What a coordinator did about an alert: acknowledged it ("I am on it") or resolved it with a note.

Alerts themselves are derived from the chart, the schedule and the background jobs each time the queue is read
(``visits.alerts``); this row is keyed by the alert's stable key, so an alert that is derived again for the same
fact stays handled. Title and detail are kept as they read when it was handled, for the visit's and the patient's
history, after the alert itself has aged out.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

__all__ = ["AlertHandling"]


class AlertHandling(models.Model):
    class State(models.TextChoices):
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=40)
    state = models.CharField(max_length=12, choices=State.choices)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.SET_NULL, related_name="alert_handlings"
    )
    visit = models.ForeignKey(
        "visits.Visit", null=True, blank=True, on_delete=models.SET_NULL, related_name="alert_handlings"
    )
    title = models.CharField(max_length=300)
    detail = models.TextField(blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(max_length=2000, blank=True)

    class Meta:
        # Newest first, those still in hand (acknowledged, not resolved) on top, on every database.
        ordering = [models.F("resolved_at").desc(nulls_first=True), "-acknowledged_at", "-pk"]
        indexes = [models.Index(fields=["state", "-resolved_at"], name="alert_handling_resolved")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="resolved") | (Q(resolved_at__isnull=False) & ~Q(note="")),
                name="alert_resolved_has_time_and_note",
            ),
            models.CheckConstraint(
                condition=~Q(state="acknowledged") | Q(acknowledged_at__isnull=False),
                name="alert_acknowledged_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Alert {self.key} ({self.get_state_display().lower()})"

    @property
    def is_resolved(self) -> bool:
        return self.state == self.State.RESOLVED
