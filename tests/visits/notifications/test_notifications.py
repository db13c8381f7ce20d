"""Notifications: what falls due, to whom and by which channel; sent once; quiet hours; retries and failures."""

import datetime as dt
import smtplib

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from infusion_site import messaging
from tests import factories
from visits.board.services import visit_assign, visit_cancel, visit_reschedule
from visits.models import Notification, NotificationPreference, Reaction, VisitEvent
from visits.notifications import due as reminders
from visits.notifications import services as service
from visits.notifications.services import Outcome

# Friday 20 November 2026, 9:00 am in Chicago (the factories' patient time zone).
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
CHICAGO = "America/Chicago"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def sms_outbox(settings, tmp_path):
    settings.SMS_BACKEND = "infusion_site.messaging.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    return messaging.FileSmsBackend(tmp_path / "sms")


def prefer(user, **fields):
    defaults = {"by_email": True, "by_sms": False, "reminder_hours": [48, 24], "quiet_start": None, "quiet_end": None}
    preference, _ = NotificationPreference.objects.update_or_create(user=user, defaults=defaults | fields)
    return preference


def visit_in(cast, hours, **kwargs):
    kwargs.setdefault("patient", cast.patient)
    order = factories.OrderFactory(patient=kwargs["patient"])
    return factories.VisitFactory(order=order, planned_start=NOW + dt.timedelta(hours=hours), **kwargs)


def deliver_all(now=None):
    """What a worker does with every claimable row; returns the outcomes."""
    ids = list(Notification.objects.claimable(now or timezone.now()).values_list("pk", flat=True))
    return [service.notification_deliver(notification_id=pk, now=now).outcome for pk in ids]


def mail_to(user):
    return [message for message in mail.outbox if message.to == [user.email]]


def rows(kind=None, **filters):
    queryset = Notification.objects.filter(**filters)
    return list(queryset.filter(kind=kind) if kind else queryset)


# --- Visit reminders ------------------------------------------------------------------------------


def test_reminder_falls_due_48_hours_before_and_again_24_hours_before(cast, frozen_clock):
    prefer(cast.patient.user)
    visit = visit_in(cast, 47, nurse=cast.assigned_nurse)

    reminders.create_due()
    (first,) = rows(Notification.Kind.VISIT_REMINDER)
    assert first.key.endswith(":48h:email")
    assert first.recipient == cast.patient.user
    assert first.expires_at == visit.planned_start

    frozen_clock.move_to(NOW + dt.timedelta(hours=23, minutes=1))
    reminders.create_due()
    assert sorted(row.key.split(":")[3] for row in rows(Notification.Kind.VISIT_REMINDER)) == ["24h", "48h"]


def test_a_visit_planned_inside_both_lead_times_gets_only_the_nearer_reminder(cast):
    prefer(cast.patient.user)
    visit_in(cast, 20)

    reminders.create_due()

    assert [row.key.split(":")[3] for row in rows(Notification.Kind.VISIT_REMINDER)] == ["24h"]


def test_reminder_text_has_the_time_in_the_patients_zone_and_the_nurses_first_name_only(cast):
    prefer(cast.patient.user)
    visit_in(cast, 20, nurse=cast.assigned_nurse)

    reminders.create_due()
    deliver_all()

    (message,) = mail_to(cast.patient.user)
    assert "Sat 21 Nov at 5:00 am (America/Chicago)" in message.body
    assert "Your nurse is Nora." in message.body
    assert "Fieldhouse" not in message.body
    for clinical in ("IVIG", "Octagam", "mg", "dermatomyositis"):
        assert clinical not in message.body and clinical not in message.subject


def test_running_every_sweep_three_times_creates_and_sends_each_once(cast, sms_outbox):
    prefer(cast.patient.user, by_sms=True)
    cast.patient.phone = "+1 217 555 0101"
    cast.patient.save()
    visit_in(cast, 30)
    factories.AuthorizationFactory(patient=cast.other_patient, valid_to=NOW.date() + dt.timedelta(days=5))

    for _ in range(3):
        reminders.create_due()
        deliver_all()

    keys = [row.key for row in Notification.objects.all()]
    assert len(keys) == len(set(keys)) >= 4
    assert len(mail.outbox) == Notification.objects.filter(channel="email").count()
    assert sms_outbox.sent_keys() == [row.key for row in rows(channel="sms")]
    assert not Notification.objects.pending().exists()


