"""What the project package itself keeps: the signed-in devices of each user."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class UserSession(models.Model):
    """One signed-in browser: a row per Django session, so a user can see where they are signed in and end it.

    Written at sign-in (infusion_site.devices.signals), touched at most once a minute by the middleware, deleted at
    sign-out or when the session is ended from another device.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signed_in_devices")
    session_key = models.CharField(max_length=40, unique=True)
    signed_in_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    # In words ("Chrome on an Android tablet"); the raw user agent is not kept.
    device = models.CharField(max_length=100)

    class Meta:
        ordering = ["-last_seen_at", "-pk"]
        indexes = [models.Index(fields=["user", "last_seen_at"])]

    def __str__(self) -> str:
        return f"{self.device}, signed in {self.signed_in_at:%Y-%m-%d %H:%M}"
