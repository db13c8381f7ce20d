"""Sign-in records the device; sign-out (and idle logoff, which signs out) deletes its row."""

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from infusion_site.client_address import client_address
from infusion_site.devices import services


@receiver(user_logged_in)
def record_device(sender, request, user, **kwargs):
    session = getattr(request, "session", None)
    if session is None:
        return
    if session.session_key is None:
        session.save()
    services.user_session_record_sign_in(
        user=user,
        session_key=session.session_key,
        client_address=client_address(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )


@receiver(user_logged_out)
def forget_device(sender, request, user, **kwargs):
    session = getattr(request, "session", None)
    if session is not None:
        services.user_session_forget(session_key=session.session_key)
