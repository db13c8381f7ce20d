"""Creating notification rows and delivering them, each exactly once.

Creating: a sweep turns each ``Due`` (one thing to tell one person) into a row per channel the
person has chosen, under a unique key, so creating it again is a no-op.

Delivering: ``notification_deliver`` claims the row with a conditional update that sets a
lease (``claimed_until``) and a token, sends, and records the result only under that token.
A worker killed mid-send leaves the lease to lapse; the next sweep claims it again and, where
the transport can tell (``SmsBackend.already_sent``), does not send it twice. Transport errors
back off exponentially with jitter; a refusal, or too many failures, is kept with its reason
and shown to coordinators on the alert queue.
"""

import logging
import random
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import F, Q
from django.utils import timezone

from infusion_site import messaging
from infusion_site.queueing import publish, task_named
from infusion_site.roles import COORDINATOR
from visits.models import Notification, NotificationPreference

logger = logging.getLogger(__name__)

BACKOFF_FIRST_SECONDS = 10
BACKOFF_MAX_SECONDS = 30 * 60
# A row handed to a worker but not claimed within this long (its message was lost) is handed out again.
REQUEUE_AFTER = timedelta(seconds=90)
ENQUEUE_BATCH = 2000
DELIVER_TASK = "visits.tasks.deliver_notification"


@dataclass
class Due:
    """One thing to tell one person. ``key`` names it uniquely; the channel is appended per row."""

    recipient: object  # a User
    kind: str
    key: str
    subject: str
    body: str  # goes by email and text: no clinical detail beyond what the recipient needs
    due_at: datetime
    url: str = ""
    about: object = None
    expires_at: datetime | None = None
    app_body: str = ""  # shown only inside the app, behind login; may name the patient
    for_patient: bool = False  # patients are reminded by email or text in their own hours
    extra: dict = field(default_factory=dict)


def coordinators():
    """Active coordinators (and superusers, who act as coordinators)."""
    return (
        get_user_model()
        .objects.filter(Q(groups__name=COORDINATOR) | Q(is_superuser=True), is_active=True)
        .distinct()
        .order_by("pk")
    )


def preference_for(user) -> NotificationPreference:
    """The user's saved preferences, or the defaults (not saved)."""
    try:
        return user.notification_preference
    except NotificationPreference.DoesNotExist:
        return NotificationPreference(user=user)