def test_patient_without_a_portal_account_gets_no_reminder(cast):
    patient = factories.PatientFactory()
    visit_in(cast, 20, patient=patient)

    reminders.create_due()

    assert rows(Notification.Kind.VISIT_REMINDER) == []


def test_patient_who_turned_reminders_off_gets_none(cast):
    prefer(cast.patient.user, by_email=False, by_sms=False)
    visit_in(cast, 20)

    reminders.create_due()

    assert rows(Notification.Kind.VISIT_REMINDER) == []


def test_a_waiting_reminder_is_withdrawn_when_the_visit_moves_and_the_new_time_gets_its_own(cast):
    prefer(cast.patient.user)
    visit = visit_in(cast, 20)
    reminders.create_due()
    (old,) = rows(Notification.Kind.VISIT_REMINDER)

    visit_reschedule(visit=visit, new_start=NOW + dt.timedelta(hours=22), by=cast.coordinator)
    reminders.create_due()
    deliver_all()

    old.refresh_from_db()
    assert old.withdrawn_at is not None and old.sent_at is None
    new = [row for row in rows(Notification.Kind.VISIT_REMINDER) if row.pk != old.pk]
    assert len(new) == 1 and new[0].sent_at is not None


# --- Visit changes ----------------------------------------------------------------------------------


def test_patient_is_told_when_a_visit_moves_is_reassigned_or_cancelled(cast):
    prefer(cast.patient.user)
    visit = visit_in(cast, 72, nurse=cast.assigned_nurse)
    visit_reschedule(
        visit=visit, new_start=NOW + dt.timedelta(hours=74), by=cast.coordinator, override_reason="Patient asked"
    )
    visit_assign(visit=visit, nurse=cast.unassigned_nurse, by=cast.coordinator, override_reason="Cover")
    other = visit_in(cast, 96)
    visit_cancel(visit=other, by=cast.coordinator, reason="Hospital stay")

    reminders.create_due()
    deliver_all()

    subjects = sorted(message.subject for message in mail_to(cast.patient.user))
    assert subjects == [
        "A different nurse is coming",
        "Your home nursing visit has moved",
        "Your home nursing visit is cancelled",
    ]
    moved = next(message for message in mail.outbox if message.subject.endswith("has moved"))
    assert "is now Mon 23 Nov at 11:00 am (America/Chicago)" in moved.body


def test_the_new_nurse_is_told_in_the_app_but_a_first_assignment_is_not_news_to_the_patient(cast):
    prefer(cast.patient.user)
    visit = visit_in(cast, 50)
    visit_assign(visit=visit, nurse=cast.assigned_nurse, by=cast.coordinator, override_reason="Cover")

    reminders.create_due()

    assert [row.recipient for row in rows(Notification.Kind.VISIT_CHANGED)] == [
        cast.assigned_nurse,
        cast.assigned_nurse,
    ]
    inbox = Notification.objects.get(recipient=cast.assigned_nurse, channel="in_app")
    assert cast.patient.full_name in inbox.body  # inside the app, behind login
    email = Notification.objects.get(recipient=cast.assigned_nurse, channel="email")
    assert cast.patient.full_name not in email.body


def test_old_changes_are_not_announced(cast):
    visit = visit_in(cast, 72)
    VisitEvent.objects.create(
        visit=visit, kind=VisitEvent.Kind.RESCHEDULED, detail="Moved", at=NOW - dt.timedelta(days=2)
    )

    reminders.create_due()

    assert rows(Notification.Kind.VISIT_CHANGED) == []


# --- Nurses: agenda and charts to sign ------------------------------------------------------------------


