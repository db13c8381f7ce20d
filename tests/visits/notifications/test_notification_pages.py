"""The notification pages: reminder choices, follow-up questions after IVIG, the coordinator's actions, the inbox."""

import datetime as dt
from html.parser import HTMLParser

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from tests.conftest import client_for
from visits.models import FollowUp, Notification, NotificationPreference, Reaction, VialUsed, Visit
from visits.notifications.followups import questions_for
from visits.notifications.services import preference_for

# Friday 20 November 2026, 9:00 am in Chicago (the factories' patient time zone).
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
# Tuesday 17 November 2026, 9:00 am in Chicago: the last day of an IVIG cycle.
INFUSION = NOW - dt.timedelta(days=3)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def published(monkeypatch):
    """(task name, args) of every task published, in order; the broker is not needed to see what was sent."""
    sent = []

    def record(task, *args, **kwargs):
        sent.append((task.name, args))
        return True

    monkeypatch.setattr("infusion_site.queueing.publish", record)
    monkeypatch.setattr("visits.notifications.services.publish", record)
    return sent


# --- Reading the page ----------------------------------------------------------------------------

VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Page(HTMLParser):
    def __init__(self, element_id=None):
        super().__init__()
        self.element_id = element_id
        self.inputs = []
        self.other_fields = []
        self.depth = 0
        self.found = False
        self.text = []
        self.repeated_attributes = []

    def handle_starttag(self, tag, attrs):
        names = [name for name, _ in attrs]
        self.repeated_attributes += [f"{tag} {name}" for name in sorted(set(names)) if names.count(name) > 1]
        attrs = dict(attrs)
        if tag == "input":
            self.inputs.append(attrs)
        elif tag in ("textarea", "select"):
            self.other_fields.append(attrs)
        if self.depth:
            self.depth += tag not in VOID_ELEMENTS
        elif self.element_id and attrs.get("id") == self.element_id:
            self.found = True
            self.depth = tag not in VOID_ELEMENTS

    def handle_endtag(self, tag):
        if self.depth and tag not in VOID_ELEMENTS:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.text.append(data)


def parsed(response, element_id=None) -> _Page:
    page = _Page(element_id)
    page.feed(response.content.decode())
    return page


def text_of(response, element_id) -> str | None:
    """The words inside the element with this id (None if there is none); crispy puts a field's errors in
    ``id_<field>_error``, right below the field."""
    page = parsed(response, element_id)
    return " ".join("".join(page.text).split()) if page.found else None


def ticked(response) -> set[str]:
    """``name`` of each ticked box, ``name=value`` where boxes share a name."""
    return {
        f"{attrs['name']}={attrs['value']}" if "value" in attrs else attrs["name"]
        for attrs in parsed(response).inputs
        if "checked" in attrs
    }


def field_names(response) -> set[str]:
    page = parsed(response)
    return {attrs["name"] for attrs in page.inputs + page.other_fields if "name" in attrs}


def value_of(response, name) -> str | None:
    return next((attrs.get("value") for attrs in parsed(response).inputs if attrs.get("name") == name), None)