def channels_for(preference: NotificationPreference, *, for_patient: bool) -> list[str]:
    channels = []
    if preference.by_email:
        channels.append(Notification.Channel.EMAIL)
    if preference.by_sms:
        channels.append(Notification.Channel.SMS)
    if preference.in_app and not for_patient:
        channels.append(Notification.Channel.IN_APP)
    return channels


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def notifications_create(*, dues: Iterable[Due], now: datetime | None = None) -> int:
    """Insert the rows that do not exist yet; return how many were new."""
    now = now or timezone.now()
    dues = list(dues)
    if not dues:
        return 0
    preferences = {
        preference.user_id: preference
        for chunk in _chunks(sorted({due.recipient.pk for due in dues}))
        for preference in NotificationPreference.objects.filter(user_id__in=chunk)
    }
    content_types = {}
    rows = []
    for due in dues:
        preference = preferences.get(due.recipient.pk) or NotificationPreference(user=due.recipient)
        about_type = None
        if due.about is not None:
            model = type(due.about)
            about_type = content_types.setdefault(model, ContentType.objects.get_for_model(model))
        for channel in channels_for(preference, for_patient=due.for_patient):
            rows.append(
                Notification(
                    recipient=due.recipient,
                    channel=channel,
                    kind=due.kind,
                    key=f"{due.key}:{channel}"[:200],
                    about_type=about_type,
                    about_id=getattr(due.about, "pk", None),
                    subject=due.subject[:200],
                    body=(due.app_body or due.body) if channel == Notification.Channel.IN_APP else due.body,
                    url=due.url,
                    due_at=due.due_at,
                    expires_at=due.expires_at,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    existing = {
        key
        for chunk in _chunks([row.key for row in rows])
        for key in Notification.objects.filter(key__in=chunk).values_list("key", flat=True)
    }
    new = [row for row in rows if row.key not in existing]
    # Another sweep may insert the same key between our read and this write: the unique key wins.
    Notification.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    return len(new)


# --- Quiet hours ------------------------------------------------------------------------------


def in_quiet_hours(local: datetime, start, end) -> bool:
    moment = local.time()
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end  # overnight, e.g. 21:00 → 08:00


def quiet_hours_end(*, preference: NotificationPreference, zone, now: datetime) -> datetime | None:
    """When the recipient's quiet hours end, if ``now`` falls inside them; else None."""
    if preference.quiet_start is None or preference.quiet_end is None:
        return None
    local = timezone.localtime(now, zone)
    if not in_quiet_hours(local, preference.quiet_start, preference.quiet_end):
        return None
    day = local.date() if local.time() < preference.quiet_end else local.date() + timedelta(days=1)
    return datetime.combine(day, preference.quiet_end, tzinfo=zone).astimezone(UTC)


# --- Delivery ---------------------------------------------------------------------------------


class Outcome(Enum):
    SENT = "sent"
    NOT_CLAIMED = "not claimed"
    DEFERRED = "deferred"
    RETRY = "retry"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"


@dataclass
class Delivery:
    outcome: Outcome
    retry_in: float = 0.0


def backoff_seconds(attempt: int) -> float:
    """Exponential back-off with jitter: 5–10 s after the first failure, doubling, at most 30 min."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)


def lease() -> timedelta:
    return timedelta(seconds=settings.NOTIFICATION_CLAIM_SECONDS)


def _claim(notification_id: int, now: datetime) -> str | None:
    token = secrets.token_hex(16)
    claimed = (
        Notification.objects.claimable(now)
        .filter(pk=notification_id, attempts__lt=settings.NOTIFICATION_MAX_ATTEMPTS)
        .update(claimed_until=now + lease(), claim_token=token, attempts=F("attempts") + 1)
    )
    return token if claimed else None


def _finish(notification: Notification, token: str, **fields) -> None:
    """Record the result, only if the claim is still ours."""
    Notification.objects.filter(pk=notification.pk, claim_token=token).update(claimed_until=None, **fields)


def _send(notification: Notification, *, resend_check: bool) -> str:
    """Hand the message to its transport; return the address it went to."""
    recipient = notification.recipient
    if notification.channel == Notification.Channel.IN_APP:
        return ""
    patient = getattr(recipient, "patient_record", None)
    if notification.channel == Notification.Channel.EMAIL:
        address = recipient.email or (patient.email if patient else "")
        messaging.send_email(to=address, subject=notification.subject, body=notification.body, key=notification.key)
        return address
    preference = preference_for(recipient)
    number = preference.phone or (patient.phone if patient else "")
    messaging.send_sms(to=number, text=notification.body, key=notification.key, resend_check=resend_check)
    return messaging.normalise_phone(number)


def notification_deliver(*, notification_id: int, now: datetime | None = None) -> Delivery:
    """Send one notification if it is due and nobody else holds it."""
    now = now or timezone.now()
    token = _claim(notification_id, now)
    if token is None:
        return Delivery(Outcome.NOT_CLAIMED)
    notification = Notification.objects.select_related(
        "recipient__notification_preference", "recipient__patient_record"
    ).get(pk=notification_id)
    if notification.expires_at and now >= notification.expires_at:
        _finish(notification, token, withdrawn_at=now, last_error="Too late to be useful; not sent.")
        return Delivery(Outcome.WITHDRAWN)
    patient = getattr(notification.recipient, "patient_record", None)
    if patient is not None and notification.channel != Notification.Channel.IN_APP:
        resume = quiet_hours_end(preference=preference_for(notification.recipient), zone=patient.zone, now=now)
        if resume is not None:
            if notification.expires_at and resume >= notification.expires_at:
                _finish(notification, token, withdrawn_at=now, last_error="Due only during quiet hours; not sent.")
                return Delivery(Outcome.WITHDRAWN)
            # Waiting for morning is not a failed attempt.
            _finish(notification, token, next_attempt_at=resume, attempts=F("attempts") - 1, queued_at=None)
            return Delivery(Outcome.DEFERRED)
    try:
        # A second attempt after a lapsed claim may follow a send whose result was never recorded.
        address = _send(notification, resend_check=notification.attempts > 1)
    except messaging.PermanentDeliveryError as error:
        _finish(notification, token, failed_at=now, last_error=str(error)[:300])
        logger.warning("Notification %s refused: %s", notification.pk, error)
        return Delivery(Outcome.FAILED)
    except messaging.TransientDeliveryError as error:
        if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
            reason = f"Gave up after {notification.attempts} attempts: {error}"
            _finish(notification, token, failed_at=now, last_error=reason[:300])
            logger.warning("Notification %s failed for good after %s attempts", notification.pk, notification.attempts)
            return Delivery(Outcome.FAILED)
        delay = backoff_seconds(notification.attempts)
        _finish(notification, token, next_attempt_at=now + timedelta(seconds=delay), last_error=str(error)[:300])
        logger.info("Notification %s will be tried again in %.0f s", notification.pk, delay)
        return Delivery(Outcome.RETRY, retry_in=delay)
    _finish(notification, token, sent_at=now, address=address[:254], last_error="")
    return Delivery(Outcome.SENT)


def notifications_give_up_exhausted(*, now: datetime) -> int:
    """Rows whose every attempt ended without a result (a worker died each time) are failures to show."""
    return (
        Notification.objects.pending()
        .filter(attempts__gte=settings.NOTIFICATION_MAX_ATTEMPTS)
        .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
        .update(failed_at=now, claimed_until=None, last_error="Gave up: no attempt finished.")
    )


def notifications_enqueue_due(*, now: datetime | None = None, deliver_task=None) -> int:
    """Hand every claimable row to the workers (unless handed out moments ago); return how many."""
    now = now or timezone.now()
    task = task_named(deliver_task or DELIVER_TASK)
    ids = list(
        Notification.objects.claimable(now)
        .filter(Q(queued_at=None) | Q(queued_at__lt=now - REQUEUE_AFTER))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:ENQUEUE_BATCH]
    )
    for chunk in _chunks(ids):
        Notification.objects.filter(pk__in=chunk).update(queued_at=now)
    for position, notification_id in enumerate(ids):
        if not publish(task, notification_id):
            # The broker is away: leave the rest for the next sweep rather than wait on each.
            Notification.objects.filter(pk__in=ids[position:]).update(queued_at=None)
            return position
    return len(ids)


def notification_mark_read(*, user, notification_id: int | None = None) -> int:
    """Mark one (or, without an id, every) in-app notification of ``user`` as read."""
    rows = Notification.objects.inbox_of(user).filter(read_at=None)
    if notification_id is not None:
        rows = rows.filter(pk=notification_id)
    return rows.update(read_at=timezone.now())
