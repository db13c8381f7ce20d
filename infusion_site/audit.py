"""The audit trail: who did what to patient data, when (UTC) and from where.

Changes are recorded by django-auditlog for every registered model (the actor and
address come from its middleware); opening a record is recorded with
``record_access`` (one record) or ``record_accesses`` (a list page: one entry per
patient shown, in one insert). Entries are append-only: the admin shows them
read-only and the model refuses updates and deletes.

Every new entry carries in ``additional_data``:
  ``actor_username`` / ``actor_name``  the actor as written at the time, so renaming or deactivating a user never
                                       changes history;
  ``patient_id``                       the patient the row belongs to, so the privacy officer's search finds a
                                       vital-sign set or a vial as "Maria's record";
  ``emergency_access``                 set by patients.emergency while a nurse holds break-the-glass access.
"""

from contextvars import ContextVar

from auditlog.models import LogEntry
from auditlog.signals import pre_log
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.db.models.signals import post_migrate, pre_delete, pre_save
from django.dispatch import receiver

# The permission that opens /audit/ (infusion_site.roles.PRIVACY_OFFICER holds it); kept on auditlog's LogEntry.
AUDIT_TRAIL_PERMISSION = "auditlog.view_audit_trail"
AUDIT_TRAIL_CODENAME = "view_audit_trail"


class AuditEntryImmutable(Exception):
    pass


class UserHasAuditHistory(Exception):
    """A user who appears in the audit trail is deactivated, never deleted: the trail must keep naming them."""


def record_access(instance) -> None:
    """One access entry for opening ``instance`` (a patient, or a row that belongs to one)."""
    record_accesses([instance])


def record_accesses(instances) -> None:
    """One access entry per distinct record, in one insert whatever their number (list pages stay flat)."""
    _insert(
        [
            (ContentType.objects.get_for_model(instance), instance.pk, _repr(instance), patient_id_of(instance))
            for instance in instances
            if instance is not None and instance.pk is not None
        ]
    )


def record_patient_accesses(patient_ids) -> None:
    """One access entry per patient shown on a list page (the board, the alert queue), by id: a page need not
    load the patients to say whose data it showed."""
    # By name: infusion_site is shared by the apps and imports none of them.
    content_type = ContentType.objects.get_for_model(apps.get_model("patients", "Patient"))
    _insert([(content_type, pk, f"Patient {pk}", pk) for pk in patient_ids if pk is not None])


def patient_ids_of_objects(pairs) -> list[int]:
    """The patients behind generic references ``(content_type_id, object_id)`` (a notification's "about"): one
    query per kind of row, whatever their number."""
    by_type: dict[int, set] = {}
    for content_type_id, object_id in pairs:
        if content_type_id is not None and object_id is not None:
            by_type.setdefault(content_type_id, set()).add(object_id)
    found = []
    for content_type_id, ids in by_type.items():
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        path = patient_path(model)
        if path == "pk":
            found += sorted(ids)
        elif path:
            found += model._default_manager.filter(pk__in=ids).values_list(path, flat=True)
    return [pk for pk in found if pk is not None]


def patient_path(model) -> str | None:
    """The lookup from a model to its patient's id (``visit__patient_id``), or None for rows of no patient."""
    if model is None:
        return None
    if model._meta.label == "patients.Patient":
        return "pk"
    names = {field.name for field in model._meta.concrete_fields}
    if "patient" in names:
        return "patient_id"
    for name in _TOWARDS_PATIENT:
        if name in names:
            inner = patient_path(model._meta.get_field(name).related_model)
            return f"{name}__{inner}" if inner else None
    return None


def _insert(rows) -> None:
    """Write access entries in one insert. The receivers a single save would run (actor and address from
    auditlog's middleware, the emergency mark, the snapshot below) are sent by hand: ``bulk_create`` sends none."""
    seen, entries = set(), []
    for content_type, pk, text, patient_id in rows:
        if (content_type.pk, pk) in seen:
            continue
        seen.add((content_type.pk, pk))
        entry = LogEntry(
            content_type=content_type,
            object_pk=str(pk),
            object_id=pk if isinstance(pk, int) else None,
            object_repr=text,
            action=LogEntry.Action.ACCESS,
            changes={},
            additional_data={"patient_id": patient_id},
        )
        pre_save.send(sender=LogEntry, instance=entry, raw=False, using="default", update_fields=None)
        entries.append(entry)
    if entries:
        LogEntry.objects.bulk_create(entries)


def _repr(instance) -> str:
    try:
        return str(instance)[:200]
    except ObjectDoesNotExist:
        return instance._meta.verbose_name


# --- which patient a row belongs to ------------------------------------------------------------------------------

# Foreign keys that lead from a chart or portal row towards its patient, tried in this order.
_TOWARDS_PATIENT = ("visit", "self_infusion", "order", "follow_up")


