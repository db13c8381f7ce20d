"""The portal as a patient reads it on a phone: who to call at the top of every page, the journal as cards,
follow-up questions that name the infusion they ask about, and a calendar address that is not lost in one tap."""

import datetime as dt
from html.parser import HTMLParser

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients.models import SymptomEntry
from tests import factories
from tests.conftest import client_for
from tests.visits.portal.scig_helpers import taught
from visits.models import CalendarFeed, FollowUp, Visit

# Friday 20 November 2026, 9:00 am in Chicago (the factories' patient time zone).
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
EMERGENCY = "Call 911 if you have trouble breathing, chest pain or swelling of a leg."


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


class _Element(HTMLParser):
    """The words inside the element with ``element_id``, and where in the page it starts."""

    VOID = {"br", "img", "input", "meta", "link", "hr", "source", "wbr"}

    def __init__(self, element_id):
        super().__init__()
        self.element_id, self.depth, self.words, self.start = element_id, 0, [], None

    def handle_starttag(self, tag, attrs):
        if self.depth:
            if tag not in self.VOID:
                self.depth += 1
        elif dict(attrs).get("id") == self.element_id and self.start is None:
            self.start = self.getpos()
            self.depth = 0 if tag in self.VOID else 1

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.words.append(data)


def element(response, element_id) -> _Element:
    found = _Element(element_id)
    found.feed(response.content.decode())
    return found


def text_of(response, element_id) -> str | None:
    found = element(response, element_id)
    return " ".join(" ".join(found.words).split()) if found.start else None


def visit_for(patient, *, at, order=None, **kwargs):
    order = order or factories.OrderFactory(patient=patient, product=factories.product("Octagam 10%"))
    return factories.VisitFactory(order=order, patient=patient, planned_start=at, **kwargs)


# --- Who to call, at the top of every page ---------------------------------------------------------------------


def follow_up_pk(cast):
    visit = visit_for(cast.patient, at=NOW - dt.timedelta(days=2, hours=4), status=Visit.Status.COMPLETED)
    return [FollowUp.objects.create(visit=visit, window=FollowUp.Window.EARLY, due_at=NOW - dt.timedelta(hours=1)).pk]


def upcoming_visit_pk(cast):
    return [visit_for(cast.patient, at=NOW + dt.timedelta(days=4)).pk]


def with_feed(cast):
    CalendarFeed.objects.create(patient=cast.patient)
    return []


def taught_scig(cast):
    taught(cast.patient, nurse=cast.assigned_nurse)
    return []


PORTAL_PAGES = {
    "portal:home": lambda cast: [],
    "portal:journal": lambda cast: [],
    "portal:journal_add": lambda cast: [],
    "portal:preferences": lambda cast: [],
    "portal:self_infusions": lambda cast: [],
    "portal:self_infusion_add": taught_scig,
    "portal:reschedule": upcoming_visit_pk,
    "portal:follow_up": follow_up_pk,
    "portal:calendar_renew": with_feed,
    "portal:calendar_revoke": with_feed,
}


@pytest.mark.parametrize("name", PORTAL_PAGES)
def test_every_portal_page_starts_with_the_agency_phone_and_when_to_call_911(cast, settings, name):
    response = client_for(cast.patient_user).get(reverse(name, args=PORTAL_PAGES[name](cast)))

    assert response.status_code == 200
    page = response.content.decode()
    phone = settings.AGENCY_PHONE
    assert f'href="tel:{phone.replace(" ", "")}"' in page
    assert text_of(response, "call-agency") == f"Call us: {phone}"
    assert text_of(response, "call-911") == EMERGENCY
    # Above the page's own heading, so it is on the first screen of a phone.
    assert page.index('id="main"') < page.index('id="portal-help"') < page.index("<h1")


# --- The journal on a narrow screen ----------------------------------------------------------------------------


