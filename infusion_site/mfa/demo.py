"""Demo staff enrolled with fixed authenticator secrets, so anyone can sign in to the demo.

These secrets are public (README): they are made only in development (DEBUG on) or when the seed is explicitly
for a demo (DEMO_MFA_SECRETS=1), the way seed_demo takes its password from DEMO_PASSWORD. Elsewhere the demo
staff enrol their own app at first sign-in.
"""

import os
from base64 import b32decode

from django.conf import settings
from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from infusion_site.mfa.services import AUTHENTICATOR_APP_NAME

DEMO_DEVICE_NAME = f"{AUTHENTICATOR_APP_NAME} (demo)"
# Base32, as an authenticator app takes a typed setup key. Demo only: never use these for a real account.
DEMO_SECRETS = {
    "coordinator": "DEMOCOORDINATOR2",
    "nurse1": "DEMONURSEONE2345",
    "nurse2": "DEMONURSETWO2345",
    "admin": "DEMOADMINISTRATR",
}


def fixed_secrets_allowed() -> bool:
    return settings.DEBUG or os.environ.get("DEMO_MFA_SECRETS", "").lower() in ("1", "true", "yes")


def _hex_key(secret: str) -> str:
    return b32decode(secret).hex()


@transaction.atomic
def seed_demo_devices(users: dict) -> dict[str, str]:
    """Give each demo staff account its fixed authenticator secret (again, if changed); answers username → secret."""
    seeded = {}
    for username, secret in DEMO_SECRETS.items():
        user = users.get(username)
        if user is None:
            continue
        device, _ = TOTPDevice.objects.get_or_create(user=user, name=DEMO_DEVICE_NAME, defaults={"confirmed": True})
        if device.key != _hex_key(secret) or not device.confirmed:
            device.key, device.confirmed, device.last_t, device.drift = _hex_key(secret), True, -1, 0
            device.full_clean()
            device.save()
        seeded[username] = secret
    return seeded


def demo_device(username: str) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user__username=username, name=DEMO_DEVICE_NAME, confirmed=True).first()


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"
