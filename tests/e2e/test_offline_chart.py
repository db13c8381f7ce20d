"""The chart with no connection, in real Chromium at tablet size, the network really cut (tests/e2e/network.py):
what the nurse records offline is kept on the tablet, shown as waiting, and arrives on the server once, with the
times she recorded it; a conflict is shown to her and resolved by her."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import sign_in
from tests.e2e.network import CuttableNetwork
from visits.chart.infusion.services import infusion_rate_change
from visits.models import ClientWrite, RateChange, Reaction, VisitVerification, VitalSigns

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def network(live_server):
    relay = CuttableNetwork(live_server.thread.host, live_server.thread.port)
    yield relay
    relay.cut()


def sign_in_and_keep_my_day(page, network, username="nurse-assigned"):
    sign_in(page, network.url, username, factories.PASSWORD)
    expect(page).to_have_url(f"{network.url}/visits/today/")
    ready = page.locator("[data-offline-ready]")
    expect(ready).to_have_attribute("data-kept", "1", timeout=20_000)
    expect(ready).to_contain_text("Ready offline")


def take_vitals(page, *, pulse):
    form = page.locator("#vitals-form")
    form.get_by_label("Phase").select_option(label="Titration")
    form.get_by_label("Temperature").fill("36.9")
    form.get_by_label("°C").check()
    form.get_by_label("Pulse").fill(pulse)
    form.get_by_label("Systolic").fill("121")
    form.get_by_label("Diastolic").fill("78")
    form.get_by_label("Respiratory rate").fill("16")
    form.get_by_label("SpO₂").fill("98")
    form.get_by_role("button", name="Save this set").click()


def waiting(page):
    return page.locator('[data-outbox-entry][data-outbox-state="waiting"]')


def test_a_visit_recorded_offline_arrives_once_with_the_times_she_recorded(page, network, cast):
    # Planned a little ahead, so that her check-in falls in its window at any hour (two hours before, to the end of
    # that local day): two hours back would be yesterday in the patient's zone just after midnight there.
    visit = factories.infusing_visit(
        nurse_user=cast.assigned_nurse,
        patient=cast.patient,
        rates=(42, 84),
        planned_start=timezone.now() + timedelta(minutes=30),
    )
    sign_in_and_keep_my_day(page, network)
    chart = f"{network.url}/visits/{visit.pk}/"

    network.cut()
    page.goto(chart)  # from the tablet, not the server
    banner = page.locator("#offline-banner")
    expect(banner).to_contain_text("Offline")
    expect(page.locator("h1")).to_contain_text(cast.patient.full_name)

    recorded_from = timezone.now().replace(microsecond=0)
    page.locator("#section-checkin").get_by_role("button", name="Check in").click()
    expect(waiting(page)).to_have_count(1)
    expect(page.locator("#section-checkin [data-outbox-entry]")).to_contain_text("Waiting to send")

    take_vitals(page, pulse="77")
    expect(waiting(page)).to_have_count(2)
    expect(page.locator("#vitals-form").get_by_label("Pulse")).to_have_value("")  # ready for the next set
    expect(page.locator("#vitals-due")).to_contain_text("Recorded · waiting to send")

    page.locator("#infusion-quick-actions").get_by_role("button", name=re.compile(r"^Raise to 126\.0 mL\/hr")).click()
    expect(waiting(page)).to_have_count(3)
    page.locator("#infusion-quick-actions").get_by_role("button", name=re.compile(r"^Raise to 126\.0 mL\/hr")).click()
    expect(waiting(page)).to_have_count(4)  # a second tap later is a second entry; the server refuses it as a repeat

    reactions = page.locator("#section-reactions")
    reactions.get_by_text("Flushing", exact=True).click()
    reactions.get_by_text(re.compile(r"^Grade 1:")).click()
    reactions.get_by_text("Continued", exact=True).click()
    reactions.get_by_label("Medications given").fill("None")
    reactions.get_by_label("Outcome").fill("Flushing settled in 10 min.")
    reactions.get_by_role("button", name="Record the reaction").click()
    expect(waiting(page)).to_have_count(5)
    expect(banner).to_contain_text("5 waiting to send")
    recorded_until = timezone.now()
    assert not VitalSigns.objects.filter(visit=visit).exists()

    # The tab is closed and opened again, still offline: everything is still there, waiting.
    context = page.context
    page.close()
    page = context.new_page()
    page.goto(chart)
    expect(waiting(page)).to_have_count(5)
    expect(page.locator("#offline-banner")).to_contain_text("5 waiting to send")

    page.wait_for_timeout(1500)  # the connection comes back a while after
    network.restore()
    page.locator("#offline-banner").get_by_role("button", name="Send now").click()
    # The repeated raise is refused (the rate is already 126): it stays, as "needs you", with the server's reason.
    needs = page.locator('[data-outbox-entry][data-outbox-state="needs"]')
    expect(needs).to_have_count(1, timeout=20_000)
    expect(waiting(page)).to_have_count(1)  # the reaction waits behind it, in order
    assert RateChange.objects.filter(visit=visit, rate_ml_per_hr=Decimal("126")).count() == 1
    needs.get_by_text("Discard…").click()
    needs.get_by_label("Why is it discarded?").fill("Tapped twice; raised once.")
    needs.get_by_role("button", name="Discard this entry").click()
    expect(page.locator("[data-outbox-entry]")).to_have_count(0, timeout=20_000)

    verification = VisitVerification.objects.get(visit=visit)
    vitals = VitalSigns.objects.get(visit=visit)
    raised = RateChange.objects.get(visit=visit, rate_ml_per_hr=Decimal("126"))
    reaction = Reaction.objects.get(visit=visit)
    for moment in (verification.checked_in_at, vitals.taken_at, raised.at):
        assert recorded_from - timedelta(seconds=1) <= moment <= recorded_until  # when she tapped, not when sent
    assert vitals.pulse == 77
    assert reaction.grade == 1
    writes = ClientWrite.objects.filter(visit=visit)
    assert writes.count() == 5
    assert sum(write.is_discarded for write in writes) == 1
    assert all(write.recorded_offline for write in writes if not write.is_discarded)

    page.reload()
    offline_list = page.locator("#offline-entries")
    expect(offline_list).to_contain_text("Vital-sign set recorded")
    expect(offline_list.locator(".badge", has_text="recorded offline")).to_have_count(4)
    expect(offline_list).to_contain_text("discarded on the tablet")
    expect(offline_list).to_contain_text("Tapped twice; raised once.")
    expect(page.locator("#vitals-table tbody tr")).to_have_count(1)


def test_an_entry_whose_section_another_tablet_changed_needs_her_until_she_resolves_it(page, network, cast):
    visit = factories.infusing_visit(nurse_user=cast.assigned_nurse, patient=cast.patient, rates=(42, 84))
    sign_in_and_keep_my_day(page, network)
    page.goto(f"{network.url}/visits/{visit.pk}/")

    network.cut()
    tapped = timezone.now().replace(microsecond=0)
    page.locator("#infusion-quick-actions").get_by_role("button", name=re.compile(r"^Raise to 126\.0 mL\/hr")).click()
    expect(waiting(page)).to_have_count(1)

    # Meanwhile her other tablet, online, records that the pump was paused and resumed at 84, just before her tap
    # (however long this machine takes between the two): the raise then comes after them, as on the ward.
    record = visit.infusion
    for seconds_before, kind in ((2, RateChange.Kind.PAUSE), (1, RateChange.Kind.RESUME)):
        record.refresh_from_db()
        infusion_rate_change(
            visit=visit,
            nurse=cast.assigned_nurse,
            kind=kind,
            rate_ml_per_hr=None,
            at=tapped - timedelta(seconds=seconds_before),
            expected_version=record.version,
        )

    network.restore()
    page.locator("#offline-banner").get_by_role("button", name="Send now").click()
    needs = page.locator('[data-outbox-entry][data-outbox-state="needs"]')
    expect(needs).to_have_count(1, timeout=20_000)
    expect(needs.locator("[data-outbox-message]")).to_contain_text("another")
    expect(page.locator("#offline-banner")).to_contain_text("needs you")
    assert not RateChange.objects.filter(visit=visit, rate_ml_per_hr=Decimal("126")).exists()

    # On the current chart the raise meets another rule: after the pause the plan's clock restarted.
    needs.get_by_role("button", name="Send again on the current chart").click()
    expect(needs.locator("[data-outbox-message]")).to_contain_text("give the reason to raise early", timeout=20_000)
    assert not RateChange.objects.filter(visit=visit, rate_ml_per_hr=Decimal("126")).exists()

    # She edits it: the entry goes back into the section's form, which now asks for the reason.
    needs.get_by_role("button", name="Edit it").click()
    expect(page.locator("[data-outbox-entry]")).to_have_count(0)
    reason = page.get_by_label("Reason to raise early")
    expect(reason).to_be_focused()
    reason.fill("Tolerated 84 mL/hr for an hour before the pause.")
    page.get_by_role("button", name="Raise early to 126.0 mL/hr").click()
    expect(page.locator("#infusion-state")).to_have_text("Running at 126.0 mL/hr")
    raised = RateChange.objects.get(visit=visit, rate_ml_per_hr=Decimal("126"))
    assert raised.early_reason == "Tolerated 84 mL/hr for an hour before the pause."


def kept_on_the_tablet(page) -> dict:
    """What this browser holds: pages kept by the service worker, and entries in the outbox, by nurse."""
    return page.evaluate(
        """async () => {
          const pages = (await caches.has("pages")) ? (await (await caches.open("pages")).keys()).length : 0;
          const entries = await new Promise((resolve, reject) => {
            const open = indexedDB.open("infusion-chart", 1);
            open.onupgradeneeded = () => open.result.createObjectStore("outbox", { keyPath: "id" });
            open.onsuccess = () => {
              const request = open.result.transaction("outbox").objectStore("outbox").getAll();
              request.onsuccess = () => resolve(request.result.map((entry) => entry.user));
              request.onerror = () => reject(request.error);
            };
          });
          return { pages, entries };
        }"""
    )


def test_entries_stay_hers_through_sign_out_and_another_nurse_and_kept_pages_go_at_sign_out(page, network, cast):
    from django.contrib.sessions.models import Session

    visit = factories.infusing_visit(nurse_user=cast.assigned_nurse, patient=cast.patient, rates=(42, 84))
    sign_in_and_keep_my_day(page, network)
    assert kept_on_the_tablet(page)["pages"] >= 3  # My day, the chart and its strip
    page.goto(f"{network.url}/visits/{visit.pk}/")
    # The strip loads itself just after the page: let it, or it meets the logoff first and asks her to sign in.
    expect(page.locator("#whats-next-text")).to_be_visible()

    Session.objects.all().delete()  # the idle logoff
    take_vitals(page, pulse="73")
    expect(page.locator("#resume-dialog")).to_be_visible()
    expect(waiting(page)).to_have_count(1)
    page.keyboard.press("Escape")  # she does not sign in again now

    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert "1 entry is still waiting to send" in asked[0]
    assert kept_on_the_tablet(page) == {"pages": 0, "entries": ["nurse-assigned"]}

    # Another nurse signs in on this tablet: the entry is not hers, so it is neither shown nor sent.
    sign_in_and_keep_my_day(page, network, username="nurse-unassigned")
    expect(page.locator("#offline-banner")).to_contain_text("1 kept for another user")
    expect(page.locator("#offline-banner").get_by_role("button", name="Send now")).to_be_hidden()
    page.wait_for_timeout(1000)
    assert not VitalSigns.objects.filter(visit=visit).exists()
    page.get_by_role("button", name="Sign out").click()  # nothing of hers waits: no question
    expect(page).to_have_url(re.compile(r"/accounts/login/"))

    # She signs in again: her entry is sent, once, under her name.
    sign_in_and_keep_my_day(page, network)
    expect(page.locator("#offline-banner")).to_be_hidden(timeout=20_000)
    vitals = VitalSigns.objects.get(visit=visit)
    assert (vitals.pulse, vitals.recorded_by) == (73, cast.assigned_nurse)
    assert kept_on_the_tablet(page)["entries"] == []


def test_kept_pages_expire_after_a_day_and_her_note_draft_outlives_the_tab(page, network, cast):
    visit = factories.infusing_visit(
        nurse_user=cast.assigned_nurse, patient=cast.patient, rates=(42, 84), ended_minutes_ago=40
    )
    sign_in_and_keep_my_day(page, network)
    chart = f"{network.url}/visits/{visit.pk}/"
    page.goto(chart)
    note = page.locator("#section-signoff").get_by_label("Nurse's note")
    note.fill("Tolerated well; no reaction.")

    context = page.context
    page.close()
    page = context.new_page()
    page.goto(chart)
    note = page.locator("#section-signoff").get_by_label("Nurse's note")
    expect(note).to_have_value("Tolerated well; no reaction.")
    expect(page.locator("[data-note-draft]")).to_contain_text("kept on this tablet")

    # The kept copy of the chart is made 25 hours old: offline, it is no longer shown.
    page.evaluate(
        """async (address) => {
          const cache = await caches.open("pages");
          const kept = await cache.match(address, { ignoreVary: true });
          const headers = new Headers(kept.headers);
          headers.set("X-Kept-At", String(Date.now() - 25 * 3600 * 1000));
          await cache.put(address, new Response(await kept.blob(), { status: 200, headers }));
        }""",
        chart,
    )
    network.cut()
    page.goto(chart)
    expect(page.locator("h1")).to_have_text("This page needs a connection")
    page.goto(f"{network.url}/visits/today/")  # My day, kept a moment ago, still opens
    expect(page.locator("h1")).to_contain_text("My day")
