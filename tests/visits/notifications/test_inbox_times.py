"""The inbox gives every time in the reader's own zone, on the app's 24-hour clock, whoever sent it from where."""

import datetime as dt
import re

from django.urls import reverse

from tests.conftest import client_for
from visits.models import Notification, NurseProfile

SENT = dt.datetime(2026, 11, 20, 20, 8, tzinfo=dt.UTC)  # 3:08 pm in New York, 1:08 pm in Denver


def sent_in_app(recipient, *, key="inbox-time", at=SENT):
    return Notification.objects.create(
        recipient=recipient,
        channel="in_app",
        kind="chart_unsigned",
        key=key,
        subject="A visit chart is waiting for your signature",
        body="Not signed yet.",
        url=reverse("visits:today"),
        due_at=at,
        next_attempt_at=at,
        sent_at=at,
    )


def shown_time(user, notification) -> str:
    page = client_for(user).get(reverse("notifications:inbox")).content.decode()
    item = page[page.index(f'id="notification-{notification.pk}"') :]
    return re.search(r"<time datetime=\"[^\"]+\">([^<]+)</time>", item).group(1)


def test_nurse_sees_notification_times_in_her_profile_zone_on_a_24_hour_clock(cast):
    NurseProfile.objects.create(nurse=cast.assigned_nurse, time_zone="America/Denver")
    notification = sent_in_app(cast.assigned_nurse)

    assert shown_time(cast.assigned_nurse, notification) == "Fri 20 Nov, 13:08 MST"


def test_coordinator_without_a_profile_sees_the_agencys_zone(cast, settings):
    settings.TIME_ZONE = "America/New_York"
    notification = sent_in_app(cast.coordinator)

    assert shown_time(cast.coordinator, notification) == "Fri 20 Nov, 15:08 EST"


def test_every_time_in_one_inbox_has_the_same_zone_and_clock(cast):
    NurseProfile.objects.create(nurse=cast.assigned_nurse, time_zone="America/Chicago")
    summer = sent_in_app(cast.assigned_nurse, key="summer", at=dt.datetime(2026, 7, 1, 4, 30, tzinfo=dt.UTC))
    winter = sent_in_app(cast.assigned_nurse, key="winter")

    assert shown_time(cast.assigned_nurse, summer) == "Tue 30 Jun, 23:30 CDT"
    assert shown_time(cast.assigned_nurse, winter) == "Fri 20 Nov, 14:08 CST"
