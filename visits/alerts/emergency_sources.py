"""Alerts from emergency access ("break the glass", patients.emergency): a nurse outside the care team has opened a
record. Urgent while the access is open, so a coordinator can check the reason and end it early; shown for a day
after, for review. One query, whatever the number of accesses."""

from datetime import datetime, timedelta

from django.db.models import Q
from django.urls import reverse

from patients.models import EmergencyAccess
from visits.alerts.registry import Alert, Severity, alert_source, when_text

SHOWN_AFTER_START_FOR = timedelta(hours=24)
REASON_SHOWN = 300


@alert_source("emergency_access", label="Emergency access to a record outside the care team")
def emergency_accesses(*, now: datetime, since: datetime | None = None) -> list[Alert]:
    accesses = (
        EmergencyAccess.objects.filter(
            Q(ended_at=None, expires_at__gt=now) | Q(started_at__gte=now - SHOWN_AFTER_START_FOR)
        )
        .select_related("patient", "nurse")
        .order_by("started_at", "pk")
    )
    if since is not None:
        accesses = accesses.filter(started_at__gt=since)
    alerts = []
    for access in accesses:
        nurse = access.nurse.get_full_name() or access.nurse.username
        zone = access.patient.zone
        is_open = access.is_active(now)
        reason = " ".join(access.reason.split())
        if len(reason) > REASON_SHOWN:
            reason = reason[:REASON_SHOWN].rstrip() + "…"
        if is_open:
            state = f"Open until {when_text(access.expires_at, zone)}."
        elif access.ended_at:
            state = f"Ended early {when_text(access.ended_at, zone)}."
        else:
            state = f"Expired {when_text(access.expires_at, zone)}."
        alerts.append(
            Alert(
                kind="emergency_access",
                severity=Severity.URGENT if is_open else Severity.INFO,
                title=f"Emergency access: {nurse} opened {access.patient.full_name}'s record",
                detail=f"Started {when_text(access.started_at, zone)}. {state}",
                url=reverse("emergency:list") + f"#emergency-access-{access.pk}",
                action_label="Review or end it" if is_open else "Review",
                due=access.started_at,
                about=access,
                lines=[f"Reason: {reason}", f"Audit trail mark: emergency access #{access.pk}."],
            )
        )
    return alerts