def patient_id_of(instance, depth: int = 0, *, cached_only: bool = False) -> int | None:
    """The id of the patient a row belongs to, or None (a product, a nurse's hours).

    ``cached_only`` follows only relations already loaded, so a list page asking for each row's patient runs no
    query of its own."""
    if instance is None or depth > 3 or not hasattr(instance, "_meta"):
        return None
    if instance._meta.label == "patients.Patient":
        return instance.pk
    patient_id = getattr(instance, "patient_id", None)
    if patient_id is not None:
        return patient_id
    for name in _TOWARDS_PATIENT:
        if getattr(instance, f"{name}_id", None) is None:
            continue
        if cached_only and not instance._meta.get_field(name).is_cached(instance):
            return None
        try:
            return patient_id_of(getattr(instance, name), depth + 1, cached_only=cached_only)
        except ObjectDoesNotExist:  # its parent is being deleted with it
            return None
    if getattr(instance, "about_id", None) is not None:  # a notification about a visit, a follow-up, a patient
        if cached_only and not instance._meta.get_field("about").is_cached(instance):
            return None
        try:
            return patient_id_of(instance.about, depth + 1, cached_only=cached_only)
        except (ObjectDoesNotExist, AttributeError):
            return None
    return None


# The patient of the row auditlog is about to log, keyed by the row, for ``snapshot_entry`` below (auditlog tells
# its pre_log receivers the row; the entry's own pre_save sees only content type and pk).
_about_to_log: ContextVar[tuple | None] = ContextVar("about_to_log", default=None)


@receiver(pre_log)
def note_the_patient(sender, instance, action, **kwargs):
    _about_to_log.set((instance._meta.label, str(instance.pk), patient_id_of(instance)))


@receiver(pre_save, sender=LogEntry)
def snapshot_entry(sender, instance, **kwargs):
    """Write the actor's name and the patient into a new entry; entries are never edited after."""
    if instance.pk is not None or kwargs.get("raw"):
        return
    data = dict(instance.additional_data) if isinstance(instance.additional_data, dict) else {}
    actor = instance.actor
    if actor is None:
        # auditlog's middleware sets the actor in its own pre_save receiver, which may run after this one.
        from auditlog.context import auditlog_value

        try:
            candidate = auditlog_value.get().get("actor")
        except LookupError:
            candidate = None
        if isinstance(candidate, get_user_model()):
            actor = candidate
    if actor is not None:
        data.setdefault("actor_username", actor.get_username())
        data.setdefault("actor_name", actor.get_full_name() or actor.get_username())
    if "patient_id" not in data and instance.content_type_id is not None:
        noted = _about_to_log.get()
        model = instance.content_type.model_class()
        if noted and model is not None and noted[:2] == (model._meta.label, str(instance.object_pk)):
            data["patient_id"] = noted[2]
        elif model is not None:
            data["patient_id"] = _patient_id_by_query(model, instance.object_pk)
    instance.additional_data = data


def _patient_id_by_query(model, pk) -> int | None:
    """For an entry written without auditlog's pre_log (e.g. ``log_create`` called directly)."""
    if model._meta.label == "patients.Patient":
        return int(pk) if str(pk).isdigit() else None
    row = model._default_manager.filter(pk=pk).first()
    return patient_id_of(row) if row is not None else None


@receiver(pre_save, sender=LogEntry)
def refuse_edit(sender, instance, **kwargs):
    if instance.pk is not None and not kwargs.get("raw"):
        raise AuditEntryImmutable("Audit entries cannot be edited.")


@receiver(pre_delete, sender=LogEntry)
def refuse_delete(sender, instance, **kwargs):
    raise AuditEntryImmutable("Audit entries cannot be deleted.")


# --- people in the trail are kept ---------------------------------------------------------------------------------


def has_audit_history(user) -> bool:
    return LogEntry.objects.filter(actor=user).exists()


@receiver(pre_delete)
def refuse_deleting_a_user_in_the_trail(sender, instance, **kwargs):
    """Deleting a user would blank ``actor`` on their entries; deactivate them instead (the admin offers it)."""
    if sender is get_user_model() and instance.pk is not None and has_audit_history(instance):
        raise UserHasAuditHistory(
            f"{instance.get_username()} has entries in the audit trail: deactivate the account instead of deleting it."
        )


# --- the permission that opens the trail --------------------------------------------------------------------------


def audit_trail_permission():
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(LogEntry)
    return Permission.objects.get_or_create(
        codename=AUDIT_TRAIL_CODENAME, content_type=content_type, defaults={"name": "Can search the audit trail"}
    )[0]


@receiver(post_migrate)
def create_audit_trail_permission(sender, app_config=None, **kwargs):
    # After auditlog's tables exist, so an admin can give the permission to a coordinator at once.
    if app_config is not None and app_config.label == "auditlog":
        audit_trail_permission()
