"""The patient's symptom journal: a day's scores, kept to the patient's own days, charted beside their infusions."""

import datetime as dt
import json
import re

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients.models import SymptomEntry
from patients.services import symptom_entry_save
from tests import factories
from tests.conftest import client_for
from visits.models import Visit

# Friday 20 November 2026, 9:00 am in Chicago (the factories' patient time zone).
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 20)
SCORE_MESSAGE = "Please give a whole number from 0 (none) to 10 (worst)."
FUTURE_MESSAGE = "A journal entry can't be for a day that hasn't happened yet."

JOURNAL = reverse("portal:journal")
ADD = reverse("portal:journal_add")


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def entry_for(patient, day, *, weakness=5, rash=3, fatigue=6, pain=2, note=""):
    return SymptomEntry.objects.create(
        patient=patient, recorded_on=day, muscle_weakness=weakness, rash=rash, fatigue=fatigue, pain=pain, note=note
    )


def edit_url(entry):
    return reverse("portal:journal_edit", args=[entry.pk])


def form_data(**changes):
    data = {
        "recorded_on": TODAY.isoformat(),
        "muscle_weakness": "6",
        "rash": "2",
        "fatigue": "7",
        "pain": "3",
        "note": "Stairs were hard today.",
    }
    data.update(changes)
    return data


def scores(entry):
    entry.refresh_from_db()
    return (entry.recorded_on, entry.muscle_weakness, entry.rash, entry.fatigue, entry.pain, entry.note)


def infusion_on(patient, day, *, status=Visit.Status.SIGNED, hour_utc=15):
    return factories.VisitFactory(
        order=factories.OrderFactory(patient=patient),
        patient=patient,
        planned_start=dt.datetime.combine(day, dt.time(hour_utc), tzinfo=dt.UTC),
        status=status,
    )


def chart_data(response) -> dict:
    match = re.search(
        r'<script id="journal-chart-data" type="application/json">(.*?)</script>', response.content.decode()
    )
    assert match, "the journal page carries its chart data"
    return json.loads(match.group(1))


# --- Adding an entry ---------------------------------------------------------------------------------------------


def test_add_form_starts_on_today_in_the_patients_time_zone_and_explains_the_scale(cast):
    response = client_for(cast.patient_user).get(ADD)

    assert response.status_code == 200
    assert response.context["form"]["recorded_on"].value() == TODAY
    page = response.content.decode()
    assert "0 none – 10 worst" in page
    assert 'max="2026-11-20"' in page
    assert 'inputmode="numeric"' in page


def test_patient_adds_todays_entry_and_sees_it_in_the_journal(cast):
    response = client_for(cast.patient_user).post(ADD, form_data(), follow=True)

    assert response.redirect_chain == [(JOURNAL, 302)]
    assert "Your journal entry for Friday 20 November 2026 is saved." in response.content.decode()
    entry = SymptomEntry.objects.get()
    assert entry.patient == cast.patient
    assert scores(entry) == (TODAY, 6, 2, 7, 3, "Stairs were hard today.")


def test_patient_can_add_an_entry_for_an_earlier_day_without_a_note(cast):
    response = client_for(cast.patient_user).post(ADD, form_data(recorded_on="2026-11-17", note=""))

    assert response.status_code == 302
    assert scores(SymptomEntry.objects.get()) == (dt.date(2026, 11, 17), 6, 2, 7, 3, "")


def test_add_page_leads_to_todays_entry_when_there_is_one(cast):
    today = entry_for(cast.patient, TODAY)

    response = client_for(cast.patient_user).get(ADD)

    assert response.status_code == 302
    assert response["Location"] == edit_url(today)


@time_machine.travel(dt.datetime(2026, 11, 21, 3, 0, tzinfo=dt.UTC), tick=False)
def test_the_day_turns_at_the_patients_midnight_not_the_servers(cast):
    """03:00 UTC on the 21st is still 9 pm on the 20th in Chicago."""
    client = client_for(cast.patient_user)

    assert client.get(ADD).context["form"]["recorded_on"].value() == TODAY
    refused = client.post(ADD, form_data(recorded_on="2026-11-21"))
    assert refused.status_code == 400
    assert refused.context["form"].errors["recorded_on"] == [FUTURE_MESSAGE]
    assert client.post(ADD, form_data(recorded_on="2026-11-20")).status_code == 302


def test_service_dates_an_entry_without_a_day_today_in_the_patients_time_zone(cast):
    entry = symptom_entry_save(patient=cast.patient, recorded_on=None, muscle_weakness=1, rash=0, fatigue=2, pain=0)

    assert entry.recorded_on == TODAY