def messages_on(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- The patient's reminder choices -------------------------------------------------------------

PORTAL_PREFERENCES = reverse("portal:preferences")


def patient_choices(**changes):
    """What the browser sends for the defaults; ``name=None`` leaves a box unticked."""
    data = {
        "by_email": "on",
        "phone": "",
        "reminder_hours": ["48", "24"],
        "quiet": "on",
        "quiet_start": "21:00",
        "quiet_end": "08:00",
    }
    return {name: value for name, value in (data | changes).items() if value is not None}


def saved_choices(user) -> dict:
    # A fresh user: the one in hand caches its preference row from when the test created it.
    preference = preference_for(type(user).objects.get(pk=user.pk))
    return {
        name: getattr(preference, name)
        for name in ("by_email", "by_sms", "in_app", "phone", "reminder_hours", "quiet_start", "quiet_end")
    }


def test_patient_sees_the_default_reminders_email_48_and_24_hours_before_quiet_from_9_pm_to_8_am(cast):
    response = client_for(cast.patient_user).get(PORTAL_PREFERENCES)

    assert response.status_code == 200
    assert ticked(response) == {"by_email", "reminder_hours=48", "reminder_hours=24", "quiet"}
    assert (value_of(response, "quiet_start"), value_of(response, "quiet_end")) == ("21:00", "08:00")
    assert "Your time (America/Chicago)." in response.content.decode()


def test_portal_home_sums_up_the_default_reminders(cast):
    response = client_for(cast.patient_user).get(reverse("portal:home"))

    assert text_of(response, "reminders") == (
        "My reminders By email, 2 days before and 1 day before; quiet from 9:00 pm to 8:00 am (America/Chicago). "
        "Change my reminders"
    )


def test_patient_saves_texts_lead_times_and_quiet_hours_and_the_portal_home_says_so(cast):
    client = client_for(cast.patient_user)

    response = client.post(
        PORTAL_PREFERENCES,
        patient_choices(
            by_email=None,
            by_sms="on",
            phone="(217) 555-0101",
            reminder_hours=["72", "3"],
            quiet_start="22:00",
            quiet_end="07:30",
        ),
        follow=True,
    )

    assert response.redirect_chain == [(PORTAL_PREFERENCES, 302)]
    assert messages_on(response) == ["Your notification choices are saved."]
    assert saved_choices(cast.patient_user) == {
        "by_email": False,
        "by_sms": True,
        "in_app": True,
        "phone": "2175550101",
        "reminder_hours": [72, 3],
        "quiet_start": dt.time(22, 0),
        "quiet_end": dt.time(7, 30),
    }
    assert ticked(response) == {"by_sms", "reminder_hours=72", "reminder_hours=3", "quiet"}
    home = client.get(reverse("portal:home"))
    assert "By text, 3 days before and 3 hours before; quiet from 10:00 pm to 7:30 am (America/Chicago)." in (
        text_of(home, "reminders")
    )


def test_texts_may_go_to_the_phone_on_file_when_no_number_is_given(cast):
    cast.patient.phone = "217 555 0101"
    cast.patient.save()

    response = client_for(cast.patient_user).post(PORTAL_PREFERENCES, patient_choices(by_sms="on", phone=""))

    assert response.status_code == 302
    assert saved_choices(cast.patient_user)["by_sms"] is True
    assert saved_choices(cast.patient_user)["phone"] == ""


def test_turning_quiet_hours_off_stores_no_times_and_the_box_stays_unticked(cast):
    client = client_for(cast.patient_user)

    client.post(PORTAL_PREFERENCES, patient_choices(quiet=None))

    choices = saved_choices(cast.patient_user)
    assert (choices["quiet_start"], choices["quiet_end"]) == (None, None)
    page = client.get(PORTAL_PREFERENCES)
    assert "quiet" not in ticked(page)
    assert "quiet from" not in text_of(client.get(reverse("portal:home")), "reminders")


def test_unticking_every_way_turns_reminders_off_on_the_portal_home(cast):
    client = client_for(cast.patient_user)

    client.post(PORTAL_PREFERENCES, patient_choices(by_email=None))

    assert "You have turned reminders off." in text_of(client.get(reverse("portal:home")), "reminders")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"by_sms": "on", "phone": "12"}, "phone", "Enter a mobile number with its area code, e.g. 555 201 3344."),
        ({"by_sms": "on", "phone": ""}, "phone", "Give a mobile number for texts, or untick “Text me (SMS)”."),
        (
            {"quiet_start": "20:00", "quiet_end": "20:00"},
            "quiet_end",
            "Quiet hours must end at a different time than they start.",
        ),
        ({"quiet_start": ""}, "quiet_start", "Give a time, or untick quiet hours."),
        ({"quiet_end": ""}, "quiet_end", "Give a time, or untick quiet hours."),
        ({"quiet_start": "9 pm"}, "quiet_start", "Enter a valid time."),
        (
            {"reminder_hours": ["48", "5"]},
            "reminder_hours",
            "Select a valid choice. 5 is not one of the available choices.",
        ),
    ],
    ids=[
        "phone-too-short",
        "texts-without-any-phone",
        "quiet-start-equals-end",
        "no-start",
        "no-end",
        "bad-time",
        "5h",
    ],
)
def test_bad_reminder_choices_are_refused_next_to_the_field_and_change_nothing(cast, changes, field, message):
    assert cast.patient.phone == ""
    NotificationPreference.objects.create(
        user=cast.patient_user, reminder_hours=[72], quiet_start=dt.time(22, 0), quiet_end=dt.time(6, 0)
    )
    before = saved_choices(cast.patient_user)

    response = client_for(cast.patient_user).post(
        PORTAL_PREFERENCES, patient_choices(by_email=None, reminder_hours=["24"]) | changes
    )

    assert response.status_code == 400
    assert text_of(response, f"id_{field}_error") == message
    assert saved_choices(cast.patient_user) == before


