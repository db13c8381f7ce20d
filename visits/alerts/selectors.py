"""The queue as the coordinator reads it: every registered source run, sorted by urgency, grouped by kind."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from visits.alerts import registry
from visits.alerts.registry import Alert, AlertSource, Severity


def sort_key(alert: Alert):
    return (alert.severity, alert.due, alert.kind, alert.key)


def collect_alerts(*, now: datetime | None = None, kinds=None) -> list[Alert]:
    now = now or timezone.now()
    chosen = [source for source in registry.SOURCES.values() if kinds is None or source.kind in kinds]
    alerts = [alert for source in chosen for alert in source.collect(now=now)]
    return sorted(alerts, key=sort_key)


@dataclass
class AlertGroup:
    source: AlertSource
    alerts: list[Alert]

    @property
    def count(self) -> int:
        return len(self.alerts)

    @property
    def urgent_count(self) -> int:
        return sum(alert.severity == Severity.URGENT for alert in self.alerts)


def group_alerts(alerts: list[Alert]) -> list[AlertGroup]:
    """One group per registered kind, in registration order, each keeping the sorted order."""
    return [
        AlertGroup(source, [alert for alert in alerts if alert.kind == kind])
        for kind, source in registry.SOURCES.items()
    ]
