"""The queue as the coordinator reads it: every registered source run, sorted by urgency, grouped by kind, with what
has been done about each alert; and the history of handled alerts for a patient or a visit."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, Count, Exists, OuterRef, Q, Value, When
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
    """One kind on the queue: the alerts of the pages shown, and the counts of every open alert of the kind."""

    source: AlertSource
    shown: list[Alert]
    count: int
    urgent_count: int
    pages: int = 1  # how many pages of the category are shown

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


def open_rows(source: AlertSource, *, now: datetime):
    """A database source's rows whose alert is not resolved (a resolution is kept under the alert's key)."""
    resolved = AlertHandling.objects.filter(key=OuterRef("alert_key"), state=AlertHandling.State.RESOLVED)
    return source.rows(now=now).filter(~Exists(resolved))


def _database_group(source: AlertSource, *, now: datetime, own: set, pages: int) -> AlertGroup:
    """Two queries, whatever the number of alerts: the counts, then the rows of the pages shown, own teams' first."""
    rows = open_rows(source, now=now)
    counts = rows.aggregate(count=Count("pk"), urgent=Count("pk", filter=Q(alert_severity=Severity.URGENT)))
    own_first = Value(1)
    if own and source.team:
        own_first = Case(When(**{f"{source.team}__in": own}, then=Value(0)), default=Value(1))
    page = rows.annotate(other_team=own_first).order_by("other_team", "alert_severity", "alert_due", "pk")
    shown = []
    for row in page[: pages * ALERTS_PER_PAGE]:
        alert = source.build(row, now=now)
        alert.is_own_team = not row.other_team
        shown.append(alert)
    return AlertGroup(source, shown, counts["count"], counts["urgent"], pages)


def _listed_group(source: AlertSource, alerts: list[Alert], *, own: set, pages: int) -> AlertGroup:
    for alert in alerts:
        alert.is_own_team = bool(own) and team_of(alert) in own
    alerts.sort(key=lambda alert: not alert.is_own_team)  # stable: urgency order within each part
    urgent = sum(alert.severity == Severity.URGENT for alert in alerts)
    return AlertGroup(source, alerts[: pages * ALERTS_PER_PAGE], len(alerts), urgent, pages)


@dataclass
class AlertQueue:
    groups: list[AlertGroup]
    in_hand: list[AlertHandling]  # taken on, no longer raised

    @property
    def count(self) -> int:
        return sum(group.count for group in self.groups)

    @property
    def urgent_count(self) -> int:
        return sum(group.urgent_count for group in self.groups)


def alert_queue(*, now: datetime | None = None, own_team_ids=(), pages: dict[str, int] | None = None) -> AlertQueue:
    """One group per registered kind, in registration order, the alerts about the coordinator's own teams'
    patients first, each part in urgency order; ``pages`` says how many pages of a kind to show (1 by default).

    A database source costs two queries and a listed one its own, whatever the number of alerts; one more reads
    what has been done about the alerts shown (each carries its acknowledgement), and the alerts in hand cost
    one, plus one per database kind among them."""
    now = now or timezone.now()
    own, pages = set(own_team_ids), pages or {}
    by_kind: dict[str, list[Alert]] = {}
    listed = {kind for kind, source in registry.SOURCES.items() if not source.in_database}
    for alert in collect_alerts(now=now, kinds=listed):
        by_kind.setdefault(alert.kind, []).append(alert)
    groups = {
        kind: _database_group(source, now=now, own=own, pages=pages.get(kind, 1))
        for kind, source in registry.SOURCES.items()
        if source.in_database
    }
    listed_keys = [alert.key for alerts in by_kind.values() for alert in alerts]
    shown_keys = [alert.key for group in groups.values() for alert in group.shown]
    handled = handlings_by_key(listed_keys + shown_keys)
    for group in groups.values():
        for alert in group.shown:
            alert.handling = handled.get(alert.key)
    for kind, source in registry.SOURCES.items():
        if not source.in_database:
            alerts = []
            for alert in by_kind.get(kind, []):
                alert.handling = handled.get(alert.key)
                if alert.handling is None or not alert.handling.is_resolved:
                    alerts.append(alert)
            groups[kind] = _listed_group(source, alerts, own=own, pages=pages.get(kind, 1))
    in_hand = in_hand_no_longer_raised(now=now, listed_keys=set(listed_keys))
    return AlertQueue([groups[kind] for kind in registry.SOURCES], in_hand)


