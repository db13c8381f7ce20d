from celery import shared_task

from infusion_site.health import record_heartbeat


@shared_task(ignore_result=True)
def heartbeat() -> None:
    """Scheduled by beat every 30 s; its timestamp tells /healthz the worker is alive."""
    record_heartbeat()