def test_nurse_gets_tomorrows_agenda_from_6_pm_in_her_time_zone(cast, frozen_clock):
    # Her profile is in Chicago: 6 pm there on Friday is 00:00 UTC Saturday.
    factories_profile(cast.assigned_nurse, CHICAGO)
    first = visit_in(cast, 23.5, nurse=cast.assigned_nurse)  # Sat 8:30 am Chicago
    visit_in(cast, 27, nurse=cast.assigned_nurse)  # Sat noon
    visit_in(cast, 47, nurse=cast.assigned_nurse)  # Sunday: not tomorrow

    frozen_clock.move_to(dt.datetime(2026, 11, 20, 23, 59, tzinfo=dt.UTC))  # 5:59 pm Chicago
    reminders.create_due()
    assert rows(Notification.Kind.NURSE_AGENDA) == []

    frozen_clock.move_to(dt.datetime(2026, 11, 21, 0, 0, tzinfo=dt.UTC))  # 6:00 pm Chicago
    reminders.create_due()
    reminders.create_due()
    agenda = Notification.objects.get(kind=Notification.Kind.NURSE_AGENDA, channel="in_app")
    assert agenda.key == f"agenda:{cast.assigned_nurse.pk}:2026-11-21:in_app"
    assert agenda.subject == "Tomorrow: 2 visits"
    assert agenda.expires_at == first.planned_start
    assert agenda.body.count(cast.patient.full_name) == 2
    # Staff read the 24-hour clock of the chart and the board; patients' texts keep "8:30 am".
    assert agenda.body.splitlines()[0].startswith("08:30: ")
    assert agenda.body.splitlines()[1].startswith("12:00: ")
    email = Notification.objects.get(kind=Notification.Kind.NURSE_AGENDA, channel="email")
    assert "the first Sat 21 Nov at 08:30." in email.body


def factories_profile(nurse, zone):
    from visits.models import NurseProfile

    NurseProfile.objects.update_or_create(nurse=nurse, defaults={"time_zone": zone})


def test_unsigned_chart_goes_to_the_nurse_after_2_hours_and_the_coordinator_after_6(cast, frozen_clock):
    visit = factories.infusing_visit(nurse_user=cast.assigned_nurse, ended_minutes_ago=30)
    ends = visit.planned_end

    frozen_clock.move_to(ends + dt.timedelta(hours=1, minutes=59))
    reminders.create_due()
    assert rows(Notification.Kind.CHART_UNSIGNED) == []

    frozen_clock.move_to(ends + dt.timedelta(hours=2))
    reminders.create_due()
    assert {row.recipient for row in rows(Notification.Kind.CHART_UNSIGNED)} == {cast.assigned_nurse}

    frozen_clock.move_to(ends + dt.timedelta(hours=6))
    reminders.create_due()
    reminders.create_due()
    recipients = [row.recipient for row in rows(Notification.Kind.CHART_UNSIGNED, channel="in_app")]
    assert sorted(user.username for user in recipients) == sorted([cast.assigned_nurse.username, "coord"])


def test_a_signed_chart_is_not_chased(cast, frozen_clock):
    visit = visit_in(cast, -8, nurse=cast.assigned_nurse, status="signed")

    reminders.create_due()

    assert rows(Notification.Kind.CHART_UNSIGNED) == []
    assert visit.status == "signed"


# --- Coordinators -----------------------------------------------------------------------------------------


def test_unassigned_visit_within_72_hours_goes_to_every_coordinator_once(cast):
    second = factories.coordinator(username="coord2")
    visit_in(cast, 60)
    visit_in(cast, 80)  # outside 72 h

    for _ in range(3):
        reminders.create_due()

    found = rows(Notification.Kind.UNASSIGNED_VISIT, channel="email")
    assert sorted(row.recipient.username for row in found) == sorted(["coord", second.username])
    assert all(cast.patient.full_name not in row.body for row in found)
    assert all("/alerts/" in row.body for row in found)


def test_authorization_ending_within_14_days_and_creatinine_due_reach_coordinators(cast):
    factories.AuthorizationFactory(patient=cast.patient, valid_to=NOW.date() + dt.timedelta(days=10))
    visit_in(cast, 24 * 5)  # IVIG cycle day 1 in 5 days; no creatinine on file for cast.patient

    reminders.create_due()

    kinds = {row.kind for row in rows(recipient=cast.coordinator)}
    assert {Notification.Kind.AUTHORIZATION, Notification.Kind.CREATININE_DUE} <= kinds


def test_a_recent_creatinine_means_no_lab_is_due(cast):
    factories.CreatinineFactory(patient=cast.patient, collected_on=NOW.date() - dt.timedelta(days=20))
    visit_in(cast, 24 * 5)

    reminders.create_due()

    assert rows(Notification.Kind.CREATININE_DUE) == []