# --- What has been done about them ------------------------------------------------------------------


def handlings_by_key(keys) -> dict[str, AlertHandling]:
    """One query, whatever the number of alerts."""
    keys = list(keys)
    if not keys:
        return {}
    rows = AlertHandling.objects.filter(key__in=keys).select_related("acknowledged_by", "resolved_by")
    return {row.key: row for row in rows}


def open_alerts(*, now: datetime | None = None, kinds=None) -> list[Alert]:
    """Every alert not yet resolved, each carrying its acknowledgement (who, when) if it has one.

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
IN_HAND_LOOKED_AT = 500  # acknowledged alerts are a coordinator's work in hand: a few dozen, not thousands


def _pk_of_key(key: str) -> int | None:
    parts = key.split("-")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() and len(parts[1]) <= 18 else None


def raised_keys(keys, *, now: datetime, listed_keys=None) -> set[str]:
    """Which of these alert keys their sources still raise: a query per kind named, reading only those rows of a
    database source; ``listed_keys`` are those the listed sources raise, when they were already collected."""
    by_kind: dict[str, list[str]] = {}
    for key in keys:
        if kind_of_key(key):
            by_kind.setdefault(kind_of_key(key), []).append(key)
    raised = set()
    for kind, of_kind in by_kind.items():
        source = registry.SOURCES[kind]
        if source.in_database:
            pks = {_pk_of_key(key) for key in of_kind} - {None}
            rows = source.rows(now=now).filter(pk__in=pks, alert_key__in=of_kind)
            raised.update(rows.values_list("alert_key", flat=True))
        elif listed_keys is not None:
            raised.update(key for key in of_kind if key in listed_keys)
        else:
            raised.update(alert.key for alert in source.collect(now=now) if alert.key in of_kind)
    return raised


def in_hand_no_longer_raised(*, now: datetime | None = None, listed_keys=None, limit=IN_HAND_SHOWN) -> list:
    """Alerts someone took on whose source no longer raises them (aged out of its window, say): still to be
    closed with a note rather than forgotten."""
    taken = list(
        AlertHandling.objects.filter(state=AlertHandling.State.ACKNOWLEDGED)
        .select_related("acknowledged_by")
        .order_by("-acknowledged_at", "-pk")[:IN_HAND_LOOKED_AT]
    )
    raised = raised_keys([handling.key for handling in taken], now=now or timezone.now(), listed_keys=listed_keys)
    return [handling for handling in taken if handling.key not in raised][:limit]


def taken_on(key: str) -> AlertHandling | None:
    """The acknowledgement kept under ``key``, if the alert is acknowledged and not yet resolved."""
    return AlertHandling.objects.filter(key=key, state=AlertHandling.State.ACKNOWLEDGED).first()


def kind_of_key(key: str) -> str | None:
    kind = key.split("-", 1)[0]
    return kind if kind in registry.SOURCES else None


def alert_by_key(key: str, *, now: datetime | None = None) -> Alert | None:
    """The alert with this key as the queue derives it now (resolved or not), or None: only its kind is read, and
    of a database source only its row."""
    kind = kind_of_key(key)
    if kind is None:
        return None
    now = now or timezone.now()
    source = registry.SOURCES[kind]
    if source.in_database:
        pk = _pk_of_key(key)
        row = source.rows(now=now).filter(pk=pk, alert_key=key).first() if pk is not None else None
        found = [source.build(row, now=now)] if row is not None else []
    else:
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