# --- Changing an entry -------------------------------------------------------------------------------------------


def test_edit_form_shows_the_entry_as_saved(cast):
    entry = entry_for(cast.patient, TODAY - dt.timedelta(days=2), weakness=8, note="Bad day")

    response = client_for(cast.patient_user).get(edit_url(entry))

    assert response.status_code == 200
    form = response.context["form"]
    assert form["recorded_on"].value() == entry.recorded_on
    assert form["muscle_weakness"].value() == 8
    assert form["note"].value() == "Bad day"
    assert "Change my journal entry" in response.content.decode()


def test_patient_changes_their_own_entry(cast):
    entry = entry_for(cast.patient, TODAY - dt.timedelta(days=1))

    response = client_for(cast.patient_user).post(
        edit_url(entry), form_data(recorded_on="2026-11-19", rash="0", note="Rash gone")
    )

    assert response.status_code == 302
    assert response["Location"] == JOURNAL
    assert scores(entry) == (dt.date(2026, 11, 19), 6, 0, 7, 3, "Rash gone")
    assert SymptomEntry.objects.count() == 1


def test_edit_is_recorded_in_the_audit_trail(cast):
    from auditlog.models import LogEntry

    entry = entry_for(cast.patient, TODAY)

    client_for(cast.patient_user).post(edit_url(entry), form_data(pain="9"))

    change = LogEntry.objects.get_for_object(entry).filter(action=LogEntry.Action.UPDATE).get()
    assert change.actor == cast.patient_user
    assert change.changes_dict["pain"] == ["2", "9"]


# --- The journal page --------------------------------------------------------------------------------------------


