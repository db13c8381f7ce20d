"""Who must pass the second step, and which factors an account has."""

from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from infusion_site.roles import COORDINATOR, NURSE, role_of


def is_staff_account(user) -> bool:
    """Nurses, coordinators and superusers (who act as coordinators), and anyone who may open the admin."""
    return bool(user.is_superuser or user.is_staff or role_of(user) in (COORDINATOR, NURSE))


def authenticators(*, user) -> list:
    """The factors that prove it is her on their own: authenticator apps and passkeys (confirmed ones)."""
    apps = list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("created_at", "pk"))
    passkeys = list(WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at", "pk"))
    return apps + passkeys


def has_second_factor(user) -> bool:
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
    )


def must_verify(user) -> bool:
    """Staff always; a patient once she has opted in (a factor nobody asks for protects nothing)."""
    return is_staff_account(user) or has_second_factor(user)


def has_passkey(user) -> bool:
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(*, user) -> int:
    device = StaticDevice.objects.filter(user=user, confirmed=True).first()
    return device.token_set.count() if device else 0
