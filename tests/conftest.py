"""The cast every test can use, and the rule that CI runs every test.

Two patients (each with a portal account), a nurse on the first patient's care team
and one on no care team, a coordinator, and an anonymous visitor.
"""

import os
from dataclasses import dataclass

import pytest
from django.test import Client

from tests import factories

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, reason: str) -> None:
    """Skip when a service is missing on a laptop; fail in CI, where nothing may be skipped."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI requires this: {reason}")
    pytest.skip(reason)


def _truncates_the_database(item) -> bool:
    """Transactional tests (live server, browser, real worker) end by emptying every table, the catalog that the
    migrations wrote included; a test that runs after one and reads the catalog would find it gone."""
    marker = item.get_closest_marker("django_db")
    transactional = bool(marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")))
    fixtures = getattr(item, "fixturenames", ())
    return transactional or "transactional_db" in fixtures or "live_server" in fixtures


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    # After pytest's own grouping by fixtures, which can move browser tests among the others: they run last.
    items.sort(key=_truncates_the_database)
    # In a parallel run (bin/run-tests: --dist loadgroup) the browser tests share one process, one after another:
    # two Chromiums and two live servers at once on a two-core machine make their timings those of a slow tablet.
    for item in items:
        if "/tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.xdist_group("browser"))


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if IN_CI and skipped:
        reporter.write_line(f"CI=true: {skipped} test(s) were skipped; that fails the run.", red=True)
        session.exitstatus = 1


@dataclass
class Cast:
    coordinator: object
    assigned_nurse: object
    unassigned_nurse: object
    patient_user: object
    other_patient_user: object
    patient: object
    other_patient: object

    def user(self, role: str):
        return None if role == "anonymous" else getattr(self, role)


ROLES = ["anonymous", "patient_user", "other_patient_user", "assigned_nurse", "unassigned_nurse", "coordinator"]


@pytest.fixture
def cast(db) -> Cast:
    # Fixed, distinctive names: a test that asserts a name is absent must not fail by coincidence.
    coordinator = factories.coordinator(username="coord", first_name="Carmen", last_name="Ortiz")
    assigned = factories.nurse(username="nurse-assigned", first_name="Nora", last_name="Fieldhouse")
    unassigned = factories.nurse(username="nurse-unassigned", first_name="Umar", last_name="Hadleigh")
    patient_user = factories.patient_user(username="patient-a", first_name="Marisol", last_name="Delacroix")
    other_user = factories.patient_user(username="patient-b", first_name="Thaddeus", last_name="Okonkwo")
    patient = factories.PatientFactory(user=patient_user, first_name="Marisol", last_name="Delacroix")
    other = factories.PatientFactory(user=other_user, first_name="Thaddeus", last_name="Okonkwo")
    factories.WeightFactory(patient=patient)
    factories.WeightFactory(patient=other)
    factories.on_care_team(patient, assigned)
    return Cast(coordinator, assigned, unassigned, patient_user, other_user, patient, other)


def second_factor(user):
    """The user's authenticator app (made, confirmed, if she has none): tests compute its codes."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True)


def totp_code(device) -> str:
    """A code the device accepts now: its current one, or the next one if the current was used (no replay)."""
    import time

    from django_otp.oath import TOTP

    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    ahead = device.last_t + 1 - totp.t()
    if ahead > device.tolerance:  # both the current and the next code were used: wait for a fresh one
        time.sleep((ahead - device.tolerance) * device.step - (totp.time - device.t0) % device.step + 0.1)
        totp.time = time.time()
        ahead = device.last_t + 1 - totp.t()
    if ahead > 0:
        totp.time += device.step * ahead
    return f"{totp.token():0{device.digits}d}"


def pass_second_step(client: Client, user, **extra):
    """After the password: the code from the staff member's authenticator app (none asked of other patients)."""
    from django.urls import reverse

    from infusion_site.mfa.selectors import has_second_factor, is_staff_account

    if is_staff_account(user) or has_second_factor(user):
        response = client.post(reverse("mfa:verify"), {"token": totp_code(second_factor(user))}, **extra)
        assert response.status_code == 302, response.content.decode()[:500]


def force_sign_in(client: Client, user) -> Client:
    """Sign ``user`` in on ``client`` (again, after the clock jumped); staff have passed the second step
    (infusion_site/mfa) with their authenticator app."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from infusion_site.mfa.selectors import is_staff_account

    client.force_login(user)
    if is_staff_account(user):
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = second_factor(user).persistent_id
        session.save()
    return client


def client_for(user, **client_options) -> Client:
    """A signed-in client (anonymous for None)."""
    client = Client(**client_options)
    return force_sign_in(client, user) if user is not None else client


@pytest.fixture
def coordinator_client(cast):
    return client_for(cast.coordinator)


@pytest.fixture
def nurse_client(cast):
    return client_for(cast.assigned_nurse)


@pytest.fixture
def patient_client(cast):
    return client_for(cast.patient_user)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
