"""The second factor: staff pass it at every sign-in, enrol at their first; patients may opt in; the admin asks too;
the idle-logoff resume keeps it only in a browser that passed it."""

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from infusion_site.mfa import demo, services
from tests import factories
from tests.conftest import client_for, second_factor, totp_code

VERIFY = reverse("mfa:verify")
ENROL = reverse("mfa:enrol")


def password_only(user) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": user.username, "password": factories.PASSWORD})
    assert response.status_code == 302
    return client


def is_verified(client) -> bool:
    return DEVICE_ID_SESSION_KEY in client.session


def test_staff_with_an_app_are_asked_for_the_code_after_the_password(cast):
    second_factor(cast.coordinator)
    client = password_only(cast.coordinator)
    response = client.get(reverse("patients:list"))
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    page = client.get(response["Location"]).content.decode()
    assert "Enter the 6-digit code from your authenticator app" in page
    assert cast.patient.last_name not in page


def test_a_computed_code_verifies_and_returns_to_the_page_asked_for(cast):
    device = second_factor(cast.assigned_nurse)
    client = password_only(cast.assigned_nurse)
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    response = client.post(VERIFY, {"token": code, "next": reverse("visits:today")})
    assert response.status_code == 302 and response["Location"] == reverse("visits:today")
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get(reverse("visits:today")).status_code == 200


def test_a_wrong_code_is_refused_with_a_message_and_verifies_nothing(cast):
    device = second_factor(cast.assigned_nurse)
    client = password_only(cast.assigned_nurse)
    right = totp_code(device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = client.post(VERIFY, {"token": wrong})
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert not is_verified(client)
    assert client.post(VERIFY, {"token": "not a code"}).status_code == 400
    assert client.post(VERIFY, {"token": ""}).status_code == 400
    assert not is_verified(client)


def test_a_used_code_cannot_be_used_again(cast):
    device = second_factor(cast.assigned_nurse)
    code = totp_code(device)
    first = password_only(cast.assigned_nurse)
    assert first.post(VERIFY, {"token": code}).status_code == 302
    second = password_only(cast.assigned_nurse)
    assert second.post(VERIFY, {"token": code}).status_code == 400
    assert not is_verified(second)


def test_a_recovery_code_works_once(cast):
    second_factor(cast.coordinator)
    codes = services.recovery_codes_issue(user=cast.coordinator)
    assert len(set(codes)) == 10
    first = password_only(cast.coordinator)
    assert first.post(VERIFY, {"token": codes[3].upper()}).status_code == 302
    assert is_verified(first)
    again = password_only(cast.coordinator)
    response = again.post(VERIFY, {"token": codes[3]})
    assert response.status_code == 400 and "used already" in response.content.decode()
    assert not is_verified(again)
    assert StaticToken.objects.filter(device__user=cast.coordinator).count() == 9


def test_staff_without_a_factor_go_to_enrolment_and_see_no_patient_data(cast):
    client = password_only(cast.assigned_nurse)
    for url in (reverse("patients:list"), reverse("patients:detail", args=[cast.patient.pk]), reverse("home")):
        response = client.get(url, follow=True)
        assert response.redirect_chain[-1][0].startswith(ENROL)
        page = response.content.decode()
        assert cast.patient.last_name not in page and cast.patient.mrn not in page
    # Not even a form post gets through; an in-page request (or the chart's outbox) is refused as signed out, 401
    # with nothing swapped, so the outbox keeps its entry instead of taking an answer for a save.
    assert client.post(reverse("patients:care_team_add", args=[cast.patient.pk])).status_code == 302
    in_page = client.post(reverse("patients:care_team_add", args=[cast.patient.pk]), HTTP_HX_REQUEST="true")
    assert (in_page.status_code, in_page["X-Signed-Out"], in_page["HX-Reswap"]) == (401, "1", "none")
    assert cast.patient.last_name not in in_page.content.decode()
    assert client.get(VERIFY)["Location"] == ENROL


def test_enrolment_shows_an_inline_svg_qr_and_the_secret_then_ten_codes_once(cast):
    nurse = cast.assigned_nurse
    client = password_only(nurse)
    page = client.get(ENROL).content.decode()
    assert "<svg" in page and "data:image" not in page and "<img" not in page.split("<main", 1)[1]
    device = TOTPDevice.objects.get(user=nurse, confirmed=False)
    shown = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1)
    assert shown.replace(" ", "") == services.totp_secret(device).replace(" ", "")
    assert client.get(ENROL).content.decode().count(shown) == 1  # reloading keeps the same secret
    refused = client.post(ENROL, {"token": "000000" if totp_code(device) != "000000" else "111111"})
    assert refused.status_code == 400 and "That code is not right" in refused.content.decode()
    response = client.post(ENROL, {"token": totp_code(device), "next": reverse("visits:today")})
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa:recovery_codes"))
    device.refresh_from_db()
    assert device.confirmed and is_verified(client)
    codes_page = client.get(response["Location"]).content.decode()
    codes = re.findall(r"<li>([a-z2-7]{8,})</li>", codes_page)
    assert len(codes) == 10
    assert all(code not in client.get(reverse("mfa:recovery_codes")).content.decode() for code in codes)
    assert client.get(reverse("visits:today")).status_code == 200