def test_journal_lists_entries_newest_first_with_their_numbers(cast):
    older = entry_for(cast.patient, dt.date(2026, 11, 10), weakness=7, rash=4, fatigue=8, pain=1, note="Tired")
    newer = entry_for(cast.patient, dt.date(2026, 11, 18), weakness=3, rash=2, fatigue=2, pain=0)

    response = client_for(cast.patient_user).get(JOURNAL)

    assert response.status_code == 200
    assert [row.entry for row in response.context["rows"]] == [newer, older]
    page = response.content.decode()
    assert page.index("Wed 18 Nov") < page.index("Tue 10 Nov")
    row = re.search(rf'<tr data-entry="{older.pk}">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r"<td>(\d+)</td>", row) == ["7", "4", "8", "1"]
    assert "Tired" in row
    assert edit_url(older) in row


def test_journal_pages_thirty_entries_at_a_time(cast):
    for days_ago in range(35):
        entry_for(cast.patient, TODAY - dt.timedelta(days=days_ago))
    client = client_for(cast.patient_user)

    first = client.get(JOURNAL)
    second = client.get(JOURNAL, {"page": 2})

    assert [row.entry.recorded_on for row in first.context["rows"]][:2] == [TODAY, TODAY - dt.timedelta(days=1)]
    assert len(first.context["rows"]) == 30
    assert [row.entry.recorded_on for row in second.context["rows"]] == [
        TODAY - dt.timedelta(days=days_ago) for days_ago in range(30, 35)
    ]
    assert "Page 2 of 2" in second.content.decode()
    assert client.get(JOURNAL, {"page": "nonsense"}).status_code == 200


def test_journal_offers_todays_entry_to_add_or_to_change(cast):
    client = client_for(cast.patient_user)
    assert "Add today's entry" in client.get(JOURNAL).content.decode()

    today = entry_for(cast.patient, TODAY)

    page = client.get(JOURNAL).content.decode()
    assert "Change today's entry" in page
    assert f'href="{edit_url(today)}"' in page


def test_empty_journal_invites_a_first_entry_and_draws_no_chart(cast):
    response = client_for(cast.patient_user).get(JOURNAL)

    assert response.status_code == 200
    assert response.context["chart"] is None
    assert "No entries yet" in response.content.decode()
    assert "journal-chart-data" not in response.content.decode()


def test_portal_home_and_menu_link_to_the_journal(cast):
    page = client_for(cast.patient_user).get(reverse("portal:home")).content.decode()

    assert f'href="{JOURNAL}"' in page
    assert f'href="{ADD}"' in page
    assert ">Journal</a>" in page


# --- The chart ---------------------------------------------------------------------------------------------------


def test_chart_carries_each_days_scores_and_the_infusion_days(cast):
    entry_for(cast.patient, dt.date(2026, 11, 14), weakness=7, rash=4, fatigue=8, pain=3)
    entry_for(cast.patient, dt.date(2026, 11, 16), weakness=4, rash=3, fatigue=5, pain=1)
    infusion_on(cast.patient, dt.date(2026, 11, 15))
    infusion_on(cast.patient, dt.date(2026, 11, 15), hour_utc=20)  # a second visit that day: one marker
    infusion_on(cast.patient, dt.date(2026, 11, 16), status=Visit.Status.COMPLETED)

    data = chart_data(client_for(cast.patient_user).get(JOURNAL))

    assert data["days"] == [
        "2026-11-14",
        "2026-11-15",
        "2026-11-16",
        "2026-11-17",
        "2026-11-18",
        "2026-11-19",
        TODAY.isoformat(),
    ]
    assert data["labels"][0] == "14 Nov"
    assert data["muscle_weakness"] == [7, None, 4, None, None, None, None]
    assert data["rash"] == [4, None, 3, None, None, None, None]
    assert data["fatigue"] == [8, None, 5, None, None, None, None]
    assert data["pain"] == [3, None, 1, None, None, None, None]
    assert data["infusions"] == ["2026-11-15", "2026-11-16"]


def test_chart_marks_only_infusions_that_were_given(cast):
    entry_for(cast.patient, dt.date(2026, 11, 10))
    entry_for(cast.patient, dt.date(2026, 11, 12))
    infusion_on(cast.patient, dt.date(2026, 11, 11), status=Visit.Status.MISSED)
    infusion_on(cast.patient, dt.date(2026, 11, 12), status=Visit.Status.CANCELLED)
    infusion_on(cast.patient, dt.date(2026, 11, 13), status=Visit.Status.SCHEDULED)
    infusion_on(cast.patient, dt.date(2026, 11, 24), status=Visit.Status.SCHEDULED)  # upcoming
    infusion_on(cast.other_patient, dt.date(2026, 11, 12))

    data = chart_data(client_for(cast.patient_user).get(JOURNAL))

    assert data["infusions"] == []


def test_infusion_day_is_the_day_in_the_patients_time_zone(cast):
    entry_for(cast.patient, dt.date(2026, 11, 10))
    entry_for(cast.patient, dt.date(2026, 11, 12))
    # 02:00 UTC on the 12th is 8 pm on the 11th in Chicago.
    infusion_on(cast.patient, dt.date(2026, 11, 12), hour_utc=2)

    response = client_for(cast.patient_user).get(JOURNAL)

    assert chart_data(response)["infusions"] == ["2026-11-11"]


def test_list_marks_entries_made_on_an_infusion_day(cast):
    on_infusion_day = entry_for(cast.patient, dt.date(2026, 11, 12))
    other_day = entry_for(cast.patient, dt.date(2026, 11, 13))
    infusion_on(cast.patient, dt.date(2026, 11, 12))

    rows = {row.entry: row.infusion for row in client_for(cast.patient_user).get(JOURNAL).context["rows"]}

    assert rows == {on_infusion_day: True, other_day: False}


def test_chart_data_goes_through_json_script_and_a_static_script(cast):
    entry_for(cast.patient, dt.date(2026, 11, 12), note='</script><script>alert("x")</script>')
    entry_for(cast.patient, dt.date(2026, 11, 13))

    page = client_for(cast.patient_user).get(JOURNAL).content.decode()

    assert 'data-journal-chart="journal-chart-data"' in page
    assert "js/journal_chart.js" in page
    assert "vendor/chartjs/chart.umd.min.js" in page
    assert '<script>alert("x")</script>' not in page


# --- Refused input -----------------------------------------------------------------------------------------------


BAD_INPUT = [
    ("rash", "11", SCORE_MESSAGE),
    ("pain", "-1", SCORE_MESSAGE),
    ("muscle_weakness", "", SCORE_MESSAGE),
    ("fatigue", "a lot", SCORE_MESSAGE),
    ("fatigue", "5.5", SCORE_MESSAGE),
    ("recorded_on", "2026-11-21", FUTURE_MESSAGE),
    ("recorded_on", "yesterday", "Please give the day as a date, for example 2026-11-20."),
    ("recorded_on", "1026-11-19", "This day is before your date of birth. Please check the year."),
    ("recorded_on", "", "Please give the day this entry is about."),
    ("note", "x" * 1001, "Please keep the note to 1,000 characters or fewer."),
]
BAD_IDS = [f"{field}={value[:12]!r}" for field, value, _ in BAD_INPUT]


@pytest.mark.parametrize(("field", "value", "message"), BAD_INPUT, ids=BAD_IDS)
def test_bad_input_on_a_new_entry_is_refused_next_to_the_field_and_saves_nothing(cast, field, value, message):
    response = client_for(cast.patient_user).post(ADD, form_data(**{field: value}))

    assert response.status_code == 400
    assert response.context["form"].errors == {field: [message]}
    page = response.content.decode()
    assert message.replace("'", "&#x27;") in page
    assert re.search(rf'id="error_\d+_id_{field}"', page), "the message is shown with its field"
    assert "Your journal entry is not saved yet." in page
    assert not SymptomEntry.objects.exists()


@pytest.mark.parametrize(("field", "value", "message"), BAD_INPUT, ids=BAD_IDS)
def test_bad_input_on_a_change_is_refused_and_leaves_the_entry_as_it_was(cast, field, value, message):
    entry = entry_for(cast.patient, dt.date(2026, 11, 18))
    before = scores(entry)

    response = client_for(cast.patient_user).post(edit_url(entry), form_data(**{field: value}))

    assert response.status_code == 400
    assert response.context["form"].errors == {field: [message]}
    assert scores(entry) == before


def test_every_bad_field_is_named_at_once(cast):
    response = client_for(cast.patient_user).post(ADD, form_data(recorded_on="2027-01-01", rash="12", pain="x"))

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"recorded_on", "rash", "pain"}