@pytest.mark.parametrize(
    ("saved", "changes", "field", "message"),
    [
        # Quiet hours were off: the model alone would also say "Give both ends of the quiet hours, or neither."
        ((None, None), {"quiet_end": ""}, "quiet_end", "Give a time, or untick quiet hours."),
        # The refused end keeps the saved 08:00, which the model alone would compare with the new 08:00 start.
        (
            (dt.time(21, 0), dt.time(8, 0)),
            {"quiet_start": "08:00", "quiet_end": "08:00"},
            "quiet_end",
            "Quiet hours must end at a different time than they start.",
        ),
    ],
    ids=["turned-back-on-without-an-end", "start-moved-onto-the-saved-end"],
)
def test_a_refused_quiet_time_is_explained_once(cast, saved, changes, field, message):
    NotificationPreference.objects.create(user=cast.patient_user, quiet_start=saved[0], quiet_end=saved[1])

    response = client_for(cast.patient_user).post(PORTAL_PREFERENCES, patient_choices(**changes))

    assert response.status_code == 400
    assert text_of(response, f"id_{field}_error") == message
    assert (saved_choices(cast.patient_user)["quiet_start"], saved_choices(cast.patient_user)["quiet_end"]) == saved


# --- Staff choices --------------------------------------------------------------------------------

STAFF_PREFERENCES = reverse("notifications:preferences")


def test_nurse_turns_email_off_and_keeps_the_app(cast):
    NotificationPreference.objects.create(user=cast.assigned_nurse, in_app=False)
    client = client_for(cast.assigned_nurse)

    response = client.post(STAFF_PREFERENCES, {"in_app": "on", "phone": ""}, follow=True)

    assert response.redirect_chain == [(STAFF_PREFERENCES, 302)]
    assert messages_on(response) == ["Your notification choices are saved."]
    choices = saved_choices(cast.assigned_nurse)
    assert (choices["by_email"], choices["in_app"], choices["by_sms"]) == (False, True, False)
    assert ticked(response) == {"in_app"}


def test_coordinator_chooses_texts_with_a_valid_phone(cast):
    response = client_for(cast.coordinator).post(
        STAFF_PREFERENCES, {"in_app": "on", "by_email": "on", "by_sms": "on", "phone": "+1 (217) 555-0199"}
    )

    assert response.status_code == 302
    choices = saved_choices(cast.coordinator)
    assert (choices["by_sms"], choices["phone"]) == (True, "+12175550199")
    # Staff have no lead times or quiet hours to choose; what the patient defaults hold is left as it was.
    assert choices["reminder_hours"] == [48, 24]


def test_staff_texts_without_a_phone_are_refused_naming_the_box_staff_see(cast):
    response = client_for(cast.coordinator).post(STAFF_PREFERENCES, {"in_app": "on", "by_sms": "on", "phone": ""})

    assert response.status_code == 400
    assert text_of(response, "id_phone_error") == "Give a mobile number for texts, or untick “Text message (SMS)”."
    assert not NotificationPreference.objects.filter(user=cast.coordinator, by_sms=True).exists()


def test_staff_page_has_no_patient_only_fields_and_the_portal_page_no_in_app_box(cast):
    staff = client_for(cast.assigned_nurse).get(STAFF_PREFERENCES)
    patient = client_for(cast.patient_user).get(PORTAL_PREFERENCES)

    assert field_names(staff) == {"csrfmiddlewaretoken", "in_app", "by_email", "by_sms", "phone"}
    assert ticked(staff) == {"in_app", "by_email"}
    assert field_names(patient) == {
        "csrfmiddlewaretoken",
        "by_email",
        "by_sms",
        "phone",
        "reminder_hours",
        "quiet",
        "quiet_start",
        "quiet_end",
    }


