"""Session expiry never loses what the nurse typed: an in-page save without a session is answered 401 with
nothing swapped, and the same user signs in again in place (accounts/resume/) and the save is sent again."""

import datetime as dt
from datetime import timedelta

import time_machine
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.conftest import pass_second_step
from visits.models import Visit, VitalSigns

SET = factories.VITALS_FORM


def signed_in(user):
    client = Client()
    assert client.post(reverse("login"), {"username": user.username, "password": factories.PASSWORD}).status_code == 302
    pass_second_step(client, user)  # staff's authenticator code: this browser then may resume (infusion_site/mfa)
    return client


def test_an_in_page_save_without_a_session_is_401_not_the_login_page(cast):
    visit = factories.VisitFactory(nurse=cast.assigned_nurse, patient=cast.patient, status=Visit.Status.CHECKED_IN)
    response = Client().post(reverse("visits:vitals_add", args=[visit.pk]), SET, HTTP_HX_REQUEST="true")
    assert (response.status_code, response["X-Signed-Out"]) == (401, "1")
    assert "Sign in" not in response.content.decode() and not VitalSigns.objects.exists()
    plain = Client().post(reverse("visits:vitals_add", args=[visit.pk]), SET)
    assert plain.status_code == 302 and plain["Location"].startswith(reverse("login"))


def test_after_the_idle_logoff_the_save_is_refused_then_sent_once_after_resuming(cast):
    nurse = cast.assigned_nurse
    with time_machine.travel(timezone.now(), tick=False) as clock:
        visit = factories.VisitFactory(
            nurse=nurse,
            patient=cast.patient,
            status=Visit.Status.CHECKED_IN,
            planned_start=timezone.now() - timedelta(minutes=30),
        )
        client = signed_in(nurse)
        clock.shift(dt.timedelta(minutes=16))
        url = reverse("visits:vitals_add", args=[visit.pk])
        refused = client.post(url, SET, HTTP_HX_REQUEST="true")
        assert refused.status_code == 401 and SESSION_KEY not in client.session
        wrong = client.post(reverse("resume_session"), {"username": nurse.username, "password": "not-it"})
        assert wrong.status_code == 400 and wrong.json()["error"].startswith("That is not your password")
        resumed = client.post(reverse("resume_session"), {"username": nurse.username, "password": factories.PASSWORD})
        assert resumed.status_code == 200 and resumed.json()["csrf"]
        assert client.post(url, SET, HTTP_HX_REQUEST="true").status_code == 200
    assert VitalSigns.objects.filter(visit=visit).count() == 1


def test_resuming_refuses_empty_nul_and_over_long_input_with_a_message(cast):
    for data in ({}, {"username": "nurse\x00", "password": "x"}, {"username": "x" * 5000, "password": "y" * 9000}):
        response = Client().post(reverse("resume_session"), data)
        assert response.status_code == 400 and response.json()["error"]
