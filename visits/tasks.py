"""Celery entry points for notifications: thin, idempotent, and safe to run twice at once."""

from celery import shared_task
from django.utils import timezone

from visits.notifications import due as reminders
from visits.notifications import services as service

# No countdown is ever longer than this; later retries wait for the sweep (DESIGN §4).
LONGEST_COUNTDOWN_SECONDS = 60


@shared_task(bind=True, ignore_result=True, max_retries=None)
def deliver_notification(self, notification_id: int) -> str:
    delivery = service.notification_deliver(notification_id=notification_id)
    if delivery.outcome is service.Outcome.RETRY and delivery.retry_in <= LONGEST_COUNTDOWN_SECONDS:
        raise self.retry(countdown=delivery.retry_in)
    return delivery.outcome.value


@shared_task(ignore_result=True)
def send_due_notifications() -> None:
    """The sweep (every minute by beat): derive what became due since the last, insert its rows, hand them out."""
    now = timezone.now()
    reminders.create_due(now=now)
    service.notifications_give_up_exhausted(now=now)
    service.notifications_enqueue_due(now=now)


@shared_task(ignore_result=True)
def send_all_due_notifications() -> None:
    """The daily safety net (beat): derive every due fact again, whatever the watermarks say."""
    now = timezone.now()
    reminders.create_due(now=now, full=True)
    service.notifications_enqueue_due(now=now)


@shared_task(ignore_result=True)
def notify_now(kinds: list[str]) -> None:
    """Published after commit by a service that has just created an urgent alert (grade ≥ 3, override, …).

    Derives those kinds whole: the row that asked may carry a time from the tablet, older than any watermark.
    """
    now = timezone.now()
    reminders.create_due(now=now, kinds=kinds, full=True)
    service.notifications_enqueue_due(now=now)