def test_journal_shows_each_entry_as_a_card_on_phones_and_the_table_only_on_wider_screens(cast):
    entry = SymptomEntry.objects.create(
        patient=cast.patient,
        recorded_on=dt.date(2026, 11, 19),
        muscle_weakness=6,
        rash=2,
        fatigue=7,
        pain=3,
        note="Climbed the stairs twice without stopping.",
    )

    response = client_for(cast.patient_user).get(reverse("portal:journal"))
    page = response.content.decode()

    assert '<ul class="list-unstyled d-md-none mb-0" id="journal-cards">' in page
    assert f'data-entry-card="{entry.pk}"' in page[page.index('id="journal-cards"') :]
    assert text_of(response, "journal-cards") == (
        "Thu 19 Nov Change Muscle weakness 6 Rash 2 Tiredness 7 Pain 3 Climbed the stairs twice without stopping."
    )
    assert '<div class="table-responsive d-none d-md-block">' in page
    # Bootstrap's .text-break in a table cell lets the column shrink until words split ("Clim bed the stair s").
    table = page[page.index('<div class="table-responsive') :]
    assert "text-break" not in table[: table.index("</table>")]


# --- Follow-up questions name the infusion and follow the latest one --------------------------------------------


def home(cast):
    response = client_for(cast.patient_user).get(reverse("portal:home"))
    assert response.status_code == 200
    return response


def test_follow_up_card_names_the_day_and_product_of_the_infusion_it_asks_about(cast):
    follow_up = FollowUp.objects.get(pk=follow_up_pk(cast)[0])

    card = text_of(home(cast), f"follow-up-{follow_up.pk}")

    assert "about your Octagam 10% infusion on Wed 18 Nov" in card
    assert "48 hours after" not in card


def test_follow_up_about_an_infusion_three_weeks_old_gives_way_to_the_one_given_today(cast):
    order = factories.OrderFactory(patient=cast.patient, product=factories.product("Octagam 10%"))
    old = visit_for(cast.patient, order=order, at=NOW - dt.timedelta(days=21), status=Visit.Status.SIGNED)
    stale = FollowUp.objects.create(visit=old, window=FollowUp.Window.EARLY, due_at=NOW - dt.timedelta(hours=1))
    today = visit_for(cast.patient, order=order, at=NOW - dt.timedelta(hours=5), status=Visit.Status.COMPLETED)

    response = home(cast)

    assert text_of(response, f"follow-up-{stale.pk}") is None
    # Today's own questions come 48 hours after it; then the card names today's infusion.
    fresh = FollowUp.objects.create(visit=today, window=FollowUp.Window.EARLY, due_at=NOW)
    card = text_of(home(cast), f"follow-up-{fresh.pk}")
    assert "about your Octagam 10% infusion on Fri 20 Nov" in card
    assert text_of(home(cast), f"follow-up-{stale.pk}") is None


def test_two_open_follow_ups_show_only_the_one_about_the_latest_infusion(cast):
    order = factories.OrderFactory(patient=cast.patient, product=factories.product("Octagam 10%"))
    earlier = visit_for(cast.patient, order=order, at=NOW - dt.timedelta(days=11), status=Visit.Status.SIGNED)
    later = visit_for(cast.patient, order=order, at=NOW - dt.timedelta(days=2, hours=3), status=Visit.Status.SIGNED)
    day_ten = FollowUp.objects.create(visit=earlier, window=FollowUp.Window.LATE, due_at=NOW - dt.timedelta(days=1))
    two_days = FollowUp.objects.create(visit=later, window=FollowUp.Window.EARLY, due_at=NOW - dt.timedelta(hours=1))

    response = home(cast)

    assert text_of(response, f"follow-up-{day_ten.pk}") is None
    assert "about your Octagam 10% infusion on Wed 18 Nov" in text_of(response, f"follow-up-{two_days.pk}")


def test_a_follow_up_still_shows_when_a_planned_visit_of_today_is_not_given_yet(cast):
    follow_up = FollowUp.objects.get(pk=follow_up_pk(cast)[0])
    visit_for(cast.patient, at=NOW - dt.timedelta(hours=1), status=Visit.Status.SCHEDULED)

    assert text_of(home(cast), f"follow-up-{follow_up.pk}") is not None


def test_follow_up_page_names_the_product_and_day(cast):
    pk = follow_up_pk(cast)[0]

    response = client_for(cast.patient_user).get(reverse("portal:follow_up", args=[pk]))

    shown = text_of(response, "follow-up-infusion")
    assert shown == "These questions are about your Octagam 10% infusion on Wed 18 Nov."


def home_queries(cast):
    with CaptureQueriesContext(connection) as queries:
        response = home(cast)
    return len(queries), response.content.decode().count("data-follow-up-infusion")


