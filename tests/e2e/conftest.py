"""Browser tests: Playwright drives Debian's Chromium at tablet size against a live server."""

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from infusion_site.mfa.selectors import has_second_factor, is_staff_account
from tests.conftest import require, second_factor, totp_code

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
TABLET = {"width": 1024, "height": 768}

# Playwright's sync API runs an event loop in this thread; the ORM calls in the test body are
# still plain synchronous calls, so Django's async guard does not apply here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    require(Path(CHROMIUM).exists(), f"Chromium is needed at {CHROMIUM} (Debian package 'chromium')")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": TABLET, "has_touch": True, "locale": "en-US"}


def sign_in(page, base_url, username, password):
    """Sign in on the sign-in page at ``base_url``, passing the second step with the code the app would show now."""
    user = get_user_model().objects.filter(username=username).first()
    # Staff have an authenticator app (infusion_site/mfa); the second step gets the code it would show now.
    device = second_factor(user) if user and (is_staff_account(user) or has_second_factor(user)) else None
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    if device is not None and "/accounts/mfa/verify/" in page.url:
        page.get_by_label("Enter the 6-digit code from your authenticator app").fill(totp_code(device))
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_load_state()
    return page


@pytest.fixture
def login(live_server, page):
    return lambda username, password: sign_in(page, live_server.url, username, password)


@pytest.fixture(autouse=True)
def short_timeouts(page):
    page.set_default_timeout(10_000)
