"""The audit trail: who did what to patient data, when (UTC) and from where.

Changes are recorded by django-auditlog for every registered model (the actor and
address come from its middleware); opening a record is recorded with
``record_access``. Entries are append-only: the admin shows them read-only and
the model refuses updates and deletes.
"""

from auditlog.models import LogEntry
from auditlog.signals import accessed
from django.db.models.signals import pre_delete, pre_save
from django.dispatch import receiver


class AuditEntryImmutable(Exception):
    pass


def record_access(instance) -> None:
    accessed.send(sender=instance.__class__, instance=instance)


@receiver(pre_save, sender=LogEntry)
def refuse_edit(sender, instance, **kwargs):
    if instance.pk is not None and not kwargs.get("raw"):
        raise AuditEntryImmutable("Audit entries cannot be edited.")


@receiver(pre_delete, sender=LogEntry)
def refuse_delete(sender, instance, **kwargs):
    raise AuditEntryImmutable("Audit entries cannot be deleted.")