def test_grade_3_reaction_alerts_coordinators_at_once(cast, django_capture_on_commit_callbacks):
    from visits.chart.signoff.services import reaction_record

    visit = factories.infusing_visit(nurse_user=cast.assigned_nurse)
    with django_capture_on_commit_callbacks() as callbacks:
        reaction_record(
            visit=visit,
            nurse=cast.assigned_nurse,
            onset_at=NOW - dt.timedelta(minutes=5),
            symptoms=["shortness_of_breath"],
            other_symptom="",
            grade=3,
            action=Reaction.Action.STOPPED,
            medications_given="Epinephrine 0.3 mg IM",
            physician_notified_at=NOW - dt.timedelta(minutes=2),
            outcome="",
        )
    assert len(callbacks) >= 1  # notify_now is published after commit (the broker here is the test Redis)
    reminders.create_due(kinds=["severe_reaction"])
    found = rows(Notification.Kind.SEVERE_REACTION, recipient=cast.coordinator)
    assert {row.channel for row in found} == {"email", "in_app"}
    email = next(row for row in found if row.channel == "email")
    assert email.subject == "Urgent: severe reaction"
    assert cast.patient.full_name not in email.body


# --- Quiet hours and time zones --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("utc", "zone", "waits_until"),
    [
        # 10:30 pm in Chicago (CST, UTC-6): waits until 8:00 am Chicago = 14:00 UTC.
        (dt.datetime(2026, 11, 21, 4, 30, tzinfo=dt.UTC), CHICAGO, dt.datetime(2026, 11, 21, 14, 0, tzinfo=dt.UTC)),
        # The same instant is 11:30 pm in New York: waits until 8:00 am there = 13:00 UTC.
        (
            dt.datetime(2026, 11, 21, 4, 30, tzinfo=dt.UTC),
            "America/New_York",
            dt.datetime(2026, 11, 21, 13, 0, tzinfo=dt.UTC),
        ),
        # 6:30 am in Los Angeles: still quiet; 8:00 am there the same day = 16:00 UTC.
        (
            dt.datetime(2026, 11, 21, 14, 30, tzinfo=dt.UTC),
            "America/Los_Angeles",
            dt.datetime(2026, 11, 21, 16, 0, tzinfo=dt.UTC),
        ),
    ],
)
def test_nothing_is_sent_in_the_patients_quiet_hours_it_waits_until_they_end(
    cast, frozen_clock, utc, zone, waits_until
):
    cast.patient.time_zone = zone
    cast.patient.save()
    prefer(cast.patient.user, quiet_start=dt.time(21, 0), quiet_end=dt.time(8, 0))
    frozen_clock.move_to(utc)
    notification = make_notification(cast.patient.user, expires_at=utc + dt.timedelta(days=2))

    assert service.notification_deliver(notification_id=notification.pk).outcome is Outcome.DEFERRED
    notification.refresh_from_db()
    assert notification.next_attempt_at == waits_until
    assert notification.attempts == 0 and notification.sent_at is None
    assert mail_to(cast.patient.user) == []

    frozen_clock.move_to(waits_until)
    assert service.notification_deliver(notification_id=notification.pk).outcome is Outcome.SENT
    assert len(mail_to(cast.patient.user)) == 1


def test_quiet_hours_end_at_8_am_local_across_the_daylight_saving_change(cast, frozen_clock):
    # Saturday 7 March 2026, 11 pm CST; clocks go forward at 2 am Sunday, so 8 am CDT is 13:00 UTC.
    frozen_clock.move_to(dt.datetime(2026, 3, 8, 5, 0, tzinfo=dt.UTC))
    preference = NotificationPreference(user=cast.patient.user, quiet_start=dt.time(21, 0), quiet_end=dt.time(8, 0))

    resume = service.quiet_hours_end(preference=preference, zone=cast.patient.zone, now=timezone.now())

    assert resume == dt.datetime(2026, 3, 8, 13, 0, tzinfo=dt.UTC)


def test_a_reminder_that_could_only_go_out_in_quiet_hours_is_withdrawn_not_sent_late(cast, frozen_clock):
    prefer(cast.patient.user, quiet_start=dt.time(21, 0), quiet_end=dt.time(8, 0))
    frozen_clock.move_to(dt.datetime(2026, 11, 21, 4, 30, tzinfo=dt.UTC))  # 10:30 pm Chicago
    notification = make_notification(cast.patient.user, expires_at=dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC))

    assert service.notification_deliver(notification_id=notification.pk).outcome is Outcome.WITHDRAWN
    notification.refresh_from_db()
    assert notification.withdrawn_at and "quiet hours" in notification.last_error