# --- Follow-up questions after IVIG ------------------------------------------------------------------


def follow_up_for(patient, *, window=FollowUp.Window.EARLY, asked_ago=dt.timedelta(hours=2), infusion=INFUSION):
    visit = factories.VisitFactory(
        order=factories.OrderFactory(patient=patient),
        patient=patient,
        planned_start=infusion,
        status=Visit.Status.COMPLETED,
    )
    return FollowUp.objects.create(visit=visit, window=window, due_at=NOW - asked_ago)


def answers(follow_up, *yes, **fields):
    """What the browser sends: "no" to every question but those named, and the empty date and note."""
    data = {question.key: "yes" if question.key in yes else "no" for question in questions_for(follow_up)}
    return data | {"started_on": "", "note": ""} | fields


def follow_up_url(follow_up):
    return reverse("portal:follow_up", args=[follow_up.pk])


def test_patient_sees_the_48_hour_questions_about_their_infusion(cast):
    follow_up = follow_up_for(cast.patient)

    response = client_for(cast.patient_user).get(follow_up_url(follow_up))

    assert response.status_code == 200
    page = response.content.decode()
    assert "How are you feeling since your infusion on Tue 17 Nov?" in page
    for words in (
        "A bad headache, a stiff neck, fever, or eyes that hurt in bright light",
        "Passing much less urine than usual",
        "Swelling or pain in one leg, chest pain, or being short of breath",
        "Dark urine, the colour of tea or cola",
        "Anything else new since the infusion that worries you",
    ):
        assert words in page
    assert "Small itchy blisters" not in page
    assert {"meningitis", "kidneys", "clot", "haemolysis", "other", "started_on", "note"} <= field_names(response)
    # Browsers keep only the first of a repeated attribute; the yes/no radios once carried two ``class``es.
    assert parsed(response).repeated_attributes == []


def test_day_10_questions_ask_about_blisters_instead(cast):
    follow_up = follow_up_for(cast.patient, window=FollowUp.Window.LATE, infusion=NOW - dt.timedelta(days=10))

    response = client_for(cast.patient_user).get(follow_up_url(follow_up))

    page = response.content.decode()
    assert "Small itchy blisters on the palms of your hands or the soles of your feet" in page
    assert "Anything else new since the infusion that worries you" in page
    assert "Dark urine" not in page and "stiff neck" not in page
    assert {"eczema", "other"} <= field_names(response)
    assert "haemolysis" not in field_names(response)


def test_all_no_is_recorded_without_a_reaction_and_thanks_the_patient(
    cast, published, django_capture_on_commit_callbacks
):
    follow_up = follow_up_for(cast.patient)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.patient_user).post(follow_up_url(follow_up), answers(follow_up), follow=True)

    assert response.redirect_chain == [(reverse("portal:home"), 302)]
    assert messages_on(response) == ["Thank you. We are glad you are well."]
    follow_up.refresh_from_db()
    assert follow_up.answered_at == NOW
    assert follow_up.positive is False
    assert follow_up.answers == {
        "meningitis": False,
        "kidneys": False,
        "clot": False,
        "haemolysis": False,
        "other": False,
    }
    assert follow_up.reaction is None
    assert not Reaction.objects.exists()
    assert published == []


