"""The patient portal at tablet size: reminder choices, the questions after IVIG, and the symptom journal.

A "yes" in the follow-up questions is followed through to the coordinator: the notification sweep and its deliveries
run in the test body (as the beat and a worker would), then she finds it in her inbox and on the alert queue.
"""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from patients.models import SymptomEntry, patient_today
from tests import factories
from visits.models import (
    CalendarFeed,
    FollowUp,
    Notification,
    NotificationPreference,
    Reaction,
    VialUsed,
    Visit,
    VisitSignature,
)
from visits.notifications import due as reminders
from visits.notifications.services import notification_deliver, preference_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCORE_MESSAGE = "Please give a whole number from 0 (none) to 10 (worst)."


def sweep_and_deliver() -> None:
    """One beat of the notification sweep, then every delivery a worker would make."""
    reminders.create_due()
    for notification_id in Notification.objects.claimable(timezone.now()).values_list("pk", flat=True):
        notification_deliver(notification_id=notification_id)


def saved_preference(user):
    """What the database holds now (the defaults when there is no row), not what this test's user object cached."""
    return preference_for(get_user_model().objects.get(pk=user.pk))


def test_patient_chooses_texts_and_quiet_hours_then_sees_them_on_the_home_page(live_server, page, login, cast):
    login("patient-a", factories.PASSWORD)
    expect(page.get_by_role("heading", name="Hello, Marisol")).to_be_visible()
    card = page.locator("#reminders")
    expect(card).to_contain_text("By email, 2 days before and 1 day before; quiet from 9:00 pm to 8:00 am")
    card.get_by_role("link", name="Change my reminders").click()
    expect(page.get_by_role("heading", name="My reminders")).to_be_visible()
    expect(page.get_by_label("Email me")).to_be_checked()
    expect(page.get_by_label("Text me (SMS)")).not_to_be_checked()

    # A number too short to be a mobile: the message is next to the field and nothing is saved.
    page.get_by_label("Text me (SMS)").check()
    page.get_by_label("Mobile number for texts").fill("12")
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_role("alert")).to_have_text("Your choices are not saved yet. Please see the message below.")
    phone = page.locator("#div_id_phone")
    expect(phone).to_contain_text("Enter a mobile number with its area code, e.g. 555 201 3344.")
    expect(phone.get_by_label("Mobile number for texts")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(phone.get_by_label("Mobile number for texts")).to_be_in_viewport()
    expect(page.get_by_label("Text me (SMS)")).to_be_checked()
    expect(page.get_by_label("Mobile number for texts")).to_have_value("12")
    saved = saved_preference(cast.patient_user)
    assert (saved.by_sms, saved.phone, saved.reminder_hours) == (False, "", [48, 24])

    # Quiet hours left without an end: that message is below the fold at 1024×768, the one at the top is not.
    page.get_by_label("Mobile number for texts").fill("555 201 3344")
    page.get_by_label("3 days before").check()
    expect(page.get_by_label("2 days before")).to_be_checked()
    expect(page.get_by_label("1 day before")).to_be_checked()
    expect(page.get_by_label("Keep quiet hours")).to_be_checked()
    page.get_by_label("Quiet from").fill("22:00")
    page.get_by_label("Quiet until").fill("")
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_role("alert")).to_be_in_viewport()
    expect(page.locator("#div_id_quiet_end")).to_contain_text("Give a time, or untick quiet hours.")
    assert saved_preference(cast.patient_user).by_sms is False

    expect(page.get_by_label("3 days before")).to_be_checked()
    page.get_by_label("Quiet until").fill("07:00")
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_role("status")).to_have_text("Your notification choices are saved.")

    saved = saved_preference(cast.patient_user)
    assert saved.by_email and saved.by_sms
    assert saved.phone == "5552013344"
    assert sorted(saved.reminder_hours) == [24, 48, 72]
    assert (saved.quiet_start.isoformat(), saved.quiet_end.isoformat()) == ("22:00:00", "07:00:00")
    # The page shows what was saved.
    expect(page.get_by_label("Text me (SMS)")).to_be_checked()
    expect(page.get_by_label("Mobile number for texts")).to_have_value("5552013344")
    expect(page.get_by_label("3 days before")).to_be_checked()
    expect(page.get_by_label("Quiet from")).to_have_value("22:00")
    expect(page.get_by_label("Quiet until")).to_have_value("07:00")

    page.get_by_role("link", name="Back to my care").click()
    expect(page.locator("#reminders")).to_contain_text(
        "By email and text, 3 days before and 2 days before and 1 day before; "
        "quiet from 10:00 pm to 7:00 am (America/Chicago)."
    )


