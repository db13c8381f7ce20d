"""Entries recorded on the tablet with no connection: saved at the time the nurse recorded them, listed on the chart,
refused when their time cannot be when she recorded them, and discarded from the outbox with her reason."""

import datetime as dt
import uuid

import pytest
import time_machine
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from tests import factories
from tests.conftest import client_for
from visits.models import ClientWrite, Visit, VisitSignature, VitalSigns

# Friday 20 November 2026, 9:00 am in Chicago (the patient's zone).
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
FORTY_AGO = NOW - dt.timedelta(minutes=40)  # 08:20 in Chicago
SET = factories.VITALS_FORM


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def visit(cast):
    """The assigned nurse's visit of the first patient, infusing since 7:00 in Chicago."""
    order = factories.OrderFactory(patient=cast.patient)
    return factories.infusing_visit(nurse_user=cast.assigned_nurse, order=order, patient=cast.patient)


@pytest.fixture
def nurse(cast):
    return client_for(cast.assigned_nurse)


def vitals_url(visit) -> str:
    return reverse("visits:vitals_add", args=[visit.pk])


def send_set(client, visit, entry=None, *, recorded=None, as_headers=False, **fields):
    """The vitals form as the tablet's outbox sends it: its id and recorded time as fields or as headers."""
    entry = entry or uuid.uuid4()
    data, headers = {**SET, **fields}, {"HX-Request": "true"}
    if as_headers:
        headers["X-Client-Write-Id"] = str(entry)
        if recorded is not None:
            headers["X-Client-Recorded-At"] = recorded
    else:
        data["client_id"] = str(entry)
        if recorded is not None:
            data["client_at"] = recorded
    return client.post(vitals_url(visit), data, headers=headers)


def chart_page(client, visit) -> str:
    response = client.get(reverse("visits:chart", args=[visit.pk]))
    assert response.status_code == 200
    return response.content.decode()


def offline_list(page: str) -> str:
    """The chart's "Recorded offline" list, or "" when the chart has none."""
    if 'id="offline-entries"' not in page:
        return ""
    part = page[page.index('id="offline-entries"') :]
    return part[: part.index("</section>")]


def discard(client, visit, entry, **fields):
    data = {
        "client_id": str(entry),
        "action_url": vitals_url(visit),
        "summary": "Vitals 08:20: T 36.8, P 76, BP 124/78",
        "reason": "Chart signed before it was sent",
        **fields,
    }
    return client.post(reverse("visits:outbox_discard", args=[visit.pk]), data)


def sign(visit, nurse_user) -> None:
    VisitSignature.objects.create(visit=visit, note="Done.", signed_by=nurse_user)
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.SIGNED)


# --- the time the nurse recorded it -------------------------------------------------------------------------------


@pytest.mark.parametrize("as_headers", [False, True], ids=["fields", "headers"])
def test_a_set_sent_late_is_saved_at_the_time_it_was_recorded_and_listed_as_recorded_offline(
    cast, visit, nurse, as_headers
):
    entry = uuid.uuid4()
    response = send_set(nurse, visit, entry, recorded=FORTY_AGO.isoformat(), as_headers=as_headers)

    assert response.status_code == 200
    [saved] = VitalSigns.objects.filter(visit=visit)
    assert saved.taken_at == FORTY_AGO  # the blank time field is when she recorded it, not when it arrived
    write = ClientWrite.objects.get(client_id=entry)
    assert write.client_at == FORTY_AGO and write.received_at == NOW
    assert write.recorded_offline and not write.is_discarded

    listed = offline_list(chart_page(nurse, visit))
    assert "Recorded offline" in listed
    assert "Vital-sign set recorded 08:20" in listed  # in the patient's time zone
    assert "sent 09:00" in listed and "recorded offline</span>" in listed
    assert "discarded on the tablet" not in listed


def test_a_set_sent_at_once_is_not_listed_as_recorded_offline(cast, visit, nurse):
    entry = uuid.uuid4()
    assert send_set(nurse, visit, entry, recorded=NOW.isoformat()).status_code == 200

    assert VitalSigns.objects.get(visit=visit).taken_at == NOW
    assert not ClientWrite.objects.get(client_id=entry).recorded_offline
    page = chart_page(nurse, visit)
    assert offline_list(page) == "" and "Recorded offline" not in page


def test_a_set_the_tablet_kept_is_listed_as_recorded_offline_however_soon_it_was_sent(cast, visit, nurse):
    entry = uuid.uuid4()
    headers = {"HX-Request": "true", "X-Client-Write-Id": str(entry), "X-Client-Recorded-At": NOW.isoformat()}
    assert nurse.post(vitals_url(visit), SET, headers={**headers, "X-Client-Kept": "1"}).status_code == 200

    write = ClientWrite.objects.get(client_id=entry)
    assert write.kept_on_tablet and write.recorded_offline
    assert "recorded offline" in offline_list(chart_page(nurse, visit))


