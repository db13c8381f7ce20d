"""The queue hears of SCIG at home: a systemic reaction the patient logged, and a weekly dose not logged."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from tests.conftest import client_for
from tests.visits.portal.scig_helpers import scig_order, taught
from visits.alerts.scig_sources import scig_missed_doses, scig_systemic_reactions
from visits.models import SelfInfusion, TherapyOrder

# Friday 20 November 2026, 9:00 am in Chicago (the factories' patient time zone).
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def logged(patient, *, at, systemic="", recorded_at=None):
    order = TherapyOrder.objects.filter(patient=patient).first()
    return SelfInfusion.objects.create(
        patient=patient,
        order=order,
        infused_at=at,
        recorded_at=recorded_at or at,
        sites=[{"site": "abdomen_left", "volume_ml": "14.3"}, {"site": "thigh_left", "volume_ml": "14.3"}],
        volume_ml=Decimal("28.6"),
        local_reactions=["redness"],
        systemic_reaction=systemic,
    )


def test_a_logged_systemic_reaction_is_urgent_for_a_day_and_shown_for_a_week(cast):
    taught(cast.patient, nurse=cast.assigned_nurse)
    log = logged(cast.patient, at=NOW - dt.timedelta(hours=3), systemic="Fever and a headache since last night")
    logged(cast.patient, at=NOW - dt.timedelta(days=2))  # no systemic reaction: not an alert

    (alert,) = scig_systemic_reactions(now=NOW)
    assert alert.about == log and alert.severity.name == "URGENT"
    assert "Fever and a headache" in alert.detail and "Marisol Delacroix" in alert.title
    assert alert.url == reverse("patients:detail", args=[cast.patient.pk]) + "#self-infusions"
    assert scig_systemic_reactions(now=NOW + dt.timedelta(days=2))[0].severity.name == "SOON"
    assert scig_systemic_reactions(now=NOW + dt.timedelta(days=8)) == []


def test_missed_by_exactly_the_grace_is_not_yet_one_day_more_is(cast, settings):
    settings.SCIG_MISSED_DOSE_GRACE_DAYS = 1
    taught(cast.patient, nurse=cast.assigned_nurse, signed_ago=dt.timedelta(days=60))
    logged(cast.patient, at=NOW - dt.timedelta(days=8))  # due a day ago: late by exactly the grace
    assert scig_missed_doses(now=NOW) == []

    (alert,) = scig_missed_doses(now=NOW + dt.timedelta(days=1))
    assert alert.about == cast.patient
    assert "2 days ago" in alert.detail and "Last self-infusion" in alert.detail


def test_the_grace_is_a_setting(cast, settings):
    taught(cast.patient, nurse=cast.assigned_nurse, signed_ago=dt.timedelta(days=60))
    logged(cast.patient, at=NOW - dt.timedelta(days=10))
    settings.SCIG_MISSED_DOSE_GRACE_DAYS = 3
    assert scig_missed_doses(now=NOW) == []
    settings.SCIG_MISSED_DOSE_GRACE_DAYS = 2
    assert len(scig_missed_doses(now=NOW)) == 1


def test_the_first_dose_counts_from_the_teaching_sign_off(cast):
    taught(cast.patient, nurse=cast.assigned_nurse, signed_ago=dt.timedelta(days=8))
    assert scig_missed_doses(now=NOW) == []
    (alert,) = scig_missed_doses(now=NOW + dt.timedelta(days=1))
    assert "No self-infusion logged since the teaching sign-off" in alert.detail


def test_no_alert_without_sign_off_or_an_active_scig_order(cast):
    order = scig_order(cast.patient)
    logged(cast.patient, at=NOW - dt.timedelta(days=30))
    assert scig_missed_doses(now=NOW) == []  # never signed off
    taught(cast.patient, nurse=cast.assigned_nurse, order=order, signed_ago=dt.timedelta(days=40))
    assert len(scig_missed_doses(now=NOW)) == 1
    TherapyOrder.objects.filter(pk=order.pk).update(status=TherapyOrder.Status.ON_HOLD)
    assert scig_missed_doses(now=NOW) == []


def test_both_reach_the_coordinators_queue(cast):
    taught(cast.patient, nurse=cast.assigned_nurse, signed_ago=dt.timedelta(days=60))
    logged(cast.patient, at=NOW - dt.timedelta(days=9), systemic="Breathless", recorded_at=NOW - dt.timedelta(days=1))
    page = client_for(cast.coordinator).get(reverse("alerts:queue")).content.decode()
    assert "Weekly SCIG dose not logged: Marisol Delacroix" in page
    assert "Systemic reaction after a self-infusion: Marisol Delacroix" in page