def test_dark_urine_becomes_a_delayed_reaction_on_the_visit_and_an_alert_with_its_lots(
    cast, published, django_capture_on_commit_callbacks
):
    follow_up = follow_up_for(cast.patient)
    visit = follow_up.visit
    for lot in ("B5678", "A1234"):
        VialUsed.objects.create(
            visit=visit, product=visit.order.product, lot_number=lot, expires_on=dt.date(2027, 6, 30), size_mg=10000
        )

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.patient_user).post(
            follow_up_url(follow_up), answers(follow_up, "haemolysis", started_on="2026-11-19"), follow=True
        )

    assert response.redirect_chain == [(reverse("portal:home"), 302)]
    assert messages_on(response) == ["Thank you. A nurse will call you today about what you told us."]
    follow_up.refresh_from_db()
    reaction = Reaction.objects.get()
    assert (follow_up.positive, follow_up.reaction) == (True, reaction)
    assert reaction.visit == visit
    assert (reaction.is_delayed, reaction.grade) == (True, None)
    assert reaction.other_symptom == "dark urine (haemolysis?)"
    assert reaction.onset_at == dt.datetime(2026, 11, 19, 18, 0, tzinfo=dt.UTC)  # noon in Chicago
    assert reaction.recorded_by == cast.patient_user
    assert published == [("visits.tasks.notify_now", (["delayed_reaction"],))]

    queue = client_for(cast.coordinator).get(reverse("alerts:queue"))
    alert = text_of(queue, f"delayed_reaction-{reaction.pk}")
    assert "Delayed reaction reported: Marisol Delacroix" in alert
    assert "dark urine (haemolysis?)" in alert
    assert "Lots: A1234, B5678" in alert


def test_leg_swelling_or_chest_pain_tells_the_patient_to_call_911_now(
    cast, published, django_capture_on_commit_callbacks
):
    follow_up = follow_up_for(cast.patient)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.patient_user).post(follow_up_url(follow_up), answers(follow_up, "clot"))

    assert response.status_code == 200
    assert text_of(response, "emergency").startswith("Call 911 or go to the emergency department now.")
    assert "follow-up-form" not in response.content.decode()
    reaction = Reaction.objects.get(visit=follow_up.visit)
    assert "told to seek emergency care now" in reaction.outcome
    assert published == [("visits.tasks.notify_now", (["delayed_reaction"],))]
    queue = client_for(cast.coordinator).get(reverse("alerts:queue"))
    assert "Urgent" in text_of(queue, f"delayed_reaction-{reaction.pk}")


def test_anything_else_needs_a_few_words(cast):
    follow_up = follow_up_for(cast.patient)
    client = client_for(cast.patient_user)

    refused = client.post(follow_up_url(follow_up), answers(follow_up, "other", note="  "))
    accepted = client.post(follow_up_url(follow_up), answers(follow_up, "other", note="My knees ache"))

    assert refused.status_code == 400
    assert text_of(refused, "id_note_error") == "Tell us in a few words what else is new."
    assert accepted.status_code == 302
    reaction = Reaction.objects.get()
    assert reaction.other_symptom == "other new symptom"
    assert reaction.outcome.endswith("Patient's words: My knees ache")


def test_every_unanswered_question_says_please_answer_yes_or_no(cast):
    follow_up = follow_up_for(cast.patient)

    response = client_for(cast.patient_user).post(
        follow_up_url(follow_up), {"meningitis": "no", "started_on": "", "note": ""}
    )

    assert response.status_code == 400
    assert text_of(response, "id_meningitis_error") is None
    for key in ("kidneys", "clot", "haemolysis", "other"):
        assert text_of(response, f"id_{key}_error") == "Please answer yes or no."
    follow_up.refresh_from_db()
    assert follow_up.answered_at is None


@pytest.mark.parametrize(
    ("started_on", "message"),
    [
        ("2026-11-21", "That day has not come yet; give the day it started."),
        ("2026-11-16", "That is before the infusion; give a day after it."),
    ],
    ids=["tomorrow", "before-the-infusion"],
)
def test_a_start_day_outside_infusion_to_today_is_refused(cast, started_on, message):
    follow_up = follow_up_for(cast.patient)

    response = client_for(cast.patient_user).post(
        follow_up_url(follow_up), answers(follow_up, "meningitis", started_on=started_on)
    )

    assert response.status_code == 400
    assert text_of(response, "id_started_on_error") == message
    assert not Reaction.objects.exists()


def test_answering_twice_keeps_the_first_answers(cast, published, django_capture_on_commit_callbacks):
    follow_up = follow_up_for(cast.patient)
    client = client_for(cast.patient_user)
    client.post(follow_up_url(follow_up), answers(follow_up))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(follow_up_url(follow_up), answers(follow_up, "clot"))

    assert response.status_code == 200
    assert "You have answered these questions." in response.content.decode()
    assert text_of(response, "emergency") is None
    follow_up.refresh_from_db()
    assert follow_up.positive is False and follow_up.answers["clot"] is False
    assert not Reaction.objects.exists()
    assert published == []


