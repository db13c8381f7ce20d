"""The Celery application, wired as Celery's "First steps with Django" guide does."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infusion_site.settings")

app = Celery("infusion_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def report_ready(sender, **kwargs):
    """Beat sends a heartbeat every 30 s; the first one comes from the worker as soon as it is ready."""
    from infusion_site.health import record_heartbeat

    try:
        record_heartbeat()
    except Exception:  # a broker outage at start-up only delays the first heartbeat
        pass