def test_empty_post_is_refused_with_a_message_for_each_field(cast):
    response = client_for(cast.patient_user).post(ADD)

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"recorded_on", "muscle_weakness", "rash", "fatigue", "pain"}
    assert not SymptomEntry.objects.exists()


def test_second_entry_for_the_same_day_is_refused_naming_the_day(cast):
    first = entry_for(cast.patient, dt.date(2026, 11, 19), weakness=2)
    before = scores(first)

    response = client_for(cast.patient_user).post(ADD, form_data(recorded_on="2026-11-19", muscle_weakness="9"))

    assert response.status_code == 400
    message = (
        "You already have a journal entry for Thursday 19 November 2026. "
        "Change that entry instead, or choose another day."
    )
    assert response.context["form"].errors == {"recorded_on": [message]}
    page = response.content.decode()
    assert "Thursday 19 November 2026" in page
    assert f'href="{edit_url(first)}"' in page
    assert SymptomEntry.objects.count() == 1
    assert scores(first) == before


def test_moving_an_entry_onto_a_day_that_has_one_is_refused(cast):
    taken = entry_for(cast.patient, dt.date(2026, 11, 19))
    moving = entry_for(cast.patient, dt.date(2026, 11, 18), weakness=1)

    response = client_for(cast.patient_user).post(edit_url(moving), form_data(recorded_on="2026-11-19"))

    assert response.status_code == 400
    assert "Thursday 19 November 2026" in response.context["form"].errors["recorded_on"][0]
    assert scores(moving)[:2] == (dt.date(2026, 11, 18), 1)
    assert scores(taken)[0] == dt.date(2026, 11, 19)


def test_another_patients_entry_on_the_same_day_is_no_clash(cast):
    entry_for(cast.other_patient, dt.date(2026, 11, 19))

    response = client_for(cast.patient_user).post(ADD, form_data(recorded_on="2026-11-19"))

    assert response.status_code == 302
    assert SymptomEntry.objects.filter(patient=cast.patient).count() == 1


def test_a_same_day_save_that_slips_past_the_checks_is_still_refused_naming_the_day(cast, monkeypatch):
    """Two saves at once: the other one lands after this one checked the day; the database constraint decides."""
    from patients import services

    entry_for(cast.patient, dt.date(2026, 11, 19))
    real_check = services.symptom_day_taken
    misses = [True]  # the check before the insert misses the other save; the one after sees it

    def day_taken(entry):
        return False if misses and misses.pop() else real_check(entry)

    monkeypatch.setattr(services, "symptom_day_taken", day_taken)
    monkeypatch.setattr(SymptomEntry, "validate_constraints", lambda self, exclude=None: None)

    with pytest.raises(ValidationError) as refused:
        symptom_entry_save(
            patient=cast.patient, recorded_on=dt.date(2026, 11, 19), muscle_weakness=1, rash=1, fatigue=1, pain=1
        )

    assert "Thursday 19 November 2026" in refused.value.message_dict["recorded_on"][0]
    assert SymptomEntry.objects.count() == 1