def test_home_query_count_does_not_grow_with_open_follow_ups(cast):
    follow_up_pk(cast)
    small, small_cards = home_queries(cast)
    for days in range(2, 6):
        other = factories.OrderFactory(patient=cast.patient, product=factories.product("Octagam 10%"))
        visit = visit_for(cast.patient, order=other, at=NOW - dt.timedelta(days=2, hours=days), status="completed")
        FollowUp.objects.create(visit=visit, window=FollowUp.Window.EARLY, due_at=NOW - dt.timedelta(hours=1))

    large, large_cards = home_queries(cast)

    # Several orders, one therapy: only the latest infusion's questions are shown; the reads stay the same.
    assert (small_cards, large_cards) == (1, 1)
    assert large == small


# --- The calendar address: asked before it is replaced or turned off, and easy to copy ---------------------------


def feed_of(cast) -> CalendarFeed:
    return CalendarFeed.objects.get(patient=cast.patient)


def test_home_offers_the_address_read_only_with_a_copy_button_and_links_to_confirm(cast):
    CalendarFeed.objects.create(patient=cast.patient)

    page = home(cast).content.decode()

    assert 'id="feed-url" type="text" value="http://testserver/portal/calendar/' in page
    assert "readonly" in page[page.index('id="feed-url"') : page.index(">", page.index('id="feed-url"'))]
    assert 'data-copy-from="feed-url" data-copy-status="feed-url-copied" hidden>Copy</button>' in page
    assert 'id="feed-url-copied" class="fw-semibold" role="status"' in page
    assert "js/portal.js" in page
    assert f'href="{reverse("portal:calendar_renew")}">Get a new address</a>' in page
    assert f'href="{reverse("portal:calendar_revoke")}">Turn off the address</a>' in page


@pytest.mark.parametrize(
    ("name", "title", "button"),
    [
        ("portal:calendar_renew", "Get a new calendar address?", "Yes, get a new address"),
        ("portal:calendar_revoke", "Turn off your calendar address?", "Yes, turn it off"),
    ],
)
def test_changing_the_calendar_address_asks_first_and_changes_nothing(cast, name, title, button):
    feed = CalendarFeed.objects.create(patient=cast.patient)
    client = client_for(cast.patient_user)

    asked = client.get(reverse(name))
    # A form from a page opened before this change: nothing happens without the confirmation.
    unconfirmed = client.post(reverse(name))

    page = asked.content.decode()
    assert f'<h1 class="h2">{title}</h1>' in page
    assert '<input type="hidden" name="confirmed" value="yes">' in page
    assert f"{button}</button>" in page
    assert "No, keep my address" in page
    assert (unconfirmed.status_code, unconfirmed.url) == (302, reverse(name))
    assert (feed_of(cast).token, feed_of(cast).revoked) == (feed.token, False)


def test_confirmed_new_address_replaces_the_old_one(cast):
    feed = CalendarFeed.objects.create(patient=cast.patient)

    response = client_for(cast.patient_user).post(reverse("portal:calendar_renew"), {"confirmed": "yes"}, follow=True)

    assert "The old address no longer works." in response.content.decode()
    assert feed_of(cast).token != feed.token


def test_confirmed_turn_off_stops_the_address(cast):
    CalendarFeed.objects.create(patient=cast.patient)

    response = client_for(cast.patient_user).post(reverse("portal:calendar_revoke"), {"confirmed": "yes"}, follow=True)

    assert "Your calendar address is turned off." in response.content.decode()
    assert feed_of(cast).revoked


def test_first_address_is_made_without_asking_and_confirm_pages_without_an_address_go_home(cast):
    client = client_for(cast.patient_user)

    for name in ("portal:calendar_renew", "portal:calendar_revoke"):
        response = client.get(reverse(name))
        assert (response.status_code, response.url) == (302, reverse("portal:home") + "#calendar")
    assert client.post(reverse("portal:calendar_renew")).status_code == 302
    assert not feed_of(cast).revoked


def test_another_patients_confirmation_does_not_touch_this_patients_address(cast):
    feed = CalendarFeed.objects.create(patient=cast.patient)

    client_for(cast.other_patient_user).post(reverse("portal:calendar_renew"), {"confirmed": "yes"})
    client_for(cast.other_patient_user).post(reverse("portal:calendar_revoke"), {"confirmed": "yes"})

    assert (feed_of(cast).token, feed_of(cast).revoked) == (feed.token, False)
