from celery import shared_task

from patients.models import PortalInvitation
from patients.services import invitation_send


@shared_task(ignore_result=True)
def send_invitation(invitation_id: int) -> None:
    invitation_send(invitation_id=invitation_id)


@shared_task(ignore_result=True)
def send_due_invitations() -> None:
    """Sweep: send every invitation not sent yet (a lost message or a Redis outage loses nothing)."""
    for invitation_id in PortalInvitation.objects.filter(sent_at=None, attempts__lt=5).values_list("pk", flat=True):
        invitation_send(invitation_id=invitation_id)