# --- The database keeps the rules too ----------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["muscle_weakness", "rash", "fatigue", "pain"])
@pytest.mark.parametrize("value", [11, 100])
def test_database_refuses_a_score_above_ten(cast, field, value):
    entry = entry_for(cast.patient, TODAY)

    with pytest.raises(IntegrityError), transaction.atomic():
        SymptomEntry.objects.filter(pk=entry.pk).update(**{field: value})


def test_database_refuses_two_entries_for_one_day(cast):
    entry_for(cast.patient, TODAY)

    with pytest.raises(IntegrityError), transaction.atomic():
        entry_for(cast.patient, TODAY)


def test_model_validation_refuses_out_of_range_scores_and_future_days(cast):
    entry = SymptomEntry(
        patient=cast.patient, recorded_on=TODAY + dt.timedelta(days=1), muscle_weakness=11, rash=0, fatigue=0, pain=0
    )

    with pytest.raises(ValidationError) as refused:
        entry.full_clean()

    assert set(refused.value.message_dict) == {"recorded_on", "muscle_weakness"}
    assert refused.value.message_dict["recorded_on"] == [FUTURE_MESSAGE]


# --- Only the patient's own journal ------------------------------------------------------------------------------


def test_journal_shows_only_the_patients_own_entries(cast):
    own = entry_for(cast.patient, dt.date(2026, 11, 18))
    entry_for(cast.other_patient, dt.date(2026, 11, 17), note="Okonkwo private note")
    entry_for(cast.other_patient, dt.date(2026, 11, 16))

    response = client_for(cast.patient_user).get(JOURNAL)

    assert [row.entry for row in response.context["rows"]] == [own]
    assert "Okonkwo private note" not in response.content.decode()


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_patients_entry_cannot_be_opened_or_changed(cast, method):
    others = entry_for(cast.other_patient, dt.date(2026, 11, 18), note="Okonkwo private note")
    before = scores(others)

    response = getattr(client_for(cast.patient_user), method)(edit_url(others), form_data(recorded_on="2026-11-18"))

    assert response.status_code == 404
    assert "Okonkwo private note" not in response.content.decode()
    assert scores(others) == before
    assert not SymptomEntry.objects.filter(patient=cast.patient).exists()


@pytest.mark.parametrize("role", ["assigned_nurse", "unassigned_nurse", "coordinator"])
def test_staff_cannot_use_the_patients_journal_pages(cast, role):
    entry = entry_for(cast.patient, TODAY)
    client = client_for(cast.user(role))

    assert client.get(JOURNAL).status_code == 403
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, form_data(recorded_on="2026-11-19")).status_code == 403
    assert client.post(edit_url(entry), form_data(pain="9")).status_code == 403
    assert SymptomEntry.objects.count() == 1
    assert scores(entry)[4] == 2


def test_signed_out_visitor_is_sent_to_sign_in(cast):
    response = client_for(None).get(JOURNAL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- Query count -------------------------------------------------------------------------------------------------


def fill_journal(cast, entries, infusions):
    for days_ago in range(entries):
        entry_for(cast.patient, TODAY - dt.timedelta(days=days_ago), note=f"Day {days_ago}")
    for days_ago in range(infusions):
        infusion_on(cast.patient, TODAY - dt.timedelta(days=3 * days_ago + 1))


def journal_queries(cast):
    client = client_for(cast.patient_user)
    client.get(JOURNAL)  # the session and the role are settled before counting
    with CaptureQueriesContext(connection) as queries:
        response = client.get(JOURNAL)
    assert response.status_code == 200
    return len(queries), len(response.context["rows"])


def test_journal_query_count_does_not_grow_with_entries_or_infusions(cast):
    fill_journal(cast, entries=3, infusions=2)
    small, small_rows = journal_queries(cast)
    SymptomEntry.objects.all().delete()
    Visit.objects.all().delete()
    fill_journal(cast, entries=30, infusions=8)

    large, large_rows = journal_queries(cast)

    assert (small_rows, large_rows) == (3, 30)
    assert large == small


def test_journal_page_two_query_count_matches_page_one(cast):
    fill_journal(cast, entries=45, infusions=4)
    client = client_for(cast.patient_user)
    client.get(JOURNAL)

    with CaptureQueriesContext(connection) as first:
        client.get(JOURNAL)
    with CaptureQueriesContext(connection) as second:
        response = client.get(JOURNAL, {"page": 2})

    assert len(response.context["rows"]) == 15
    assert len(second) == len(first)