def test_a_set_sent_within_the_offline_threshold_is_not_listed(cast, visit, nurse, settings):
    settings.RECORDED_OFFLINE_AFTER_S = 120
    send_set(nurse, visit, recorded=(NOW - dt.timedelta(seconds=110)).isoformat())
    assert offline_list(chart_page(nurse, visit)) == ""
    send_set(nurse, visit, recorded=(NOW - dt.timedelta(seconds=130)).isoformat())
    assert offline_list(chart_page(nurse, visit)).count("<li>") == 1


def test_a_tablet_clock_a_little_ahead_is_held_to_the_servers_now(cast, visit, nurse):
    response = send_set(nurse, visit, recorded=(NOW + dt.timedelta(minutes=3)).isoformat())
    assert response.status_code == 200
    assert VitalSigns.objects.get(visit=visit).taken_at == NOW


@pytest.mark.parametrize("as_headers", [False, True], ids=["fields", "headers"])
@pytest.mark.parametrize(
    "recorded",
    [
        (NOW + dt.timedelta(minutes=10)).isoformat(),  # ahead of the server by more than a tablet clock drifts
        "2019-12-31T23:59:59+00:00",  # before the app existed
        "9999-12-31T23:59:59-05:00",  # past the end of time once converted to UTC
        "0001-01-01T00:00:00+05:00",  # before the start of time once converted to UTC
        "2026-11-20T08:20:00",  # naive: no offset
    ],
    ids=["ten-minutes-ahead", "before-2020", "year-9999", "year-1", "naive"],
)
def test_a_recorded_time_that_cannot_be_when_she_recorded_it_is_refused_and_nothing_saved(
    cast, visit, nurse, recorded, as_headers
):
    response = send_set(nurse, visit, recorded=recorded, as_headers=as_headers)

    assert response.status_code == 400
    assert "not readable" in response.content.decode()
    assert not VitalSigns.objects.filter(visit=visit).exists()
    assert not ClientWrite.objects.exists()


# --- discarding an entry of the outbox ----------------------------------------------------------------------------


def test_a_discarded_entry_is_recorded_audited_and_shown_on_the_chart(cast, visit, nurse):
    entry = uuid.uuid4()
    response = discard(nurse, visit, entry, client_at=FORTY_AGO.isoformat())

    assert response.status_code == 200 and response.json() == {"ok": True}
    write = ClientWrite.objects.get(client_id=entry)
    assert (write.visit, write.user, write.action) == (visit, cast.assigned_nurse, "vitals_add")
    assert write.discarded_reason == "Chart signed before it was sent" and write.is_discarded
    assert write.summary == "Vitals 08:20: T 36.8, P 76, BP 124/78" and write.client_at == FORTY_AGO
    assert not VitalSigns.objects.filter(visit=visit).exists()

    [log] = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(ClientWrite),
        object_pk=str(write.pk),
        action=LogEntry.Action.CREATE,
    )
    assert log.actor == cast.assigned_nurse

    listed = offline_list(chart_page(nurse, visit))
    assert "discarded on the tablet" in listed
    assert "Chart signed before it was sent" in listed and "Vitals 08:20: T 36.8, P 76, BP 124/78" in listed
    assert "Vital-sign set recorded 08:20" in listed and "Nora Fieldhouse" in listed


def test_a_late_replay_of_a_discarded_entry_is_refused_and_saves_nothing(cast, visit, nurse):
    entry = uuid.uuid4()
    assert discard(nurse, visit, entry).status_code == 200

    replay = send_set(nurse, visit, entry, recorded=FORTY_AGO.isoformat())

    assert replay.status_code == 409
    text = replay.content.decode()
    assert "Not saved: this entry was discarded at 09:00 (Chart signed before it was sent)." in text
    assert not VitalSigns.objects.filter(visit=visit).exists()
    assert ClientWrite.objects.count() == 1


def test_discarding_without_a_reason_is_refused_and_records_nothing(cast, visit, nurse):
    for reason in ("", "   "):
        response = discard(nurse, visit, uuid.uuid4(), reason=reason)
        assert response.status_code == 400
        assert response.json()["error"] == "Give the reason for discarding it."
    assert not ClientWrite.objects.exists()


def test_discarding_an_entry_of_another_visit_or_not_a_chart_write_is_refused(cast, visit, nurse):
    other = factories.infusing_visit(nurse_user=cast.assigned_nurse)  # hers too, but not this one
    for action_url in (
        vitals_url(other),
        reverse("visits:today"),
        reverse("visits:chart", args=[visit.pk]),
        reverse("visits:sign", args=[visit.pk]),
        "https://example.org/visits/1/vitals/",
        "not a url",
    ):
        response = discard(nurse, visit, uuid.uuid4(), action_url=action_url)
        assert response.status_code == 400, action_url
        assert response.json()["error"] == "That entry is not a write to this visit's chart.", action_url
    assert not ClientWrite.objects.exists()


def test_discarding_an_entry_already_saved_is_refused_and_changes_nothing(cast, visit, nurse):
    entry = uuid.uuid4()
    assert send_set(nurse, visit, entry, recorded=FORTY_AGO.isoformat()).status_code == 200

    response = discard(nurse, visit, entry)

    assert response.status_code == 409
    assert response.json()["error"] == "It was saved at 09:00: it is on the chart, nothing to discard."
    write = ClientWrite.objects.get(client_id=entry)
    assert not write.is_discarded and write.summary == ""
    assert VitalSigns.objects.filter(visit=visit).count() == 1