def test_staff_have_no_quiet_hours(cast, frozen_clock):
    prefer(cast.coordinator, quiet_start=dt.time(21, 0), quiet_end=dt.time(8, 0))
    frozen_clock.move_to(dt.datetime(2026, 11, 21, 4, 30, tzinfo=dt.UTC))
    notification = make_notification(cast.coordinator)

    assert service.notification_deliver(notification_id=notification.pk).outcome is Outcome.SENT


def make_notification(user, channel="email", **fields):
    now = timezone.now()
    return Notification.objects.create(
        recipient=user,
        channel=channel,
        kind=Notification.Kind.VISIT_REMINDER,
        key=f"test:{Notification.objects.count()}:{channel}",
        subject="Reminder",
        body="Your visit",
        due_at=now,
        next_attempt_at=now,
        **fields,
    )


# --- Claims, retries and failures ----------------------------------------------------------------------------


def test_a_claimed_notification_is_not_sent_by_a_second_worker(cast):
    notification = make_notification(cast.coordinator)
    token = service._claim(notification.pk, timezone.now())

    assert token
    assert service.notification_deliver(notification_id=notification.pk).outcome is Outcome.NOT_CLAIMED
    assert mail.outbox == []


def test_a_worker_killed_after_the_text_left_does_not_text_twice_when_the_claim_lapses(cast, sms_outbox, frozen_clock):
    prefer(cast.patient.user, by_sms=True, phone="+1 217 555 0199")
    notification = make_notification(cast.patient.user, channel="sms")
    # A worker claimed it and the provider accepted the text, but the worker died before recording it.
    service._claim(notification.pk, timezone.now())
    messaging.send_sms(to="+12175550199", text="Your visit", key=notification.key)

    frozen_clock.shift(dt.timedelta(seconds=61))
    assert service.notification_deliver(notification_id=notification.pk).outcome is Outcome.SENT

    assert sms_outbox.sent_keys() == [notification.key]
    notification.refresh_from_db()
    assert notification.sent_at is not None and notification.attempts == 2


def test_a_worker_killed_before_sending_sends_it_after_the_claim_lapses(cast, sms_outbox, frozen_clock):
    prefer(cast.patient.user, by_sms=True, phone="+1 217 555 0199")
    notification = make_notification(cast.patient.user, channel="sms")
    service._claim(notification.pk, timezone.now())

    assert service.notification_deliver(notification_id=notification.pk).outcome is Outcome.NOT_CLAIMED
    frozen_clock.shift(dt.timedelta(seconds=61))
    assert service.notification_deliver(notification_id=notification.pk).outcome is Outcome.SENT
    assert sms_outbox.sent_keys() == [notification.key]


