"""The alert queue's frame: what an alert is, how a source of alerts registers, and the wording sources share.

Each kind of alert is one function decorated with ``@alert_source("kind")`` that returns a list of ``Alert``
(``sources.py`` for what the chart and the schedule show, ``background.py`` for what the background jobs find).
A new kind is one more decorated function; the page and its tests need no change. Each source makes a fixed
number of queries, whatever the amount of data, so the page stays fast.

A kind that can have thousands of alerts at agency size also declares ``rows`` (``rows(now=)``: a queryset of the
rows it is about, filtered exactly as its list, annotated with ``alert_severity``, ``alert_due`` and ``alert_key``)
and ``build`` (``build(row, now=)``: one row's ``Alert``). The queue then counts it, and reads only the page it
shows, in the database; its list function stays what the notification sweep reads.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import IntEnum

from django.db.models import Case, CharField, IntegerField, Q, Value, When
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from patients.models import Patient
from visits.board.views import board_url_for_visit
from visits.models import Visit


class Severity(IntEnum):
    """Lower sorts first."""

    URGENT = 1
    SOON = 2
    INFO = 3

    @property
    def label(self) -> str:
        return {Severity.URGENT: "Urgent", Severity.SOON: "Soon", Severity.INFO: "To handle"}[self]

    @property
    def css(self) -> str:
        return {Severity.URGENT: "danger", Severity.SOON: "warning", Severity.INFO: "secondary"}[self]


@dataclass
class Alert:
    kind: str
    severity: Severity
    title: str
    detail: str  # in words, for the coordinator
    url: str  # where the coordinator acts on it
    due: datetime  # sorts alerts of equal severity
    about: object  # the row the alert is about
    action_label: str = "Open"
    # A partial included under the alert, for kinds that are handled right on the queue.
    form_template: str = ""
    lines: list[str] = field(default_factory=list)  # extra facts, one a line
    # What, besides the row, makes this alert a fact of its own (e.g. the day a dose was due): a new fact about the
    # same row is a new alert, even when the last one was resolved. Letters, digits, "_" and "-" only.
    fact: str = ""
    # Kinds whose own form (``form_template``) is how they are resolved: closing a request, recording a call.
    resolved_by_own_form: bool = False
    # What a coordinator has done about it (a ``visits.models.AlertHandling``), set by the queue's selector.
    handling: object = None

    @property
    def anchor(self) -> str:
        """The alert's place on the page: unique across kinds (two kinds may be about rows with the same pk)."""
        return f"{self.kind}-{getattr(self.about, 'pk', id(self.about))}"

    @property
    def key(self) -> str:
        """Stable for one fact, whenever the queue is read: what an acknowledgement or a resolution is kept under."""
        return f"{self.anchor}-{self.fact}" if self.fact else self.anchor

    @property
    def is_acknowledged(self) -> bool:
        return self.handling is not None and self.handling.state == "acknowledged"

    def subject(self) -> tuple[object | None, Visit | None]:
        """(patient, visit) the alert is about, for the history; uses only what the source already loaded."""
        about = self.about
        visit = about if isinstance(about, Visit) else getattr(about, "visit", None)
        if isinstance(visit, Visit):
            return visit.patient, visit
        patient = getattr(about, "patient", None)
        if patient is None and hasattr(about, "recipient"):
            patient = getattr(about.recipient, "patient_record", None)
        if patient is None and isinstance(about, Patient):
            patient = about
        return patient, None


@dataclass(frozen=True)
class AlertSource:
    kind: str
    label: str
    collect: Callable[..., list[Alert]]
    rows: Callable | None = None
    build: Callable[..., Alert] | None = None
    team: str = ""  # the lookup from a row to its patient's team id, for "own teams first"

    @property
    def in_database(self) -> bool:
        return self.rows is not None


SOURCES: dict[str, AlertSource] = {}


def alert_source(kind: str, *, label: str | None = None, rows=None, build=None, team: str = ""):
    """Register a function ``f(*, now) -> list[Alert]`` as the source of one kind of alert (and, for a big kind,
    the ``rows`` and ``build`` it is made of: see the module's docstring)."""

    def register(collect):
        if kind in SOURCES:
            raise ValueError(f"Alert kind {kind!r} is registered twice")
        if (rows is None) != (build is None):
            raise ValueError(f"Alert kind {kind!r} needs both rows and build, or neither")
        label_text = label or kind.replace("_", " ").capitalize()
        SOURCES[kind] = AlertSource(kind, label_text, collect, rows=rows, build=build, team=team)
        return collect

    return register


def key_of(kind: str, *facts):
    """``Alert.key`` in SQL, ``"<kind>-<pk>"`` then ``"-<fact>"`` for each fact expression given, so that the
    database can leave resolved alerts out."""
    key = Concat(Value(f"{kind}-"), Cast("pk", CharField()), output_field=CharField())
    for fact in facts:
        key = Concat(key, Value("-"), fact, output_field=CharField())
    return key


def severity_when(urgent: Q | None, *, otherwise: "Severity" = None):
    """``alert_severity`` in SQL: urgent where ``urgent`` holds, else ``otherwise`` (soon by default)."""
    otherwise = Value(int(otherwise or Severity.SOON), output_field=IntegerField())
    if urgent is None:
        return otherwise
    return Case(When(urgent, then=Value(int(Severity.URGENT))), default=otherwise, output_field=IntegerField())


# --- Wording shared by the sources ---------------------------------------------------------


def board_url(visit: Visit) -> str:
    """The coordinator board opened on the visit's day with its card highlighted (visits.board)."""
    return board_url_for_visit(visit.pk)


def when_text(moment: datetime, zone) -> str:
    """Staff read one clock style everywhere: 24-hour, with the zone the time is in."""
    local = timezone.localtime(moment, zone)
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M} {local.tzname()}"


def in_how_long(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if delta < timedelta(0):
        return "already started"
    if hours < 1:
        return "in less than an hour"
    if hours < 48:
        return f"in {hours} hour{'s' if hours != 1 else ''}"
    return f"in {hours // 24} days"


def days_text(days: int) -> str:
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"in {days} days"


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
