"""Reads about signed-in devices."""

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Q

from infusion_site.devices.services import django_session_exists, user_session_forget
from infusion_site.models import UserSession
from infusion_site.roles import COORDINATOR, NURSE

STAFF_PAGE_SIZE = 50


def devices_of(*, user) -> list[UserSession]:
    """The user's signed-in devices. A row whose session is gone (expired, or replaced) is dropped as it is found:
    a user has a handful, so checking each is cheap."""
    rows = []
    for row in UserSession.objects.filter(user=user).order_by("-last_seen_at", "-pk"):
        if django_session_exists(row.session_key):
            rows.append(row)
        else:
            user_session_forget(session_key=row.session_key)
    return rows


def staff_members():
    """Nurses and coordinators with how many devices they are signed in on; one query."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[NURSE, COORDINATOR])
        .annotate(devices=Count("signed_in_devices", distinct=True), last_seen=Max("signed_in_devices__last_seen_at"))
        .order_by("last_name", "first_name", "username")
        .distinct()
    )


def staff_member(*, pk: int):
    return staff_members().filter(Q(pk=pk)).first()
