from celery import shared_task

from infusion_site.health import record_heartbeat
from infusion_site.password_reset.services import password_reset_send


@shared_task(ignore_result=True)
def heartbeat() -> None:
    """Scheduled by beat every 30 s; its timestamp tells /healthz the worker is alive."""
    record_heartbeat()


@shared_task(ignore_result=True)
def send_password_reset(request_id: str, email: str) -> None:
    """Enqueued on commit by infusion_site.password_reset.services.password_reset_request; safe to run twice."""
    password_reset_send(request_id=request_id, email=email)