def test_a_transport_error_backs_off_exponentially_with_jitter(cast, monkeypatch, frozen_clock):
    notification = make_notification(cast.coordinator)

    def down(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", down)
    waits = []
    for _ in range(4):
        delivery = service.notification_deliver(notification_id=notification.pk)
        assert delivery.outcome is Outcome.RETRY
        notification.refresh_from_db()
        waits.append((notification.next_attempt_at - timezone.now()).total_seconds())
        assert service.notification_deliver(notification_id=notification.pk).outcome is Outcome.NOT_CLAIMED
        frozen_clock.move_to(notification.next_attempt_at)

    assert [5 <= waits[0] <= 10, 10 <= waits[1] <= 20, 20 <= waits[2] <= 40, 40 <= waits[3] <= 80] == [True] * 4
    assert "could not be reached (SMTPServerDisconnected)" in notification.last_error


def test_backoff_never_exceeds_half_an_hour():
    assert max(service.backoff_seconds(attempt) for attempt in range(1, 30)) <= 30 * 60


def test_after_the_last_attempt_the_failure_is_kept_and_shown_to_coordinators(
    cast, monkeypatch, frozen_clock, settings
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    notification = make_notification(cast.coordinator)
    monkeypatch.setattr("django.core.mail.EmailMessage.send", lambda *a, **k: (_ for _ in ()).throw(OSError("down")))

    assert service.notification_deliver(notification_id=notification.pk).outcome is Outcome.RETRY
    frozen_clock.shift(dt.timedelta(minutes=5))
    assert service.notification_deliver(notification_id=notification.pk).outcome is Outcome.FAILED

    notification.refresh_from_db()
    assert notification.failed_at and notification.last_error.startswith("Gave up after 2 attempts")
    from visits.alerts.selectors import collect_alerts

    (alert,) = collect_alerts(kinds={"notification_failed"})
    assert alert.about == notification


def test_a_refused_address_fails_at_once_with_its_reason(cast):
    cast.patient.user.email = ""
    cast.patient.user.save()
    cast.patient.email = ""
    cast.patient.save()
    notification = make_notification(cast.patient.user)

    assert service.notification_deliver(notification_id=notification.pk).outcome is Outcome.FAILED
    notification.refresh_from_db()
    assert notification.last_error == "No email address on file."
    assert notification.attempts == 1


def test_sms_is_refused_without_a_mobile_number(cast, sms_outbox):
    cast.patient.phone = ""
    cast.patient.save()
    notification = make_notification(cast.patient.user, channel="sms")

    assert service.notification_deliver(notification_id=notification.pk).outcome is Outcome.FAILED
    notification.refresh_from_db()
    assert notification.last_error == "No mobile number on file that a text can go to."


def test_in_production_texts_are_refused_until_a_provider_is_configured(cast, settings):
    settings.SMS_BACKEND = "infusion_site.messaging.DisabledSmsBackend"
    prefer(cast.patient.user, by_sms=True, phone="+1 217 555 0199")
    notification = make_notification(cast.patient.user, channel="sms")

    assert service.notification_deliver(notification_id=notification.pk).outcome is Outcome.FAILED
    notification.refresh_from_db()
    assert notification.last_error == "Text messages are not set up (SMS_BACKEND)."


def test_enqueueing_with_the_broker_away_loses_nothing(cast, settings):
    make_notification(cast.coordinator)
    make_notification(cast.other_patient.user)

    class Unreachable:
        name = "visits.tasks.deliver_notification"

        def apply_async(self, *args, **kwargs):
            raise ConnectionRefusedError

    assert service.notifications_enqueue_due(deliver_task=Unreachable()) == 0
    assert Notification.objects.filter(queued_at=None).count() == 2
    assert Notification.objects.pending().count() == 2


def test_rows_a_worker_died_on_every_time_are_given_up_and_shown(cast, frozen_clock, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    notification = make_notification(cast.coordinator)
    for _ in range(2):
        service._claim(notification.pk, timezone.now())
        frozen_clock.shift(dt.timedelta(seconds=61))

    assert service.notifications_give_up_exhausted(now=timezone.now()) == 1
    notification.refresh_from_db()
    assert notification.failed_at and notification.last_error == "Gave up: no attempt finished."


# --- A delayed reaction on the chart, the record and the recall list -----------------------------------------


def test_a_delayed_reaction_without_a_grade_shows_on_the_chart_record_and_recall(cast):
    from django.urls import reverse

    from tests.conftest import client_for
    from visits.models import VialUsed

    visit = visit_in(cast, -60, nurse=cast.assigned_nurse, status="signed")
    factories.on_care_team(cast.patient, cast.assigned_nurse)
    VialUsed.objects.create(
        visit=visit, product=factories.product(), lot_number="LOT-77", expires_on="2100-01-01", size_mg=10000
    )
    Reaction.objects.create(
        visit=visit, onset_at=NOW, symptoms=["other"], other_symptom="dark urine (haemolysis?)", is_delayed=True
    )

    chart = client_for(cast.assigned_nurse).get(reverse("visits:chart", args=[visit.pk]))
    record = client_for(cast.coordinator).get(reverse("visits:print", args=[visit.pk]))
    recall = client_for(cast.coordinator).get(reverse("visits:recall"), {"lot": "LOT-77"})

    assert [chart.status_code, record.status_code, recall.status_code] == [200, 200, 200]
    assert "Delayed, not graded yet" in chart.content.decode()
    assert "not graded yet" in record.content.decode()
    assert "Delayed, not graded yet" in recall.content.decode()
    assert "Grade None" not in chart.content.decode() + record.content.decode() + recall.content.decode()


def test_an_undelayed_reaction_must_have_a_grade_and_an_action_in_the_database(cast):
    from django.db import IntegrityError, transaction

    visit = visit_in(cast, -3, nurse=cast.assigned_nurse)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reaction.objects.create(visit=visit, onset_at=NOW, symptoms=["headache"], action="continued")