def test_patient_reports_dark_urine_after_ivig_and_the_coordinator_is_notified(
    live_server, page, login, cast, mailoutbox
):
    octagam = factories.product("Octagam 10%")
    patient, nurse = cast.patient, cast.assigned_nurse
    now = timezone.now()
    # The last day of cycle 1, signed; it ended 49 hours ago, so the 48-hour questions fell due an hour ago.
    visit = factories.VisitFactory(
        order=factories.OrderFactory(patient=patient, product=octagam),
        nurse=nurse,
        cycle_number=1,
        day_number=1,
        status=Visit.Status.SIGNED,
        planned_start=now - timedelta(hours=49, minutes=240),
    )
    VisitSignature.objects.create(visit=visit, note="Cycle 1 given without reaction.", signed_by=nurse)
    VialUsed.objects.create(
        visit=visit,
        product=octagam,
        lot_number="OCT20-4471",
        expires_on=timezone.localdate() + timedelta(days=300),
        size_mg=20000,
        recorded_by=nurse,
    )

    # Marisol keeps no quiet hours, so the invitation goes out whatever the hour the test runs.
    NotificationPreference.objects.create(user=cast.patient_user, quiet_start=None, quiet_end=None)

    sweep_and_deliver()
    follow_up = FollowUp.objects.get(visit=visit, window=FollowUp.Window.EARLY)
    invitation = next(message for message in mailoutbox if message.to == [cast.patient_user.email])
    assert f"/portal/follow-ups/{follow_up.pk}/" in invitation.body

    login("patient-a", factories.PASSWORD)
    card = page.locator(f"#follow-up-{follow_up.pk}")
    expect(card.get_by_role("heading", name="How are you feeling since your infusion?")).to_be_visible()
    card.get_by_role("link", name="Answer the questions").click()
    expect(page.get_by_role("heading", name=re.compile(r"^How are you feeling since your infusion on"))).to_be_visible()
    for question in (
        "A bad headache, a stiff neck",
        "Passing much less urine than usual",
        "Swelling or pain in one leg",
        "Anything else new since the infusion",
    ):
        page.get_by_role("group", name=question).get_by_label("No", exact=True).check()
    page.get_by_role("group", name="Dark urine").get_by_label("Yes", exact=True).check()
    yesterday = patient_today(patient) - timedelta(days=1)
    page.get_by_label("If yes: on what day did it start?").fill(yesterday.isoformat())
    page.get_by_label("Anything you want to tell us").fill("Tea-coloured since yesterday morning.")
    page.get_by_role("button", name="Send my answers").click()

    expect(page.get_by_role("status")).to_have_text("Thank you. A nurse will call you today about what you told us.")
    expect(page.locator(f"#follow-up-{follow_up.pk}")).to_have_count(0)
    follow_up.refresh_from_db()
    assert follow_up.answered_at is not None and follow_up.positive
    assert follow_up.answers == {
        "meningitis": False,
        "kidneys": False,
        "clot": False,
        "haemolysis": True,
        "other": False,
    }
    reaction = Reaction.objects.get(visit=visit)
    assert reaction.is_delayed and follow_up.reaction == reaction
    assert reaction.other_symptom == "dark urine (haemolysis?)"
    assert "Tea-coloured since yesterday morning." in reaction.outcome
    assert timezone.localtime(reaction.onset_at, patient.zone).date() == yesterday

    # The beat and a worker, as they would run within the minute.
    sweep_and_deliver()
    notice = Notification.objects.get(
        recipient=cast.coordinator, kind=Notification.Kind.DELAYED_REACTION, channel=Notification.Channel.IN_APP
    )
    assert notice.sent_at is not None and notice.read_at is None
    email = next(message for message in mailoutbox if message.to == [cast.coordinator.email])
    assert "Delacroix" not in email.body and "/alerts/" in email.body

    page.get_by_role("button", name="Sign out").click()
    login("coord", factories.PASSWORD)
    expect(page.locator("#unread-count")).to_have_text("1 unread")
    page.get_by_role("link", name=re.compile(r"^Notifications")).click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    item = page.locator(f"#notification-{notice.pk}")
    expect(item).to_contain_text("New")
    expect(item).to_contain_text("Delayed reaction reported: Marisol Delacroix")
    expect(item).to_contain_text("dark urine (haemolysis?)")
    item.get_by_role("button", name="Open").click()

    expect(page).to_have_url(f"{live_server.url}/visits/{visit.pk}/print/")
    expect(page.get_by_role("heading", name="Infusion visit record")).to_be_visible()
    reactions = page.locator("#record-reactions")
    expect(reactions).to_contain_text("delayed, reported after the visit")
    expect(reactions).to_contain_text("dark urine (haemolysis?)")
    # Graded later by a clinician: the record says so rather than printing "None".
    expect(reactions).to_contain_text("not graded yet")
    expect(reactions).not_to_contain_text("None")
    notice.refresh_from_db()
    assert notice.read_at is not None
    expect(page.locator("#unread-count")).to_have_count(0)

    page.get_by_role("link", name="Alerts", exact=True).click()
    queue = page.locator("#delayed_reaction")
    expect(queue.get_by_role("heading", name=re.compile("Delayed reactions reported after IVIG"))).to_be_visible()
    alert = queue.locator(f"#delayed_reaction-{reaction.pk}")
    expect(alert).to_contain_text("Delayed reaction reported: Marisol Delacroix")
    expect(alert).to_contain_text("Lots: OCT20-4471")
    expect(alert.get_by_role("link", name="Open the visit record")).to_have_attribute(
        "href", f"/visits/{visit.pk}/print/"
    )


