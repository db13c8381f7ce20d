"""Guessing at one account from many addresses: OWASP's "device cookie" throttle, per username.

django-axes locks a username at one address after a few failures; someone guessing from many addresses is not
slowed by it. So, across all addresses: once ``LOGIN_THROTTLE_FAILURES`` sign-ins for a username have failed within
``LOGIN_THROTTLE_WINDOW_MINUTES``, an attempt for that username is refused without checking the password until a
cool-down after the latest failure has passed. The cool-down starts at ``LOGIN_THROTTLE_FIRST_COOLDOWN_SECONDS`` and
doubles with each further failure, up to ``LOGIN_THROTTLE_MAX_COOLDOWN_SECONDS``
(https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies).

A browser that signed in to the account before carries a signed, HttpOnly device cookie naming the username and is
never slowed, so a guesser elsewhere cannot keep the owner out. The failures are axes' own records
(``AccessFailureLog``, one row per failed sign-in); the answer is the same whether or not the account exists.
"""

import math
from datetime import timedelta

from axes.models import AccessFailureLog
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core import signing
from django.db.models import Count, Max
from django.dispatch import receiver
from django.utils import timezone

DEVICE_COOKIE = "trusted_device"
DEVICE_COOKIE_PATH = "/accounts/"  # the sign-in page and the in-place resume are its only readers
DEVICE_COOKIE_SALT = "infusion_site.login_throttle.device"
# A shared family computer or a nurse's tablet used by a colleague: a few accounts per browser, the latest kept.
DEVICE_COOKIE_MAX_ACCOUNTS = 5
SIGNED_IN_ATTRIBUTE = "_trusted_device_username"


def _device_usernames(request) -> list[str]:
    value = request.COOKIES.get(DEVICE_COOKIE)
    if not value:
        return []
    try:
        usernames = signing.loads(
            value, salt=DEVICE_COOKIE_SALT, max_age=timedelta(days=settings.LOGIN_DEVICE_COOKIE_DAYS)
        )
    except signing.BadSignature:  # tampered with, expired, or signed with an old key
        return []
    return [name for name in usernames if isinstance(name, str)] if isinstance(usernames, list) else []


def is_trusted_device(request, username: str) -> bool:
    return username in _device_usernames(request)


def cooldown_seconds(failures: int) -> int:
    """How long attempts wait after the latest failure, once ``failures`` in the window reached the limit."""
    beyond = failures - settings.LOGIN_THROTTLE_FAILURES
    if beyond < 0:
        return 0
    first, longest = settings.LOGIN_THROTTLE_FIRST_COOLDOWN_SECONDS, settings.LOGIN_THROTTLE_MAX_COOLDOWN_SECONDS
    # Past the ceiling the exponent only grows; stop before it makes a huge integer.
    return longest if first << min(beyond, 32) >= longest else first << beyond


def seconds_to_wait(*, request, username: str) -> int:
    """0 if this browser may try a password for ``username`` now, else the seconds left of the cool-down."""
    if not username or is_trusted_device(request, username):
        return 0
    now = timezone.now()
    recent = AccessFailureLog.objects.filter(
        username=username, attempt_time__gte=now - timedelta(minutes=settings.LOGIN_THROTTLE_WINDOW_MINUTES)
    ).aggregate(failures=Count("pk"), latest=Max("attempt_time"))
    wait = cooldown_seconds(recent["failures"])
    if not wait:
        return 0
    left = (recent["latest"] + timedelta(seconds=wait) - now).total_seconds()
    return math.ceil(left) if left > 0 else 0


def wait_message(seconds: int) -> str:
    """“Too many attempts for this account. Try again in 2 minutes.” Rounded up, so trying then works."""
    if seconds < 60:
        when = f"{seconds} second{'s' if seconds != 1 else ''}"
    else:
        minutes = math.ceil(seconds / 60)
        when = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"Too many attempts for this account. Try again in {when}."


@receiver(user_logged_in, dispatch_uid="login_throttle_trust_device")
def _remember_signed_in_username(sender, request, user, **kwargs):
    if request is not None:
        setattr(request, SIGNED_IN_ATTRIBUTE, user.get_username())


class TrustedDeviceMiddleware:
    """After a successful sign-in (wherever it happened: the sign-in page, the in-place resume), the response
    carries the device cookie for that username."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        username = getattr(request, SIGNED_IN_ATTRIBUTE, None)
        if username:
            usernames = [name for name in _device_usernames(request) if name != username] + [username]
            response.set_cookie(
                DEVICE_COOKIE,
                signing.dumps(usernames[-DEVICE_COOKIE_MAX_ACCOUNTS:], salt=DEVICE_COOKIE_SALT),
                max_age=settings.LOGIN_DEVICE_COOKIE_DAYS * 24 * 3600,
                path=DEVICE_COOKIE_PATH,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