def test_another_patients_follow_up_is_not_found(cast):
    follow_up = follow_up_for(cast.patient)
    client = client_for(cast.other_patient_user)

    assert client.get(follow_up_url(follow_up)).status_code == 404
    assert client.post(follow_up_url(follow_up), answers(follow_up, "clot")).status_code == 404
    follow_up.refresh_from_db()
    assert follow_up.answered_at is None


# --- The portal home: open questions ------------------------------------------------------------------


def test_portal_home_asks_to_answer_an_open_follow_up(cast):
    follow_up = follow_up_for(cast.patient)

    response = client_for(cast.patient_user).get(reverse("portal:home"))

    section = text_of(response, f"follow-up-{follow_up.pk}")
    assert "How are you feeling since your infusion?" in section
    assert "Answer the questions" in section
    assert f'href="{follow_up_url(follow_up)}"' in response.content.decode()
    assert text_of(client_for(cast.other_patient_user).get(reverse("portal:home")), f"follow-up-{follow_up.pk}") is None


@pytest.mark.parametrize("closed_by", ["answered", "called"])
def test_portal_home_no_longer_asks_once_answered_or_called(cast, closed_by):
    follow_up = follow_up_for(cast.patient)
    client = client_for(cast.patient_user)
    if closed_by == "answered":
        client.post(follow_up_url(follow_up), answers(follow_up))
    else:
        client_for(cast.coordinator).post(
            reverse("alerts:follow_up_call", args=[follow_up.pk]), {"call_note": "Feeling well"}
        )

    response = client.get(reverse("portal:home"))

    assert text_of(response, f"follow-up-{follow_up.pk}") is None
    assert "Answer the questions" not in response.content.decode()


# --- The coordinator: follow-ups not answered ---------------------------------------------------------


def call_url(follow_up):
    return reverse("alerts:follow_up_call", args=[follow_up.pk])


def test_follow_up_unanswered_for_24_hours_is_a_call_on_the_alert_queue(cast):
    overdue = follow_up_for(cast.patient, asked_ago=dt.timedelta(hours=25))
    recent = follow_up_for(cast.other_patient, asked_ago=dt.timedelta(hours=23))

    response = client_for(cast.coordinator).get(reverse("alerts:queue"))

    alert = text_of(response, f"follow_up_call-{overdue.pk}")
    assert "Call Marisol Delacroix: follow-up not answered" in alert
    assert "Record the call" in alert
    assert text_of(response, f"follow_up_call-{recent.pk}") is None


def test_recording_the_call_needs_what_the_patient_said(cast):
    follow_up = follow_up_for(cast.patient, asked_ago=dt.timedelta(hours=25))

    response = client_for(cast.coordinator).post(call_url(follow_up), {"call_note": "  "})

    assert response.status_code == 400
    assert messages_on(response) == ["The call to Marisol Delacroix is not recorded: write what they said."]
    assert text_of(response, f"call-note-{follow_up.pk}-error") == (
        "Write what the patient said, e.g. “No symptoms; feeling well”."
    )
    follow_up.refresh_from_db()
    assert follow_up.called_at is None


def test_a_recorded_call_leaves_the_queue_and_a_second_one_is_not_recorded(cast):
    follow_up = follow_up_for(cast.patient, asked_ago=dt.timedelta(hours=25))
    client = client_for(cast.coordinator)

    response = client.post(call_url(follow_up), {"call_note": "No symptoms; feeling well"}, follow=True)

    assert response.redirect_chain == [(reverse("alerts:queue"), 302)]
    assert messages_on(response) == ["The follow-up call to Marisol Delacroix is recorded."]
    assert text_of(response, f"follow_up_call-{follow_up.pk}") is None
    follow_up.refresh_from_db()
    assert (follow_up.called_at, follow_up.called_by, follow_up.call_note) == (
        NOW,
        cast.coordinator,
        "No symptoms; feeling well",
    )

    again = client.post(call_url(follow_up), {"call_note": "Second note"}, follow=True)

    assert messages_on(again) == ["The follow-up call to Marisol Delacroix was already recorded."]
    follow_up.refresh_from_db()
    assert follow_up.call_note == "No symptoms; feeling well"


