"""Notifications through the real Redis and a real Celery worker process: sent once, whatever happens."""

import datetime as dt
import time

import pytest
from django.utils import timezone

from infusion_site.messaging import FileSmsBackend
from tests import factories
from tests.celery_support import celery_worker, purge_queue, wait_for
from tests.test_background_jobs import celery_broker, mails, refused_port
from visits.models import Notification, NotificationPreference, Reaction
from visits.tasks import send_due_notifications

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def outboxes(tmp_path):
    return tmp_path / "mail", tmp_path / "sms"


def start_worker(tmp_path, outboxes, **env):
    mail_dir, sms_dir = outboxes
    purge_queue()
    return celery_worker(
        log_path=tmp_path / "worker.log",
        concurrency=2,
        EMAIL_URL="filemail://",
        EMAIL_FILE_PATH=mail_dir,
        SMS_BACKEND=env.pop("SMS_BACKEND", "infusion_site.messaging.FileSmsBackend"),
        SMS_FILE_PATH=sms_dir,
        **env,
    )


def reminder_due(cast, *, sms=True):
    """The first patient, by email and text, with a visit 20 hours from now: its 24-hour reminder is due."""
    NotificationPreference.objects.update_or_create(
        user=cast.patient.user,
        defaults={"by_email": True, "by_sms": sms, "phone": "+1 217 555 0101", "quiet_start": None, "quiet_end": None},
    )
    order = factories.OrderFactory(patient=cast.patient)
    factories.CreatinineFactory(patient=cast.patient, collected_on=timezone.localdate() - dt.timedelta(days=10))
    return factories.VisitFactory(
        order=order, nurse=cast.assigned_nurse, planned_start=timezone.now() + dt.timedelta(hours=20)
    )


def test_the_sweep_sends_a_reminder_by_email_and_text_through_the_worker(cast, tmp_path, outboxes):
    reminder_due(cast)
    mail_dir, sms_dir = outboxes
    with start_worker(tmp_path, outboxes):
        send_due_notifications.delay()
        wait_for(
            lambda: Notification.objects.filter(kind="visit_reminder").exclude(sent_at=None).count() == 2,
            timeout=30,
            what="the reminder by email and text",
        )
    patient_mail = [text for text in mails(mail_dir) if f"To: {cast.patient.user.email}" in text]
    assert len(patient_mail) == 1
    assert "X-Notification-Key: reminder:" in patient_mail[0]
    (key,) = FileSmsBackend(sms_dir).sent_keys()
    assert key.startswith("reminder:") and key.endswith(":24h:sms")


def test_three_sweeps_at_once_on_two_worker_processes_send_each_notification_once(cast, tmp_path, outboxes):
    reminder_due(cast)
    factories.AuthorizationFactory(patient=cast.other_patient, valid_to=timezone.localdate() + dt.timedelta(days=4))
    mail_dir, sms_dir = outboxes
    with start_worker(tmp_path, outboxes):
        for _ in range(3):
            send_due_notifications.delay()
        wait_for(
            lambda: Notification.objects.count() and not Notification.objects.pending().exists(),
            timeout=30,
            what="every notification to be sent",
        )
        time.sleep(2)  # anything sent twice would have arrived by now
        for _ in range(3):
            send_due_notifications.delay()
        time.sleep(3)
    emailed = Notification.objects.filter(channel="email").count()
    assert emailed >= 2  # the patient's reminder and the coordinator's authorization notice
    assert len(mails(mail_dir)) == emailed
    assert FileSmsBackend(sms_dir).sent_keys() == list(
        Notification.objects.filter(channel="sms").values_list("key", flat=True)
    )


def test_a_provider_error_is_retried_with_backoff_by_the_worker(cast, tmp_path, outboxes):
    reminder_due(cast)
    mail_dir, sms_dir = outboxes
    with start_worker(tmp_path, outboxes, SMS_BACKEND="tests.flaky_sms.FirstAttemptFailsSmsBackend"):
        send_due_notifications.delay()
        text = wait_for(
            lambda: Notification.objects.filter(channel="sms", kind="visit_reminder").first(),
            timeout=20,
            what="the reminder rows",
        )
        wait_for(
            lambda: (
                Notification.objects.get(pk=text.pk).attempts >= 1 and Notification.objects.get(pk=text.pk).last_error
            ),
            timeout=20,
            what="the first, failed attempt",
        )
        failed = Notification.objects.get(pk=text.pk)
        assert failed.sent_at is None
        assert "ConnectionResetError" in failed.last_error
        wait = (failed.next_attempt_at - timezone.now()).total_seconds()
        assert 0 < wait <= 10
        wait_for(lambda: Notification.objects.get(pk=text.pk).sent_at, timeout=30, what="the retry (a countdown)")
    sent = Notification.objects.get(pk=text.pk)
    assert sent.attempts == 2 and sent.last_error == ""
    assert FileSmsBackend(sms_dir).sent_keys() == [sent.key]


def test_a_grade_3_reaction_reaches_the_coordinator_at_once(cast, tmp_path, outboxes):
    from visits.chart.signoff.services import reaction_record

    mail_dir, _ = outboxes
    visit = factories.infusing_visit(nurse_user=cast.assigned_nurse)
    with start_worker(tmp_path, outboxes):
        reaction_record(
            visit=visit,
            nurse=cast.assigned_nurse,
            onset_at=timezone.now() - dt.timedelta(minutes=5),
            symptoms=["shortness_of_breath"],
            grade=3,
            action=Reaction.Action.STOPPED,
            physician_notified_at=timezone.now() - dt.timedelta(minutes=1),
        )
        # No sweep is run here: the service published notify_now after its commit.
        wait_for(
            lambda: (
                Notification.objects.filter(kind="severe_reaction", recipient=cast.coordinator)
                .exclude(sent_at=None)
                .count()
                == 2
            ),
            timeout=20,
            what="the coordinator's email and in-app notice",
        )
    coordinator_mail = [text for text in mails(mail_dir) if f"To: {cast.coordinator.email}" in text]
    assert any("Urgent: severe reaction" in text for text in coordinator_mail)
    assert all(cast.patient.last_name not in text for text in coordinator_mail)


def test_a_redis_outage_delays_a_notification_and_loses_nothing(cast, tmp_path, outboxes):
    """The at-once publish is lost with the broker away; the next sweep sends it, once."""
    from visits.chart.signoff.services import reaction_record

    visit = factories.infusing_visit(nurse_user=cast.assigned_nurse)
    with celery_broker(f"redis://127.0.0.1:{refused_port()}/0"):
        started = time.monotonic()
        reaction_record(
            visit=visit,
            nurse=cast.assigned_nurse,
            onset_at=timezone.now() - dt.timedelta(minutes=5),
            symptoms=["shortness_of_breath"],
            grade=4,
            action=Reaction.Action.STOPPED,
            physician_notified_at=timezone.now() - dt.timedelta(minutes=1),
        )
        assert time.monotonic() - started < 2.0
    assert not Notification.objects.exists()  # nothing was derived yet: the message never left
    with start_worker(tmp_path, outboxes):
        for _ in range(2):
            send_due_notifications.delay()
        wait_for(
            lambda: Notification.objects.filter(kind="severe_reaction").exclude(sent_at=None).count() == 2,
            timeout=30,
            what="the swept notice",
        )
        time.sleep(2)
    assert Notification.objects.filter(kind="severe_reaction").count() == 2
