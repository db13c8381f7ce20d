"""The mark on the audit trail: every entry written while a nurse holds emergency access carries
``additional_data["emergency_access"] = <EmergencyAccess id>``, so the privacy officer's search can show which
reads and writes happened under it."""

from contextvars import ContextVar

from auditlog.models import LogEntry
from django.db.models.signals import pre_save
from django.dispatch import receiver

MARK = "emergency_access"

# The access the current request runs under (set by the middleware for the length of one request).
current_emergency_access: ContextVar[int | None] = ContextVar("current_emergency_access", default=None)


@receiver(pre_save, sender=LogEntry)
def mark_entry(sender, instance, **kwargs):
    access_id = current_emergency_access.get()
    if access_id is None or instance.pk is not None or kwargs.get("raw"):
        return
    data = instance.additional_data if isinstance(instance.additional_data, dict) else {}
    if MARK not in data:  # an entry about one access (a page opened under it) keeps that access's own id
        instance.additional_data = {**data, MARK: access_id}