# --- The coordinator: messages not delivered ----------------------------------------------------------


def notification_for(user, *, channel=Notification.Channel.IN_APP, subject="Chart not signed", **fields):
    return Notification.objects.create(
        recipient=user,
        channel=channel,
        kind=fields.pop("kind", Notification.Kind.CHART_UNSIGNED),
        key=f"test:{Notification.objects.count()}:{user.pk}:{channel}",
        subject=subject,
        body=fields.pop("body", "Sign the chart"),
        due_at=fields.pop("due_at", NOW - dt.timedelta(hours=1)),
        next_attempt_at=NOW - dt.timedelta(hours=1),
        **fields,
    )


def failed_reminder(cast):
    return notification_for(
        cast.patient_user,
        channel=Notification.Channel.EMAIL,
        kind=Notification.Kind.VISIT_REMINDER,
        subject="Reminder",
        attempts=1,
        failed_at=NOW - dt.timedelta(minutes=30),
        last_error="No email address on file.",
    )


def test_a_failed_notification_is_on_the_alert_queue_with_its_reason(cast):
    notification = failed_reminder(cast)

    response = client_for(cast.coordinator).get(reverse("alerts:queue"))

    alert = text_of(response, f"notification_failed-{notification.pk}")
    assert "Not delivered: visit reminder to Marisol Delacroix" in alert
    assert "By email: No email address on file." in alert
    assert "Tried 1 time;" in alert


def test_sending_a_failed_notification_again_resets_it_and_hands_it_to_a_worker(
    cast, published, django_capture_on_commit_callbacks
):
    notification = failed_reminder(cast)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.coordinator).post(
            reverse("alerts:notification_retry", args=[notification.pk]), follow=True
        )

    assert response.redirect_chain == [(reverse("alerts:queue"), 302)]
    assert messages_on(response) == ["The message will be sent again in a moment."]
    assert text_of(response, f"notification_failed-{notification.pk}") is None
    notification.refresh_from_db()
    assert (notification.failed_at, notification.attempts, notification.last_error) == (None, 0, "")
    assert notification.state == "waiting"
    assert published == [("visits.tasks.deliver_notification", (notification.pk,))]


def test_sending_again_a_notification_no_longer_failed_changes_nothing(
    cast, published, django_capture_on_commit_callbacks
):
    notification = notification_for(cast.coordinator, sent_at=NOW - dt.timedelta(minutes=5), attempts=2)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.coordinator).post(
            reverse("alerts:notification_retry", args=[notification.pk]), follow=True
        )

    assert response.redirect_chain == [(reverse("alerts:queue"), 302)]
    assert messages_on(response) == ["That message is no longer marked as failed."]
    notification.refresh_from_db()
    assert (notification.sent_at, notification.attempts) == (NOW - dt.timedelta(minutes=5), 2)
    assert published == []


# --- The staff inbox ------------------------------------------------------------------------------------

INBOX = reverse("notifications:inbox")


def sent_to(user, subject="Chart not signed", **fields):
    fields.setdefault("sent_at", NOW - dt.timedelta(minutes=10))
    return notification_for(user, subject=subject, **fields)


def test_inbox_shows_only_my_sent_notifications_in_the_app(cast):
    mine = sent_to(cast.assigned_nurse, "Mine in the app")
    sent_to(cast.assigned_nurse, "Mine by email", channel=Notification.Channel.EMAIL)
    notification_for(cast.assigned_nurse, subject="Mine not sent yet")
    sent_to(cast.unassigned_nurse, "Another nurse's")

    response = client_for(cast.assigned_nurse).get(INBOX)

    assert response.status_code == 200
    assert list(response.context["page"]) == [mine]
    page = response.content.decode()
    assert "Mine in the app" in page
    for other in ("Mine by email", "Mine not sent yet", "Another nurse&#x27;s"):
        assert other not in page