def test_enrolment_is_closed_to_a_password_only_session_of_an_enrolled_account(cast):
    second_factor(cast.assigned_nurse)
    client = password_only(cast.assigned_nurse)
    assert client.get(ENROL)["Location"] == VERIFY
    assert client.post(ENROL, {"token": "123456"})["Location"] == VERIFY
    assert TOTPDevice.objects.filter(user=cast.assigned_nurse).count() == 1


def test_a_patient_is_not_forced_but_may_opt_in(cast):
    client = password_only(cast.patient_user)
    assert client.get(reverse("portal:home")).status_code == 200
    assert client.get(reverse("mfa:manage")).status_code == 200
    device = services.totp_device_start(user=cast.patient_user)
    assert client.get(ENROL).status_code == 200
    assert client.post(ENROL, {"token": totp_code(device)}).status_code == 302
    # Opted in: her next sign-in asks for the code.
    again = password_only(cast.patient_user)
    assert again.get(reverse("portal:home"))["Location"].startswith(VERIFY)


def test_the_admin_needs_verification_even_for_a_superuser(cast, admin_user):
    admin_user.set_password(factories.PASSWORD)
    admin_user.save()
    second_factor(admin_user)
    client = password_only(admin_user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert client_for(admin_user).get(reverse("admin:index")).status_code == 200


def test_staff_keep_one_factor_but_may_remove_another(cast):
    nurse = cast.assigned_nurse
    client = client_for(nurse)
    app = second_factor(nurse)
    url = reverse("mfa:factor_remove", args=["app", app.pk])
    response = client.post(url, follow=True)
    assert "keep at least one" in response.content.decode()
    assert TOTPDevice.objects.filter(pk=app.pk).exists()
    other = TOTPDevice.objects.create(user=nurse, name="Spare phone", confirmed=True)
    assert "Remove" in client.get(reverse("mfa:manage")).content.decode()
    client.post(reverse("mfa:factor_remove", args=["app", other.pk]))
    assert not TOTPDevice.objects.filter(pk=other.pk).exists()
    someone_elses = second_factor(cast.coordinator)
    assert client.post(reverse("mfa:factor_remove", args=["app", someone_elses.pk])).status_code == 404


def test_new_recovery_codes_replace_the_old(cast):
    client = client_for(cast.coordinator)
    old = services.recovery_codes_issue(user=cast.coordinator)
    page = client.post(reverse("mfa:recovery_codes")).content.decode()
    new = re.findall(r"<li>([a-z2-7]{8,})</li>", page)
    assert len(new) == 10 and not set(old) & set(new)
    assert not StaticToken.objects.filter(token__in=old).exists()


def resume(client, user):
    return client.post(reverse("resume_session"), {"username": user.username, "password": factories.PASSWORD})


def test_resume_restores_verification_in_a_browser_that_passed_the_second_step(cast):
    nurse = cast.assigned_nurse
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = password_only(nurse)
        assert client.post(VERIFY, {"token": totp_code(second_factor(nurse))}).status_code == 302
        assert client.cookies[services.REMEMBER_COOKIE]["httponly"]
        clock.shift(dt.timedelta(minutes=16))
        assert client.get(reverse("visits:today"))["Location"].startswith(reverse("login"))
        assert SESSION_KEY not in client.session
        answer = resume(client, nurse)
        assert answer.status_code == 200 and answer.json()["csrf"]
        assert is_verified(client)
        assert client.get(reverse("visits:today")).status_code == 200


def test_resume_without_a_remembered_browser_sends_her_to_the_sign_in_page(cast):
    nurse = cast.assigned_nurse
    second_factor(nurse)
    answer = resume(Client(), nurse)
    assert answer.status_code == 403 and "sign-in page" in answer.json()["error"]
    # Another nurse's remembered browser does not count for her.
    other = client_for(cast.unassigned_nurse)
    other.get(reverse("visits:today"))
    assert services.REMEMBER_COOKIE in other.cookies
    other.logout()
    refused = resume(other, nurse)
    assert refused.status_code == 403 and SESSION_KEY not in other.session


def test_the_remembered_browser_expires_with_the_session_lifetime(cast, settings):
    nurse = cast.assigned_nurse
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = client_for(nurse)
        client.get(reverse("visits:today"))
        clock.shift(dt.timedelta(seconds=settings.SESSION_ABSOLUTE_LIFETIME + 60))
        client.get(reverse("visits:today"))  # signed out: the session reached its limit
        assert resume(client, nurse).status_code == 403


def test_signing_out_forgets_the_browser(cast):
    client = client_for(cast.assigned_nurse)
    client.get(reverse("visits:today"))
    client.post(reverse("logout"))
    assert client.cookies[services.REMEMBER_COOKIE].value == ""
    assert resume(client, cast.assigned_nurse).status_code == 403


def test_a_patient_resumes_without_a_second_factor(cast):
    client = Client()
    assert resume(client, cast.patient_user).status_code == 200
    assert client.get(reverse("portal:home")).status_code == 200


def test_seed_demo_enrols_demo_staff_with_fixed_secrets_and_demo_code_prints_the_code(db, monkeypatch, capsys):
    monkeypatch.setenv("DEMO_MFA_SECRETS", "1")
    call_command("seed_demo")
    out = capsys.readouterr().out
    for username, secret in demo.DEMO_SECRETS.items():
        assert f"{username} {secret}" in out
        device = demo.demo_device(username)
        assert device.confirmed and device.bin_key.hex() == demo._hex_key(secret)
    call_command("demo_code", "nurse1")
    code = capsys.readouterr().out.strip()
    device = demo.demo_device("nurse1")
    assert re.fullmatch(r"\d{6}", code) and device.verify_token(code)


def test_seed_demo_refuses_fixed_secrets_when_debug_is_off(db, monkeypatch, capsys, settings):
    settings.DEBUG = False
    monkeypatch.delenv("DEMO_MFA_SECRETS", raising=False)
    call_command("seed_demo")
    assert "no fixed authenticator secrets" in capsys.readouterr().out
    assert not TOTPDevice.objects.exists()
    with pytest.raises(Exception, match="no demo authenticator"):
        call_command("demo_code", "nurse1")


def test_an_entry_sent_before_the_second_step_is_refused_unsaved_and_kept_on_the_tablet(cast):
    """Signed in again with the password only (another tab), the chart's outbox sends a waiting vital-sign set: the
    answer is the signed-out 401 the outbox keeps its entry for, never a 2xx it would drop the entry on."""
    from visits.models import ClientWrite, VitalSigns

    visit = factories.infusing_visit(nurse_user=cast.assigned_nurse, patient=cast.patient, rates=(42, 84))
    second_factor(cast.assigned_nurse)
    client = password_only(cast.assigned_nurse)

    response = client.post(
        reverse("visits:vitals_add", args=[visit.pk]),
        {"phase": "titration", "pulse": "73"},
        HTTP_HX_REQUEST="true",
        HTTP_X_CLIENT_WRITE_ID="5b0e1a52-3f7e-4c55-9d55-7d1f6f0c2a10",
    )

    assert (response.status_code, response["X-Signed-Out"]) == (401, "1")
    assert not VitalSigns.objects.filter(visit=visit).exists() and not ClientWrite.objects.exists()
    # The second-step page starts no outbox: it names no signed-in user for it to send as.
    assert "data-resume-user" not in client.get(VERIFY).content.decode()
