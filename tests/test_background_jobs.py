"""Celery against the real Redis and a real worker process; the broker may fail, requests may not."""

import socket
import threading
import time
from contextlib import contextmanager

import pytest
from django.urls import reverse

from infusion_site import health
from infusion_site.celery import app as celery_app
from infusion_site.tasks import heartbeat
from patients.models import PortalInvitation
from patients.tasks import send_due_invitations
from tests.celery_support import celery_worker, purge_queue, wait_for
from tests.conftest import client_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def mails(folder):
    """The messages written so far. The file backend creates its file before it writes the message into it, so a
    message still being written (no separator line at its end yet) is not counted."""
    if not folder.exists():
        return []
    texts = [path.read_text() for path in folder.glob("*.log")]
    return [text for text in texts if text.rstrip("\n").endswith("-" * 79)]


@pytest.fixture
def mail_dir(tmp_path):
    return tmp_path / "mail"


@pytest.fixture
def worker(tmp_path, mail_dir):
    purge_queue()
    with celery_worker(log_path=tmp_path / "worker.log", EMAIL_URL="filemail://", EMAIL_FILE_PATH=mail_dir) as process:
        yield process


def test_healthz_reports_the_worker_after_its_heartbeat(cast, worker):
    health.redis_client().delete(health.HEARTBEAT_KEY)
    client = client_for(None)
    assert client.get("/healthz").json()["worker"] == "down: no heartbeat received"
    heartbeat.delay()
    wait_for(lambda: client.get("/healthz").json()["worker"] == "ok", timeout=20, what="the worker's heartbeat")
    body = client.get("/healthz").json()
    assert body == {"database": "ok", "redis": "ok", "worker": "ok"}


def test_invitation_is_emailed_by_the_worker_after_commit(cast, worker, mail_dir):
    response = client_for(cast.coordinator).post(
        reverse("patients:invite", args=[cast.other_patient.pk]), {"email": "new.patient@example.org"}
    )
    # other_patient already has an account in the cast; use a patient without one.
    assert response.status_code == 400
    cast.other_patient.user = None
    cast.other_patient.save()
    response = client_for(cast.coordinator).post(
        reverse("patients:invite", args=[cast.other_patient.pk]), {"email": "new.patient@example.org"}
    )
    assert response.status_code == 302
    invitation = PortalInvitation.objects.get(patient=cast.other_patient)
    wait_for(lambda: mails(mail_dir), timeout=20, what="the invitation email")
    (mail,) = mails(mail_dir)
    assert "To: new.patient@example.org" in mail
    assert "/accounts/reset/" in mail
    invitation.refresh_from_db()
    assert invitation.sent_at is not None


def test_sweeps_send_each_invitation_once(cast, worker, mail_dir):
    cast.other_patient.user = None
    cast.other_patient.save()
    from patients.services import patient_invite_to_portal

    with celery_broker("redis://127.0.0.1:1/0"):  # the immediate publish is lost...
        patient_invite_to_portal(patient=cast.other_patient, email="late@example.org", by=cast.coordinator)
    for _ in range(3):  # ...and the sweep, run three times, sends it once
        send_due_invitations.delay()
    wait_for(lambda: mails(mail_dir), timeout=20, what="the swept invitation")
    time.sleep(2)
    assert len(mails(mail_dir)) == 1
    assert PortalInvitation.objects.get().sent_at is not None


@contextmanager
def celery_broker(url):
    """Point the web side's Celery at another broker for the duration (connections rebuilt)."""
    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    try:
        yield
    finally:
        celery_app.conf.broker_url = previous
        celery_app._pool = None
        celery_app.amqp._producer_pool = None


@contextmanager
def silent_server():
    """A port on loopback that accepts connections and never answers, like a hung Redis."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        server.close()


def refused_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again on exit: nothing listens there


@pytest.mark.parametrize("outage", ["refused", "hung"])
def test_a_request_answers_within_two_seconds_and_commits_when_redis_is_down(cast, outage, settings):
    cast.other_patient.user = None
    cast.other_patient.save()
    server = silent_server() if outage == "hung" else None
    port = server.__enter__() if server else refused_port()
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    try:
        with celery_broker(f"redis://127.0.0.1:{port}/0"):
            started = time.monotonic()
            response = client_for(cast.coordinator).post(
                reverse("patients:invite", args=[cast.other_patient.pk]), {"email": "outage@example.org"}
            )
            elapsed = time.monotonic() - started
            health_started = time.monotonic()
            status = client_for(None).get("/healthz")
            health_elapsed = time.monotonic() - health_started
    finally:
        if server:
            server.__exit__(None, None, None)
    assert response.status_code == 302
    print(f"request answered in {elapsed:.2f} s with Redis {outage}")
    assert elapsed < 2.0, f"the request took {elapsed:.2f} s"
    invitation = PortalInvitation.objects.get(patient=cast.other_patient)
    assert invitation.sent_at is None  # waiting for the sweep, not lost
    assert status.status_code == 200
    assert status.json()["redis"].startswith("unavailable")
    assert health_elapsed < 2.0, f"/healthz took {health_elapsed:.2f} s"


def test_healthz_answers_503_when_the_database_does_not(client, monkeypatch, db):
    from django.db import OperationalError, connection

    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable: OperationalError"
    assert set(response.json()) == {"database", "redis", "worker"}
