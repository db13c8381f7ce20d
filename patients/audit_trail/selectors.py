"""Reads of the audit trail: the entries a search asks for, and each entry in the privacy officer's words."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet, TextField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from patients.models import Patient

# Models whose verbose name is not what a nurse or a privacy officer would call the row.
PLAIN_NAMES = {
    "patients.patient": "Patient record",
    "patients.careteammember": "Care team membership",
    "patients.weightmeasurement": "Weight",
    "patients.labresult": "Lab result",
    "patients.priorauthorization": "Prior authorization",
    "patients.portalinvitation": "Portal invitation",
    "patients.symptomentry": "Symptom journal entry",
    "patients.emergencyaccess": "Emergency access",
    "visits.therapyorder": "Therapy order",
    "visits.visitevent": "Visit history event",
    "visits.reschedulerequest": "Reschedule request",
    "visits.clientwrite": "Tablet entry",
    "visits.alerthandling": "Alert handling",
    "visits.visitverification": "Check-in and check-out",
    "visits.preinfusionchecklist": "Pre-infusion checklist",
    "visits.premedicationgiven": "Premedication",
    "visits.vialused": "Vial",
    "visits.infusionrecord": "Infusion record",
    "visits.ratechange": "Rate change",
    "visits.vitalsigns": "Vital-sign set",
    "visits.reaction": "Reaction",
    "visits.assessment": "Assessment",
    "visits.visitsignature": "Signature",
    "visits.addendum": "Addendum",
    "visits.outcomemeasure": "Outcome measures",
    "visits.followup": "Follow-up call",
    "visits.scigteaching": "SCIG teaching",
    "visits.selfinfusion": "Self-infusion log",
    "visits.selfinfusionvial": "Self-infusion vial",
    "visits.calendarfeed": "Calendar feed",
    "visits.notification": "Notification",
    "auth.user": "User",
}

# The kinds of entry the trail holds beyond auditlog's four actions, marked in ``additional_data``.
SEARCH_MARK = "audit_search"
EXPORT_MARK = "audit_export"
EMERGENCY_MARK = "emergency_access"  # written by patients.emergency while a nurse holds break-the-glass access

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditSearch:
    """What the officer asked for; kept in the session as ids and dates, never a name in the address."""

    patient_id: int | None = None
    user_id: int | None = None
    since: date | None = None
    until: date | None = None

    def as_session(self) -> dict:
        return {
            "patient_id": self.patient_id,
            "user_id": self.user_id,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }

    @classmethod
    def from_session(cls, data) -> "AuditSearch | None":
        if not isinstance(data, dict):
            return None
        try:
            return cls(
                patient_id=int(data["patient_id"]) if data.get("patient_id") else None,
                user_id=int(data["user_id"]) if data.get("user_id") else None,
                since=date.fromisoformat(data["since"]) if data.get("since") else None,
                until=date.fromisoformat(data["until"]) if data.get("until") else None,
            )
        except (KeyError, TypeError, ValueError):
            return None


def _start_of(day: date) -> datetime:
    # Days are the agency's local days (TIME_ZONE); entries are stored in UTC.
    return timezone.make_aware(datetime.combine(day, time.min))


def _key_text(key: str):
    """``additional_data->>'key'`` on PostgreSQL, the expression infusion_site's 0002 migration indexes (the text
    cast is a no-op there); on SQLite the cast makes a number stored under the key compare with its text."""
    return Cast(KT(f"additional_data__{key}"), TextField())


def audit_entries(*, search: AuditSearch) -> QuerySet[LogEntry]:
    """The entries a search finds, newest first."""
    entries = LogEntry.objects.select_related("content_type", "actor").order_by("-timestamp", "-pk")
    if search.patient_id is not None:
        entries = entries.alias(patient_key=_key_text("patient_id")).filter(patient_key=str(search.patient_id))
    if search.user_id is not None:
        user = get_user_model().objects.filter(pk=search.user_id).first()
        entries = entries.alias(actor_key=_key_text("actor_username"))
        recorded = Q(actor_key=user.get_username()) if user is not None else Q(pk__in=[])
        entries = entries.filter(Q(actor_id=search.user_id) | recorded)
    if search.since is not None:
        entries = entries.filter(timestamp__gte=_start_of(search.since))
    if search.until is not None:
        entries = entries.filter(timestamp__lt=_start_of(search.until + timedelta(days=1)))
    return entries


@dataclass(frozen=True)
class AuditRow:
    entry: LogEntry
    when: datetime  # local time
    who: str
    what: str
    record: str
    patient: object | None  # a Patient, or None when the entry is about no patient
    address: str
    emergency: bool


def what_happened(entry: LogEntry) -> str:
    data = entry.additional_data if isinstance(entry.additional_data, dict) else {}
    if data.get(SEARCH_MARK) is not None:
        return "searched the audit trail"
    if data.get(EXPORT_MARK) is not None:
        return "exported the audit trail"
    if entry.action == LogEntry.Action.ACCESS:
        return "opened"
    if entry.action == LogEntry.Action.CREATE:
        return "created"
    if entry.action == LogEntry.Action.DELETE:
        return "deleted"
    changes = entry.changes if isinstance(entry.changes, dict) else {}
    voided = changes.get("voided_at")
    if isinstance(voided, list | tuple) and len(voided) == 2 and voided[0] in (None, "None", ""):
        return "voided"
    return "changed"


def plain_name(entry: LogEntry) -> str:
    content_type = entry.content_type
    if content_type is None:
        return "Record"
    label = f"{content_type.app_label}.{content_type.model}"
    if label in PLAIN_NAMES:
        return PLAIN_NAMES[label]
    model = content_type.model_class()
    return str(model._meta.verbose_name).capitalize() if model else content_type.model


def who_did_it(entry: LogEntry) -> str:
    """As recorded at the time; an entry from before the snapshot falls back to the account as it is now."""
    data = entry.additional_data if isinstance(entry.additional_data, dict) else {}
    name, username = data.get("actor_name"), data.get("actor_username")
    if username:
        return f"{name} ({username})" if name and name != username else username
    if entry.actor is not None:
        return f"{entry.actor.get_full_name() or entry.actor.get_username()} ({entry.actor.get_username()})"
    return "No one signed in (system or calendar feed)"


def audit_rows(entries) -> list[AuditRow]:
    """The page's entries in words; their patients in one query."""
    entries = list(entries)
    patient_ids = {
        entry.additional_data.get("patient_id")
        for entry in entries
        if isinstance(entry.additional_data, dict) and entry.additional_data.get("patient_id")
    }
    patients = Patient.objects.in_bulk(patient_ids) if patient_ids else {}
    rows = []
    for entry in entries:
        data = entry.additional_data if isinstance(entry.additional_data, dict) else {}
        rows.append(
            AuditRow(
                entry=entry,
                when=timezone.localtime(entry.timestamp),
                who=who_did_it(entry),
                what=what_happened(entry),
                record=plain_name(entry),
                patient=patients.get(data.get("patient_id")),
                address=entry.remote_addr or "",
                emergency=bool(data.get(EMERGENCY_MARK)),
            )
        )
    return rows
