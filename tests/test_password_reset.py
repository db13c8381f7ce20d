"""Password reset: the same answer in the same work for every address, the mail from the worker, throttled quietly;
and no email the app sends greets anyone by name."""

import re
import smtplib
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from infusion_site.password_reset import services
from infusion_site.tasks import send_password_reset
from tests.celery_support import celery_worker, purge_queue, redis_answers, wait_for
from tests.conftest import require

RESET_URL = "/accounts/password_reset/"
DONE_URL = "/accounts/password_reset/done/"
NEW_PASSWORD = "violet-harbour-lantern-42"


@pytest.fixture(autouse=True)
def fresh_throttle():
    require(redis_answers(), "Redis must answer for the password-reset throttle")
    client = services.health.redis_client()
    keys = list(client.scan_iter(f"{services.KEY_PREFIX}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def published(monkeypatch):
    """Every task published after commit, as (task name, args), instead of the broker."""
    sent = []
    monkeypatch.setattr("infusion_site.queueing.publish", lambda task, *args, **kwargs: sent.append((task.name, args)))
    return sent


def ask(email, *, ip="192.0.2.10", client=None):
    return (client or Client()).post(RESET_URL, {"email": email}, REMOTE_ADDR=ip)


def run_published(published):
    for name, args in published:
        assert name == "infusion_site.tasks.send_password_reset"
        send_password_reset(*args)


# --- The request -----------------------------------------------------------------------------------------------


def test_known_and_unknown_addresses_get_the_same_answer_from_the_same_work(
    cast, published, django_capture_on_commit_callbacks
):
    answers, queries = [], []
    for email in (cast.patient_user.email, "nobody@example.org"):
        with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as captured:
            response = ask(email)
        answers.append((response.status_code, response["Location"]))
        queries.append([query["sql"] for query in captured.captured_queries])

    assert answers == [(302, DONE_URL), (302, DONE_URL)]
    assert queries[0] == queries[1]
    assert not any("auth_user" in sql for sql in queries[0])  # the request never looks the address up
    assert [name for name, _ in published] == ["infusion_site.tasks.send_password_reset"] * 2
    assert mail.outbox == []  # the worker sends it


def test_the_done_page_says_the_same_for_any_address(cast):
    page = Client().get(DONE_URL).content.decode()
    assert "If an account uses that address, an email with a link to choose a new password is on its way." in page


def test_an_address_that_is_not_one_is_refused_at_its_field(cast, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = ask("not an address")
    assert response.status_code == 200
    assert response.context["form"].errors["email"] == ["Enter a valid email address."]
    assert published == []


def test_the_task_is_enqueued_only_after_commit(cast, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ask(cast.patient_user.email)
    assert published == [] and len(callbacks) == 1


# --- The mail ----------------------------------------------------------------------------------------------------


def test_the_mail_carries_a_one_use_link_and_greets_no_one(cast, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask(cast.patient_user.email)
    run_published(published)

    (message,) = mail.outbox
    assert message.to == [cast.patient_user.email]
    assert message.subject == "Choose a new password for your Home Infusion Nursing account"
    assert message.body.startswith("Hello,\n")
    assert re.search(r"http://127\.0\.0\.1:\d+/accounts/reset/[\w-]+/[\w-]+/", message.body)
    for private in (cast.patient_user.first_name, cast.patient_user.last_name, cast.patient.first_name, "patient-a"):
        assert private not in message.body and private not in message.subject
    assert "&amp;" not in message.body and "&#x27;" not in message.body


def test_the_link_lets_the_owner_choose_a_new_password_once(cast, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask(cast.patient_user.email)
    run_published(published)
    link = urlsplit(re.search(r"https?://\S+/accounts/reset/\S+/", mail.outbox[0].body).group(0)).path

    browser = Client()
    form_url = browser.get(link)["Location"]
    demo = "infusion-demo-2026"
    assert browser.post(form_url, {"new_password1": demo, "new_password2": demo}).status_code == 200  # refused
    saved = browser.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert saved["Location"] == reverse("password_reset_complete")
    cast.patient_user.refresh_from_db()
    assert cast.patient_user.check_password(NEW_PASSWORD)
    assert Client().get(link, follow=True).context["validlink"] is False


def test_running_the_task_twice_sends_one_mail(cast):
    send_password_reset("request-1", cast.patient_user.email)
    send_password_reset("request-1", cast.patient_user.email)
    assert len(mail.outbox) == 1
    send_password_reset("request-2", cast.patient_user.email)  # a second request is a second mail
    assert len(mail.outbox) == 2


def test_no_mail_for_an_unknown_address_an_inactive_account_or_one_without_a_password(cast):
    send_password_reset("r1", "nobody@example.org")
    cast.other_patient_user.is_active = False
    cast.other_patient_user.save()
    send_password_reset("r2", cast.other_patient_user.email)
    cast.coordinator.set_unusable_password()
    cast.coordinator.save()
    send_password_reset("r3", cast.coordinator.email)
    assert mail.outbox == []


def test_a_refused_send_is_logged_without_the_address(cast, monkeypatch, caplog):
    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPRecipientsRefused({cast.patient_user.email: (550, b"no such user")})

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    send_password_reset("r1", cast.patient_user.email)
    assert "SMTPRecipientsRefused" in caplog.text
    assert cast.patient_user.email not in caplog.text


# --- The throttle --------------------------------------------------------------------------------------------------


def asked(published, email, times, *, ips, capture):
    answers = set()
    for n in range(times):
        with capture(execute=True):
            response = ask(email(n), ip=ips(n))
        answers.add((response.status_code, response["Location"]))
    return answers


def test_three_requests_per_address_per_hour_then_quietly_nothing(cast, published, django_capture_on_commit_callbacks):
    email = cast.patient_user.email
    answers = asked(
        published, lambda n: email, 5, ips=lambda n: f"198.51.100.{n + 1}", capture=django_capture_on_commit_callbacks
    )
    assert answers == {(302, DONE_URL)}
    assert len(published) == 3
    # Another spelling of the same address is the same address.
    with django_capture_on_commit_callbacks(execute=True):
        ask(email.upper(), ip="198.51.100.77")
    assert len(published) == 3


def test_ten_requests_per_client_address_per_hour(cast, published, django_capture_on_commit_callbacks):
    answers = asked(
        published,
        lambda n: f"someone{n}@example.org",
        12,
        ips=lambda n: "203.0.113.5",
        capture=django_capture_on_commit_callbacks,
    )
    assert answers == {(302, DONE_URL)}
    assert len(published) == 10
    with django_capture_on_commit_callbacks(execute=True):
        ask("someone-else@example.org", ip="203.0.113.6")  # another client is not held back
    assert len(published) == 11


def test_the_limits_lift_after_an_hour(cast, published, django_capture_on_commit_callbacks):
    email = cast.patient_user.email
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for n in range(4):
            with django_capture_on_commit_callbacks(execute=True):
                ask(email, ip=f"198.51.100.{n + 1}")
        assert len(published) == 3
        clock.shift(timedelta(minutes=59))
        with django_capture_on_commit_callbacks(execute=True):
            ask(email, ip="198.51.100.9")
        assert len(published) == 3
        clock.shift(timedelta(minutes=2))
        with django_capture_on_commit_callbacks(execute=True):
            ask(email, ip="198.51.100.9")
        assert len(published) == 4


def test_the_limits_come_from_the_settings(cast, published, settings, django_capture_on_commit_callbacks):
    settings.PASSWORD_RESET_PER_ADDRESS_PER_HOUR = 1
    for n in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            ask(cast.patient_user.email, ip=f"198.51.100.{n + 1}")
    assert len(published) == 1


def test_a_forged_forwarded_for_does_not_escape_the_client_limit(cast, published, django_capture_on_commit_callbacks):
    for n in range(12):
        with django_capture_on_commit_callbacks(execute=True):
            Client().post(
                RESET_URL, {"email": f"x{n}@example.org"}, REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}"
            )
    assert len(published) == 10


def test_with_redis_down_the_page_answers_the_same_and_sends_nothing(
    cast, published, settings, django_capture_on_commit_callbacks
):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(cast.patient_user.email)
    assert (response.status_code, response["Location"]) == (302, DONE_URL)
    assert published == []


# --- No names in emails ----------------------------------------------------------------------------------------


def test_the_portal_invitation_greets_no_one_by_name(cast):
    from patients.models import PortalInvitation
    from patients.services import invitation_send, patient_invite_to_portal
    from tests.factories import PatientFactory

    patient = PatientFactory(first_name="Odessa", last_name="Farnsworth", email="odessa@example.org")
    patient_invite_to_portal(patient=patient, email="odessa@example.org", by=cast.coordinator)
    invitation_send(invitation_id=PortalInvitation.objects.get(patient=patient).pk)

    (message,) = mail.outbox
    assert message.body.startswith("Hello,\n")
    for private in ("Odessa", "Farnsworth", patient.mrn, "IVIG", "dermatomyositis", "immunoglobulin"):
        assert private.lower() not in message.body.lower()
    assert "/accounts/reset/" in message.body


# --- With a real worker ------------------------------------------------------------------------------------------


def mails(folder):
    if not folder.exists():
        return []
    texts = [path.read_text() for path in folder.glob("*.log")]
    return [text for text in texts if text.rstrip("\n").endswith("-" * 79)]


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_mails_the_link_after_the_request(cast, tmp_path):
    mail_dir = tmp_path / "mail"
    purge_queue()
    with celery_worker(log_path=tmp_path / "worker.log", EMAIL_URL="filemail://", EMAIL_FILE_PATH=mail_dir):
        response = ask(cast.patient_user.email)
        assert response["Location"] == DONE_URL
        wait_for(lambda: mails(mail_dir), timeout=20, what="the password reset email")
        (message,) = mails(mail_dir)
        log = (tmp_path / "worker.log").read_text()
    assert f"To: {cast.patient_user.email}" in message
    assert "/accounts/reset/" in message
    assert cast.patient_user.first_name not in message
    assert cast.patient_user.email not in log  # the address travels in the message, never into the worker's log
