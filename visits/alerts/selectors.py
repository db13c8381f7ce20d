"""The queue as the coordinator reads it: every registered source run, sorted by urgency, grouped by kind, with what
has been done about each alert; and the history of handled alerts for a patient or a visit."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from patients.models import Patient
from visits.alerts import registry
from visits.alerts.registry import Alert, AlertSource, Severity
from visits.models import AlertHandling


def sort_key(alert: Alert):
    return (alert.severity, alert.due, alert.kind, alert.key)


def collect_alerts(*, now: datetime | None = None, kinds=None) -> list[Alert]:
    now = now or timezone.now()
    chosen = [source for source in registry.SOURCES.values() if kinds is None or source.kind in kinds]
    alerts = [alert for source in chosen for alert in source.collect(now=now)]
    return sorted(alerts, key=sort_key)


ALERTS_PER_PAGE = 20  # a category shows this many, and as many more per "Show more"


@dataclass
class AlertGroup:
    source: AlertSource
    alerts: list[Alert]
    pages: int = 1  # how many pages of the category are shown

    @property
    def count(self) -> int:
        return len(self.alerts)

    @property
    def urgent_count(self) -> int:
        return sum(alert.severity == Severity.URGENT for alert in self.alerts)

    @property
    def shown(self) -> list[Alert]:
        return self.alerts[: self.pages * ALERTS_PER_PAGE]

    @property
    def hidden_count(self) -> int:
        return max(self.count - self.pages * ALERTS_PER_PAGE, 0)


def _loaded(row, name: str):
    """A related row its source already loaded (select_related), or None: never a query per alert."""
    state = getattr(row, "_state", None)
    return state.fields_cache.get(name) if state is not None else None


def team_of(alert: Alert) -> int | None:
    """The team of the patient an alert is about, from what its source already loaded (no query)."""
    about = alert.about
    if isinstance(about, Patient):
        return about.team_id
    patient = _loaded(about, "patient") or _loaded(_loaded(about, "visit"), "patient")
    return patient.team_id if patient is not None else None


def group_alerts(alerts: list[Alert], *, own_team_ids=(), pages: dict[str, int] | None = None) -> list[AlertGroup]:
    """One group per registered kind, in registration order: the alerts about the coordinator's own teams' patients
    first, each part keeping the sorted order; ``pages`` says how many pages of a kind to show (1 by default)."""
    own = set(own_team_ids)
    pages = pages or {}
    groups = []
    for kind, source in registry.SOURCES.items():
        of_kind = [alert for alert in alerts if alert.kind == kind]
        for alert in of_kind:
            alert.is_own_team = bool(own) and team_of(alert) in own
        of_kind.sort(key=lambda alert: not alert.is_own_team)  # stable: urgency order within each part
        groups.append(AlertGroup(source, of_kind, pages.get(kind, 1)))
    return groups


# --- What has been done about them ------------------------------------------------------------------


def handlings_by_key(keys) -> dict[str, AlertHandling]:
    """One query, whatever the number of alerts."""
    keys = list(keys)
    if not keys:
        return {}
    rows = AlertHandling.objects.filter(key__in=keys).select_related("acknowledged_by", "resolved_by")
    return {row.key: row for row in rows}


def open_alerts(*, now: datetime | None = None, kinds=None) -> list[Alert]:
    """The queue: every alert not yet resolved, each carrying its acknowledgement (who, when) if it has one.

    An alert derived again for a fact already resolved (same key) stays off the queue.
    """
    alerts = collect_alerts(now=now, kinds=kinds)
    handled = handlings_by_key(alert.key for alert in alerts)
    shown = []
    for alert in alerts:
        alert.handling = handled.get(alert.key)
        if alert.handling is None or not alert.handling.is_resolved:
            shown.append(alert)
    return shown


IN_HAND_SHOWN = 50


def in_hand_no_longer_raised(*, shown_keys, limit: int = IN_HAND_SHOWN) -> list[AlertHandling]:
    """Alerts someone took on whose source no longer raises them (aged out of its window, say): still to be
    closed with a note rather than forgotten. One query."""
    return list(
        AlertHandling.objects.filter(state=AlertHandling.State.ACKNOWLEDGED)
        .exclude(key__in=list(shown_keys))
        .select_related("acknowledged_by")
        .order_by("-acknowledged_at", "-pk")[:limit]
    )


def taken_on(key: str) -> AlertHandling | None:
    """The acknowledgement kept under ``key``, if the alert is acknowledged and not yet resolved."""
    return AlertHandling.objects.filter(key=key, state=AlertHandling.State.ACKNOWLEDGED).first()


def kind_of_key(key: str) -> str | None:
    kind = key.split("-", 1)[0]
    return kind if kind in registry.SOURCES else None


def alert_by_key(key: str, *, now: datetime | None = None) -> Alert | None:
    """The alert with this key as the queue derives it now (resolved or not), or None: only its kind is read."""
    kind = kind_of_key(key)
    if kind is None:
        return None
    found = [alert for alert in collect_alerts(now=now, kinds={kind}) if alert.key == key]
    if not found:
        return None
    alert = found[0]
    alert.handling = handlings_by_key([key]).get(key)
    return alert


def alert_history(*, patient=None, visit=None, limit: int = 50):
    """Acknowledged and resolved alerts about a patient or a visit, newest first (the patient's and the chart's
    history). One query."""
    if patient is None and visit is None:
        raise ValueError("alert_history needs a patient or a visit")
    rows = AlertHandling.objects.select_related("acknowledged_by", "resolved_by")
    if visit is not None:
        rows = rows.filter(visit=visit)
    if patient is not None:
        rows = rows.filter(patient=patient)
    return list(rows[:limit])  # the model's order: in hand first, then newest resolved


RESOLVED_SHOWN = 100


def recently_resolved(*, limit: int = RESOLVED_SHOWN):
    """The latest resolved alerts across the agency, newest first, for the queue's "Resolved" view."""
    return list(
        AlertHandling.objects.filter(state=AlertHandling.State.RESOLVED)
        .select_related("acknowledged_by", "resolved_by")
        .order_by("-resolved_at", "-pk")[:limit]
    )
