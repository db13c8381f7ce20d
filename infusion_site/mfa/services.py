"""The second factor: enrolling an authenticator app, recovery codes, verifying the second step, removing a factor,
and remembering that this browser passed the second step (so the idle-logoff resume need not ask for a code)."""

from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.crypto import constant_time_compare, salted_hmac
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from infusion_site.mfa import selectors

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_APP_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"

# The browser that passed the second step for this user (see remember_browser).
REMEMBER_COOKIE = "mfa_browser"
REMEMBER_SALT = "infusion_site.mfa.remember-browser"

WRONG_CODE = "That code is not right. Type the 6 digits your authenticator app shows now."
WRONG_RECOVERY_CODE = "That recovery code is not right, or it was used already. Each code works once."


def _digits(token: str) -> str:
    return "".join(token.split())


# --- Authenticator app (TOTP) ------------------------------------------------------------------


def totp_device_start(*, user) -> TOTPDevice:
    """The authenticator app being set up: the same unconfirmed secret until it is confirmed, so reloading the page
    never changes the QR code the nurse has already scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice(user=user, name=AUTHENTICATOR_APP_NAME, confirmed=False)
        device.full_clean()
        device.save()
    return device


def totp_secret(device: TOTPDevice) -> str:
    """The secret as authenticator apps expect it typed: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an SVG QR code, markup to inline in the page (no data: URL, no inline style)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    return image.to_string(encoding="unicode")


@transaction.atomic
def totp_device_confirm(*, request, device: TOTPDevice, token: str) -> TOTPDevice:
    """Confirm the app with a code it shows, and count this session as verified by it."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=request.user, confirmed=False)
    token = _digits(token)
    if not (token.isdigit() and len(token) == device.digits) or not device.verify_token(token):
        raise ValidationError({"token": WRONG_CODE})
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    otp_login(request, device)
    return device


# --- Recovery codes (static tokens) -------------------------------------------------------------


@transaction.atomic
def recovery_codes_issue(*, user) -> list[str]:
    """Ten new one-time codes; any older codes stop working. Only the return value ever holds them in clear."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = []
    while len(codes) < RECOVERY_CODE_COUNT:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


# --- The second step ---------------------------------------------------------------------------------


def _throttled(devices) -> str | None:
    for device in devices:
        allowed, details = device.verify_is_allowed()
        if not allowed and details and details.get("locked_until"):
            return "Too many wrong codes. Wait a few seconds, then type the code your app shows now."
    return None


@transaction.atomic
def second_step_verify(*, request, token: str) -> Device:
    """Verify the signed-in user with a 6-digit code from her app, or one of her recovery codes (used up here).

    A code of six digits is tried only against her apps, anything else only against her recovery codes, so a
    mistyped recovery code never slows down the app's next code (django-otp's throttling is per device).
    """
    user = request.user
    token = _digits(token)
    if token.isdigit() and len(token) == 6:
        devices = list(TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True))
        message, field = WRONG_CODE, "token"
    else:
        devices = list(StaticDevice.objects.select_for_update().filter(user=user, confirmed=True))
        token = token.lower()
        message, field = WRONG_RECOVERY_CODE, "token"
    if not token:
        raise ValidationError({field: "Type the 6-digit code from your authenticator app, or a recovery code."})
    throttled = _throttled(devices)
    if throttled:
        raise ValidationError({field: throttled})
    for device in devices:
        if device.verify_token(token):
            otp_login(request, device)
            return device
    raise ValidationError({field: message})


# --- Removing a factor ----------------------------------------------------------------------------


@transaction.atomic
def factor_remove(*, user, device: Device) -> None:
    """Remove one of her apps or passkeys. Staff keep at least one: without it they could not sign in."""
    if device.user_id != user.pk:
        raise ValidationError("That is not one of your sign-in methods.")
    others = [other for other in selectors.authenticators(user=user) if other.persistent_id != device.persistent_id]
    if selectors.is_staff_account(user) and not others:
        raise ValidationError(
            "Staff accounts keep at least one authenticator app or passkey: add another one before removing this."
        )
    device.delete()
    if not others:
        # A patient who opted out: her recovery codes would only ask for a second step she no longer has.
        StaticDevice.objects.filter(user=user).delete()


# --- Remembering the browser that passed the second step ---------------------------------------


def _binding(user, device: Device) -> str:
    # Bound to the account's password too (Django's session hash): a new password forgets every browser.
    digest = salted_hmac(REMEMBER_SALT, f"{user.pk}|{device.persistent_id}|{user.get_session_auth_hash()}")
    return f"{user.pk}|{device.persistent_id}|{digest.hexdigest()}"


def _remembered_value(request) -> str | None:
    return request.get_signed_cookie(
        REMEMBER_COOKIE, default=None, salt=REMEMBER_SALT, max_age=settings.SESSION_ABSOLUTE_LIFETIME
    )


def remembers_browser(*, request, user, device: Device) -> bool:
    """Whether this browser's cookie already names ``device`` for ``user``: compared without a query, since the
    signed-in request has its device loaded already (every staff request asks this)."""
    value = _remembered_value(request)
    return bool(value) and constant_time_compare(value, _binding(user, device))


def remembered_device(*, request, user) -> Device | None:
    """The factor this browser passed the second step with for ``user``, if the signed cookie says so and is younger
    than a session may live; otherwise None."""
    value = _remembered_value(request)
    if not value or value.count("|") != 2:
        return None
    user_pk, persistent_id, _ = value.split("|")
    if user_pk != str(user.pk):
        return None
    device = Device.from_persistent_id(persistent_id, for_verify=False)
    if device is None or device.user_id != user.pk or not device.confirmed:
        return None
    return device if constant_time_compare(value, _binding(user, device)) else None


def remember_browser(*, request, response, user, device: Device) -> None:
    """Mark this browser as having passed the second step for ``user``: signed, HttpOnly, Secure outside development,
    and valid no longer than a session may live (SESSION_ABSOLUTE_LIFETIME)."""
    response.set_signed_cookie(
        REMEMBER_COOKIE,
        _binding(user, device),
        salt=REMEMBER_SALT,
        max_age=settings.SESSION_ABSOLUTE_LIFETIME,
        httponly=True,
        secure=not settings.DEBUG,
        samesite="Lax",
    )


def forget_browser(*, response) -> None:
    response.delete_cookie(REMEMBER_COOKIE, samesite="Lax")


def session_resume(*, request, user) -> bool:
    """After the idle logoff, sign ``user`` in again in place (her password was just checked) and restore her second
    step, but only if this browser passed it for her: otherwise False and she signs in on the sign-in page."""
    device = remembered_device(request=request, user=user)
    if device is None and selectors.must_verify(user):
        return False
    login(request, user)
    if device is not None:
        otp_login(request, device)
    return True
