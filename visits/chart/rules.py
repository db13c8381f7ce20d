"""Rules every section of the visit chart shares: who may edit, locking after sign-off, and no lost updates."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from infusion_site.queueing import enqueue_on_commit
from patients.services import ServiceError
from visits.models import Visit

# Statuses in which the chart is still being written.
OPEN_STATUSES = (
    Visit.Status.SCHEDULED,
    Visit.Status.CHECKED_IN,
    Visit.Status.INFUSING,
    Visit.Status.OBSERVING,
    Visit.Status.COMPLETED,
)


def notify_at_once(kind: str) -> None:
    """After this transaction commits, have the coordinators told (a grade ≥ 3 reaction, an override, …).

    The one seam from the chart to notifications: a task asked for by name. If the broker is away the minute
    sweep sends it instead; nothing waits on Redis.
    """
    enqueue_on_commit("visits.tasks.notify_now", [str(kind)])


class ChartConflict(ServiceError):
    """The chart is not as the nurse saw it (locked, or saved on another device): answered 409, nothing written."""


class ChartLocked(ChartConflict):
    """The chart is signed (or the visit cancelled or missed): only addenda may follow."""


class StaleSection(ChartConflict):
    """Another device saved this section since it was opened; nothing was overwritten."""


def ensure_editable(visit: Visit) -> None:
    if visit.status == Visit.Status.SIGNED:
        raise ChartLocked("This chart is signed and locked. Add an addendum to correct or complete it.")
    if visit.status not in OPEN_STATUSES:
        raise ChartLocked(f"This visit is {visit.get_status_display().lower()}; its chart cannot be edited.")


def ensure_nurse_of(visit: Visit, user) -> None:
    if visit.nurse_id != user.pk:
        raise ServiceError("Only the nurse assigned to this visit documents it.")


@transaction.atomic
def section_save(*, instance, expected_version: int, by, changed_fields: list[str]) -> None:
    """Save one chart section if nobody else saved it since ``expected_version``; otherwise say what changed.

    The check and the write are one conditional UPDATE, so two tablets cannot both win.
    """
    model = type(instance)
    if instance.pk is None:
        # The first save of a section: the one-per-visit rule is the database's, so two tablets creating it at
        # once end with one row and one "what changed" message, never an error page.
        instance.full_clean(validate_unique=False)
        instance.version = 1
        instance.updated_by = by
        try:
            with transaction.atomic():
                instance.save()
        except IntegrityError:
            instance.pk = None
            current = model.objects.get(visit=instance.visit)
            raise StaleSection(_changed_message(current, instance, changed_fields)) from None
        return
    instance.full_clean()
    values = {name: getattr(instance, name) for name in changed_fields}
    updated = model.objects.filter(pk=instance.pk, version=expected_version).update(
        **values, version=expected_version + 1, updated_by=by, updated_at=timezone.now()
    )
    if not updated:
        current = model.objects.get(pk=instance.pk)
        raise StaleSection(_changed_message(current, instance, changed_fields))
    instance.version = expected_version + 1


def _changed_message(current, mine, fields: list[str]) -> str:
    differences = []
    for name in fields:
        theirs, ours = getattr(current, name), getattr(mine, name)
        if theirs != ours:
            label = type(current)._meta.get_field(name).verbose_name
            differences.append(f"{label}: now “{_shown(theirs)}” (you had “{_shown(ours)}”)")
    who = current.updated_by.get_full_name() if current.updated_by else "another device"
    when = timezone.localtime(current.updated_at).strftime("%H:%M")
    detail = "; ".join(differences) if differences else "no field differs from yours"
    return (
        f"Not saved: {who or 'another device'} saved this section at {when}. {detail}. "
        "Reload the section, check, and save again."
    )


def _shown(value) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return "—" if value in (None, "") else str(value)
