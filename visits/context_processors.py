from infusion_site.roles import COORDINATOR, NURSE, role_of
from visits.models import Notification


def notifications(request):
    """The unread count beside the bell in the staff menu (one query, on staff pages only)."""
    user = getattr(request, "user", None)
    if role_of(user) not in (COORDINATOR, NURSE):
        return {}
    return {"unread_notifications": Notification.objects.inbox_of(user).filter(read_at=None).count()}
