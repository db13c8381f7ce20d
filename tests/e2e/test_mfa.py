"""A new nurse enrols her authenticator app at first sign-in on the tablet and reaches My day; she adds a passkey
(Chromium's virtual authenticator) and signs in with it instead of a code."""

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

from tests import factories
from tests.conftest import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in_with_password(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_new_nurse_enrols_her_app_then_adds_and_uses_a_passkey(live_server, page, cast, settings):
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url.replace("127.0.0.1", "localhost")]
    nurse = cast.assigned_nurse
    sign_in_with_password(page, live_server, nurse.username)

    expect(page).to_have_url(re.compile(r"/accounts/mfa/enrol/"))
    expect(page.locator(".mfa-qr svg")).to_be_visible()
    device = TOTPDevice.objects.get(user=nurse, confirmed=False)
    secret = page.locator("#totp-secret").inner_text()
    assert len(secret.replace(" ", "")) == 32
    page.get_by_label("Enter the 6-digit code your app now shows").fill(
        "000000" if totp_code(device) != "000000" else "111111"
    )
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.locator(".invalid-feedback, .text-danger").first).to_contain_text("That code is not right")
    page.get_by_label("Enter the 6-digit code your app now shows").fill(totp_code(device))
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have written them down, continue").click()
    expect(page).to_have_url(f"{live_server.url}/visits/today/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    # A passkey, with Chromium's virtual authenticator standing in for the tablet's.
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    page.goto(f"{live_server.url}/accounts/mfa/")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("#mfa-factors")).to_contain_text("Passkey")
    assert WebAuthnCredential.objects.filter(user=nurse, confirmed=True).count() == 1

    page.locator("form[action='/accounts/logout/'] button").first.click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    sign_in_with_password(page, live_server, nurse.username)
    expect(page).to_have_url(re.compile(r"/accounts/mfa/verify/"))
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(f"{live_server.url}/visits/today/")