def test_nav_shows_the_unread_count_and_none_once_all_are_read(cast):
    sent_to(cast.assigned_nurse, "First")
    sent_to(cast.assigned_nurse, "Second")
    sent_to(cast.assigned_nurse, "Read already", read_at=NOW - dt.timedelta(minutes=5))
    sent_to(cast.assigned_nurse, "By email", channel=Notification.Channel.EMAIL)
    client = client_for(cast.assigned_nurse)

    assert text_of(client.get(INBOX), "unread-count") == "2 unread"
    client.post(reverse("notifications:read_all"))
    response = client.get(INBOX)

    assert text_of(response, "nav-notifications") == "Notifications"
    assert text_of(response, "unread-count") is None


def test_mark_read_marks_only_that_notification(cast):
    first = sent_to(cast.assigned_nurse, "First")
    second = sent_to(cast.assigned_nurse, "Second")

    response = client_for(cast.assigned_nurse).post(reverse("notifications:read", args=[first.pk]))

    assert response.status_code == 302 and response.url == INBOX
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.read_at, second.read_at) == (NOW, None)


def test_open_marks_read_and_goes_where_the_notification_points(cast):
    notification = sent_to(cast.assigned_nurse, url="/visits/42/chart/")

    response = client_for(cast.assigned_nurse).post(
        reverse("notifications:read", args=[notification.pk]), {"open": "1"}
    )

    assert response.status_code == 302 and response.url == "/visits/42/chart/"
    notification.refresh_from_db()
    assert notification.read_at == NOW


def test_mark_all_as_read_marks_mine_and_leaves_others(cast):
    mine = [sent_to(cast.assigned_nurse, f"Mine {n}") for n in range(3)]
    theirs = sent_to(cast.unassigned_nurse, "Theirs")

    response = client_for(cast.assigned_nurse).post(reverse("notifications:read_all"), follow=True)

    assert response.redirect_chain == [(INBOX, 302)]
    assert messages_on(response) == ["3 notifications marked as read."]
    assert Notification.objects.filter(pk__in=[row.pk for row in mine], read_at=NOW).count() == 3
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize("open_it", [False, True])
def test_another_users_notification_is_not_found(cast, open_it):
    theirs = sent_to(cast.unassigned_nurse, "Theirs", url="/alerts/")
    my_email = sent_to(cast.assigned_nurse, "Mine by email", channel=Notification.Channel.EMAIL, url="/alerts/")
    client = client_for(cast.assigned_nurse)

    for notification in (theirs, my_email):
        response = client.post(reverse("notifications:read", args=[notification.pk]), {"open": "1"} if open_it else {})
        assert response.status_code == 404
        notification.refresh_from_db()
        assert notification.read_at is None


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", INBOX),
        ("post", reverse("notifications:read", args=[1])),
        ("post", reverse("notifications:read_all")),
        ("get", STAFF_PREFERENCES),
    ],
)
def test_patients_cannot_use_the_staff_inbox(cast, method, url):
    sent_to(cast.patient_user, "Not for patients")

    response = getattr(client_for(cast.patient_user), method)(url)

    assert response.status_code == 403
    assert not Notification.objects.exclude(read_at=None).exists()


def inbox_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(INBOX)
    assert response.status_code == 200
    return len(queries), len(response.context["page"])


def test_inbox_query_count_does_not_grow_with_notifications(cast):
    client = client_for(cast.assigned_nurse)
    for n in range(3):
        sent_to(cast.assigned_nurse, f"Note {n}", url="/alerts/", read_at=NOW if n % 2 else None)
    small, small_shown = inbox_queries(client)
    for n in range(3, 30):
        sent_to(cast.assigned_nurse, f"Note {n}", url="/alerts/", read_at=NOW if n % 2 else None)

    large, large_shown = inbox_queries(client)

    assert (small_shown, large_shown) == (3, 30)
    assert large == small


def test_inbox_shows_30_a_page_newest_first(cast):
    for minutes in range(31):
        sent_to(cast.assigned_nurse, f"Sent {minutes} minutes ago", sent_at=NOW - dt.timedelta(minutes=minutes))
    client = client_for(cast.assigned_nurse)

    first = client.get(INBOX)
    second = client.get(INBOX, {"page": 2})

    assert len(first.context["page"]) == 30
    assert first.context["page"][0].subject == "Sent 0 minutes ago"
    assert "Page 1 of 2" in first.content.decode()
    assert [row.subject for row in second.context["page"]] == ["Sent 30 minutes ago"]
    assert "Page 2 of 2" in second.content.decode()