def test_discarding_the_same_entry_twice_keeps_one_record(cast, visit, nurse):
    entry = uuid.uuid4()
    first = discard(nurse, visit, entry)
    again = discard(nurse, visit, entry, reason="Sent twice")

    assert (first.status_code, again.status_code) == (200, 200)
    [write] = ClientWrite.objects.all()
    assert write.discarded_reason == "Chart signed before it was sent"  # the first one stands


@pytest.mark.parametrize("field", ["reason", "summary", "action_url", "client_id", "client_at"])
def test_a_nul_byte_in_a_discard_is_refused_not_a_server_error(cast, visit, nurse, field):
    response = discard(nurse, visit, uuid.uuid4(), **{field: "Wrong\x00patient"})
    assert response.status_code == 400
    assert "error" in response.json()
    assert not ClientWrite.objects.exists()


@pytest.mark.parametrize("client_id", ["not-a-uuid", "", "9" * 500])
def test_a_discard_with_an_unreadable_id_is_refused(cast, visit, nurse, client_id):
    response = discard(nurse, visit, client_id)
    assert response.status_code == 400
    assert response.json()["error"] in ("The entry's id is not readable.", "The entry's id is missing.")
    assert not ClientWrite.objects.exists()


@pytest.mark.parametrize(
    "client_at",
    [
        "9999-12-31T23:59:59-05:00",
        "2019-06-01T08:00:00Z",
        "2026-11-20T15:20:00+00:00",  # 20 minutes ahead
        "2026-11-20T08:20:00",  # no offset: which zone the tablet meant is unknown
    ],
)
def test_a_discard_with_an_implausible_recorded_time_is_refused(cast, visit, nurse, client_at):
    response = discard(nurse, visit, uuid.uuid4(), client_at=client_at)
    assert response.status_code == 400
    assert "error" in response.json()
    assert not ClientWrite.objects.exists()


def test_an_entry_refused_because_the_chart_was_signed_can_be_discarded(cast, visit, nurse):
    sign(visit, cast.assigned_nurse)
    entry = uuid.uuid4()
    refused = send_set(nurse, visit, entry, recorded=FORTY_AGO.isoformat())
    assert refused.status_code == 409 and "signed and locked" in refused.content.decode()
    assert not ClientWrite.objects.exists()

    response = discard(nurse, visit, entry, client_at=FORTY_AGO.isoformat())

    assert response.status_code == 200 and response.json() == {"ok": True}
    assert ClientWrite.objects.get(client_id=entry).is_discarded
    assert "discarded on the tablet" in offline_list(chart_page(nurse, visit))


def test_only_the_visits_nurse_can_discard_its_entries(cast, visit):
    cases = [(cast.unassigned_nurse, 404), (cast.coordinator, 403), (cast.patient_user, 403)]
    for user, status in cases:
        assert discard(client_for(user), visit, uuid.uuid4()).status_code == status, user.username
    anonymous = discard(client_for(None), visit, uuid.uuid4())
    assert anonymous.status_code == 302
    assert not ClientWrite.objects.exists()


def test_discard_answers_only_a_post(cast, visit, nurse):
    assert nurse.get(reverse("visits:outbox_discard", args=[visit.pk])).status_code == 405


# --- one section alone, for the outbox -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["vitals", "infusion", "checkin", "checklist", "reactions", "outcomes"])
def test_a_section_fetched_alone_is_just_that_section_without_an_audit_entry(cast, visit, nurse, key):
    url = reverse("visits:chart", args=[visit.pk]) + f"?section={key}"
    before = LogEntry.objects.count()

    response = nurse.get(url, headers={"HX-Request": "true"})

    assert response.status_code == 200
    part = response.content.decode()
    assert f'id="section-{key}"' in part
    assert part.count('id="section-') - part.count('id="section-' + key + "-") == 1  # no other section
    assert "<html" not in part and cast.patient.mrn not in part
    assert "HX-Trigger" not in response.headers
    assert LogEntry.objects.count() == before


def test_a_section_asked_for_without_htmx_is_the_whole_chart_and_audited(cast, visit, nurse):
    url = reverse("visits:chart", args=[visit.pk]) + "?section=vitals"
    before = LogEntry.objects.count()

    page = nurse.get(url).content.decode()

    assert "<html" in page and 'id="section-vitals"' in page and 'id="section-checkin"' in page
    assert LogEntry.objects.count() == before + 1


def test_an_unknown_section_is_the_whole_chart(cast, visit, nurse):
    page = nurse.get(reverse("visits:chart", args=[visit.pk]) + "?section=nope", headers={"HX-Request": "true"})
    assert "<html" in page.content.decode()


def test_a_section_of_a_visit_she_may_not_see_is_not_found(cast, visit):
    url = reverse("visits:chart", args=[visit.pk]) + "?section=vitals"
    assert client_for(cast.unassigned_nurse).get(url, headers={"HX-Request": "true"}).status_code == 404
