import uuid
from datetime import datetime

from django.db import IntegrityError, transaction

from visits.chart.rules import ensure_nurse_of
from visits.models import ClientWrite, Visit


class AlreadySaved(Exception):
    """The entry reached the server before it was discarded: it is on the chart, nothing to discard."""

    def __init__(self, write: ClientWrite):
        super().__init__(str(write.client_id))
        self.write = write


def client_write_discard(
    *,
    visit: Visit,
    nurse,
    client_id: uuid.UUID,
    action: str,
    summary: str,
    reason: str,
    client_at: datetime | None,
) -> ClientWrite:
    """Record that the nurse discarded an entry her tablet could not send as recorded, with what it was and why.

    The row takes the entry's id, so a late replay of it is refused rather than applied. Audited like every chart
    write (django-auditlog records who and when).
    """
    ensure_nurse_of(visit, nurse)
    try:
        with transaction.atomic():
            return ClientWrite.objects.create(
                client_id=client_id,
                visit=visit,
                user=nurse,
                action=action,
                client_at=client_at,
                summary=summary.strip(),
                discarded_reason=reason.strip(),
            )
    except IntegrityError:
        existing = ClientWrite.objects.get(client_id=client_id)
        if existing.is_discarded and existing.user_id == nurse.pk:
            return existing  # discarded twice (a retry): the first one stands
        raise AlreadySaved(existing) from None