def test_patient_keeps_a_symptom_journal_and_sees_it_charted(live_server, page, login, cast):
    patient = cast.patient
    today = patient_today(patient)
    # One earlier day, so today's entry makes a trend to chart.
    SymptomEntry.objects.create(
        patient=patient, recorded_on=today - timedelta(days=2), muscle_weakness=5, rash=3, fatigue=6, pain=4
    )

    login("patient-a", factories.PASSWORD)
    page.locator("#journal").get_by_role("link", name="Open my journal").click()
    expect(page.get_by_role("heading", name="My symptom journal")).to_be_visible()
    expect(page.locator("#journal-chart")).to_contain_text("Your chart appears here once you have entries")
    page.get_by_role("link", name="Add today's entry").click()
    expect(page.get_by_role("heading", name="How are you today?")).to_be_visible()
    expect(page.get_by_label("Day")).to_have_value(today.isoformat())

    page.get_by_label("Muscle weakness").fill("4")
    page.get_by_label("Rash").fill("2")
    page.get_by_label("Tiredness (fatigue)").fill("5")
    page.get_by_label("Pain").fill("11")
    page.get_by_label("Anything else you want your care team to know?").fill("Stairs were hard after lunch.")
    page.get_by_role("button", name="Save my entry").click()
    pain = page.locator("#div_id_pain")
    expect(pain).to_contain_text(SCORE_MESSAGE)
    expect(pain.get_by_label("Pain")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.get_by_role("alert")).to_contain_text("Your journal entry is not saved yet.")
    expect(page.get_by_label("Muscle weakness")).to_have_value("4")
    assert not SymptomEntry.objects.filter(patient=patient, recorded_on=today).exists()

    page.get_by_label("Pain").fill("3")
    page.get_by_role("button", name="Save my entry").click()
    expect(page.get_by_role("status")).to_contain_text("is saved.")
    entry = SymptomEntry.objects.get(patient=patient, recorded_on=today)
    assert (entry.muscle_weakness, entry.rash, entry.fatigue, entry.pain) == (4, 2, 5, 3)
    assert entry.note == "Stairs were hard after lunch."
    row = page.locator(f"tr[data-entry='{entry.pk}']")
    expect(row.locator("td")).to_have_text(["4", "2", "5", "3", "Stairs were hard after lunch.", "Change"])
    expect(page.locator("#journal-entries tbody tr").first).to_have_attribute("data-entry", str(entry.pk))

    row.get_by_role("link", name=re.compile(r"^Change the entry for")).click()
    expect(page.get_by_role("heading", name="Change my journal entry")).to_be_visible()
    expect(page.get_by_label("Pain")).to_have_value("3")
    page.get_by_label("Pain").fill("7")
    page.get_by_role("button", name="Save my entry").click()
    expect(page.get_by_role("status")).to_contain_text("is saved.")
    expect(page.locator(f"tr[data-entry='{entry.pk}'] td").nth(3)).to_have_text("7")
    entry.refresh_from_db()
    assert entry.pain == 7 and entry.muscle_weakness == 4
    assert SymptomEntry.objects.filter(patient=patient).count() == 2

    canvas = page.locator("#journal-chart canvas")
    expect(canvas).to_be_visible()
    expect(canvas).to_have_attribute("data-drawn", "1")
    box = canvas.bounding_box()
    assert box["width"] > 600 and box["height"] > 250
    expect(page.get_by_role("link", name="Change today's entry")).to_be_visible()


# --- On a phone (390×844) ------------------------------------------------------------------------------------------

PHONE = {"width": 390, "height": 844}


def assert_no_sideways_scroll(page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{page.url} scrolls sideways: {widths[0]} px wide in {widths[1]} px"


def assert_help_on_first_screen(page, phone) -> None:
    call = page.locator("#call-agency")
    expect(call).to_have_text(f"Call us: {phone}")
    expect(call).to_have_attribute("href", "tel:" + phone.replace(" ", ""))
    expect(call).to_be_in_viewport(ratio=1)
    expect(page.locator("#call-911")).to_have_text(
        "Call 911 if you have trouble breathing, chest pain or swelling of a leg."
    )
    expect(page.locator("#call-911")).to_be_in_viewport(ratio=1)


@pytest.mark.browser_context_args(viewport=PHONE, is_mobile=True, has_touch=True)
def test_patient_on_a_phone_sees_who_to_call_and_writes_a_journal_entry_shown_as_a_card(
    live_server, page, login, cast, settings
):
    patient = cast.patient
    today = patient_today(patient)
    login("patient-a", factories.PASSWORD)
    expect(page.get_by_role("heading", name="Hello, Marisol")).to_be_visible()
    assert page.evaluate("window.scrollY") == 0
    assert_help_on_first_screen(page, settings.AGENCY_PHONE)
    assert_no_sideways_scroll(page)

    page.locator("#journal").get_by_role("link", name="Open my journal").click()
    expect(page.get_by_role("heading", name="My symptom journal")).to_be_visible()
    assert_help_on_first_screen(page, settings.AGENCY_PHONE)
    page.get_by_role("link", name="Add today's entry").click()
    expect(page.get_by_role("heading", name="How are you today?")).to_be_visible()
    assert_no_sideways_scroll(page)
    page.get_by_label("Muscle weakness").fill("6")
    page.get_by_label("Rash").fill("2")
    page.get_by_label("Tiredness (fatigue)").fill("7")
    page.get_by_label("Pain").fill("3")
    # A pasted web address: one long word that must wrap inside the card rather than widen the page.
    note = "Climbed the stairs twice without stopping. Read https://example.org/dermatomyositis-exercise-guide-2026"
    page.get_by_label("Anything else you want your care team to know?").fill(note)
    page.get_by_role("button", name="Save my entry").click()

    expect(page.get_by_role("status")).to_contain_text("is saved.")
    entry = SymptomEntry.objects.get(patient=patient, recorded_on=today)
    card = page.locator(f"[data-entry-card='{entry.pk}']")
    expect(card).to_be_visible()
    expect(card.locator("dd")).to_have_text(["6", "2", "7", "3"])
    expect(card.locator("[data-note]")).to_have_text(note)
    expect(card.get_by_role("link", name=re.compile(r"^Change the entry for"))).to_be_visible()
    # No three-column table on a phone: the entries are cards only.
    expect(page.locator("#journal-entries table")).to_be_hidden()
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # "Climbed" stays one word: its first and last letters sit on the same line.
    same_line = page.evaluate(
        """(element) => {
            const text = element.firstChild, at = text.textContent.indexOf("Climbed");
            const first = document.createRange(), last = document.createRange();
            first.setStart(text, at); first.setEnd(text, at + 1);
            last.setStart(text, at + 6); last.setEnd(text, at + 7);
            return first.getBoundingClientRect().top === last.getBoundingClientRect().top;
        }""",
        card.locator("[data-note]").element_handle(),
    )
    assert same_line
    assert_no_sideways_scroll(page)
    page.evaluate("window.scrollTo(0, 0)")
    assert_help_on_first_screen(page, settings.AGENCY_PHONE)


@pytest.mark.browser_context_args(viewport=PHONE, is_mobile=True, has_touch=True)
def test_patient_copies_the_calendar_address_and_is_asked_before_getting_a_new_one(
    live_server, page, login, cast, context
):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    login("patient-a", factories.PASSWORD)
    calendar = page.locator("#calendar")
    calendar.get_by_role("button", name="Create my calendar address").click()
    message = page.locator("main > div.alert")
    expect(message).to_have_text("Your calendar address is ready. Add it to your calendar app.")
    old = CalendarFeed.objects.get(patient=cast.patient)
    address = page.get_by_label("My private calendar address")
    expect(address).to_have_value(re.compile(rf"/portal/calendar/{old.token}\.ics$"))
    expect(address).to_have_attribute("readonly", "")

    calendar.get_by_role("button", name="Copy").click()
    expect(page.locator("#feed-url-copied")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == address.input_value()

    # Keyboard only: the link to the confirmation, then "No" keeps the address.
    calendar.get_by_role("link", name="Get a new address").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Get a new calendar address?")).to_be_visible()
    assert_no_sideways_scroll(page)
    page.get_by_role("link", name="No, keep my address").click()
    expect(page.get_by_label("My private calendar address")).to_have_value(re.compile(rf"{old.token}\.ics$"))
    assert CalendarFeed.objects.get(patient=cast.patient).token == old.token

    page.locator("#calendar").get_by_role("link", name="Get a new address").click()
    page.get_by_role("button", name="Yes, get a new address").focus()
    page.keyboard.press("Enter")
    expect(message).to_have_text("Your calendar has a new address. The old address no longer works.")
    new = CalendarFeed.objects.get(patient=cast.patient)
    assert new.token != old.token
    expect(page.get_by_label("My private calendar address")).to_have_value(re.compile(rf"{new.token}\.ics$"))
