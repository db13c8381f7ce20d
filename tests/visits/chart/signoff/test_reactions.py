"""Reactions on the visit chart (issue 4 item 8; DESIGN §3 CTCAE v5 grades and what each requires)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patients.services import ServiceError
from tests import factories
from tests.conftest import client_for
from visits.alerts.selectors import collect_alerts
from visits.chart.rules import ChartLocked
from visits.chart.signoff.services import reaction_record, step_back_rates
from visits.models import RateChange, Reaction, Visit


@pytest.fixture
def visit(cast):
    """Started two hours ago at 42 mL/hr, raised to 84 and then to 126 mL/hr."""
    order = factories.OrderFactory(patient=cast.patient)
    return factories.infusing_visit(nurse_user=cast.assigned_nurse, order=order, patient=cast.patient)


def record(visit, nurse, **overrides):
    now = timezone.now()
    values = {
        "visit": visit,
        "nurse": nurse,
        "onset_at": now - timedelta(minutes=10),
        "symptoms": ["headache", "flushing"],
        "grade": 1,
        "action": Reaction.Action.CONTINUED,
    }
    values.update(overrides)
    return reaction_record(**values)


def rates(visit) -> list[tuple[str, Decimal]]:
    return [(change.kind, change.rate_ml_per_hr) for change in RateChange.objects.filter(visit=visit)]


def local_input(moment, visit) -> str:
    return timezone.localtime(moment, visit.patient.zone).strftime("%Y-%m-%dT%H:%M")


# --- the service ---------------------------------------------------------------------------------------------------


def test_mild_reaction_is_recorded_with_its_details(cast, visit):
    reaction = record(
        visit,
        cast.assigned_nurse,
        symptoms=["itching", "other"],
        other_symptom="tingling lips",
        medications_given="Diphenhydramine 25 mg PO",
        outcome="Settled in 20 min",
    )
    reaction.refresh_from_db()
    assert reaction.symptoms == ["itching", "other"]
    assert reaction.other_symptom == "tingling lips"
    assert reaction.recorded_by == cast.assigned_nurse
    assert reaction.medications_given == "Diphenhydramine 25 mg PO"


def test_grade_3_without_stopping_and_physician_time_is_refused_at_both_fields(cast, visit):
    with pytest.raises(ValidationError) as refused:
        record(visit, cast.assigned_nurse, grade=3, action=Reaction.Action.PAUSED)
    errors = refused.value.message_dict
    assert "requires stopping" in errors["action"][0]
    assert "notified" in errors["physician_notified_at"][0]
    assert not Reaction.objects.exists()


@pytest.mark.parametrize("grade", [3, 4, 5])
def test_grade_3_or_more_stopped_without_physician_time_is_refused(cast, visit, grade):
    with pytest.raises(ValidationError) as refused:
        record(visit, cast.assigned_nurse, grade=grade, action=Reaction.Action.STOPPED)
    assert set(refused.value.message_dict) == {"physician_notified_at"}
    assert not Reaction.objects.exists()


def test_grade_3_with_physician_time_but_not_stopped_is_refused(cast, visit):
    with pytest.raises(ValidationError) as refused:
        record(
            visit,
            cast.assigned_nurse,
            grade=3,
            action=Reaction.Action.CONTINUED,
            physician_notified_at=timezone.now() - timedelta(minutes=2),
        )
    assert set(refused.value.message_dict) == {"action"}


def test_grade_4_stopped_with_the_physician_notified_is_recorded(cast, visit):
    reaction = record(
        visit,
        cast.assigned_nurse,
        grade=4,
        symptoms=["shortness_of_breath", "low_blood_pressure"],
        action=Reaction.Action.STOPPED,
        medications_given="Epinephrine 0.3 mg IM 10:05",
        physician_notified_at=timezone.now() - timedelta(minutes=5),
    )
    assert reaction.pk and reaction.grade == 4


def test_grade_3_reaction_alerts_the_coordinator_at_once(cast, visit):
    record(
        visit,
        cast.assigned_nurse,
        grade=3,
        symptoms=["chest_tightness"],
        action=Reaction.Action.STOPPED,
        physician_notified_at=timezone.now() - timedelta(minutes=1),
    )
    alerts = collect_alerts(kinds=["severe_reaction"])
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.severity.label == "Urgent"
    assert cast.patient.full_name in alert.title and "Grade 3" in alert.title
    assert "chest tightness" in alert.detail
    assert alert.url == reverse("visits:chart", args=[visit.pk]) + "#section-reactions"


def test_mild_reaction_does_not_alert_the_coordinator(cast, visit):
    record(visit, cast.assigned_nurse, grade=2, action=Reaction.Action.PAUSED)
    assert collect_alerts(kinds=["severe_reaction"]) == []


def test_severe_reaction_leaves_the_queue_after_a_week(cast, visit):
    record(
        visit,
        cast.assigned_nurse,
        grade=3,
        action=Reaction.Action.STOPPED,
        physician_notified_at=timezone.now() - timedelta(minutes=1),
    )
    assert collect_alerts(now=timezone.now() + timedelta(days=2), kinds=["severe_reaction"])[0].severity.label == (
        "Soon"
    )
    assert collect_alerts(now=timezone.now() + timedelta(days=8), kinds=["severe_reaction"]) == []


def test_grade_1_back_to_previous_rate_records_the_rate_before_the_latest_increase(cast, visit):
    record(visit, cast.assigned_nurse, grade=1, action=Reaction.Action.PREVIOUS_RATE)
    kind, rate = rates(visit)[-1]
    assert (kind, rate) == (RateChange.Kind.DECREASE, Decimal("84.0"))
    change = RateChange.objects.filter(visit=visit).last()
    assert change.recorded_by == cast.assigned_nurse
    assert "126.0" in change.note


def test_step_back_is_optional(cast, visit):
    before = rates(visit)
    record(visit, cast.assigned_nurse, grade=1, action=Reaction.Action.PREVIOUS_RATE, step_back=False)
    assert rates(visit) == before
    assert Reaction.objects.count() == 1


def test_a_second_step_back_is_refused_and_changes_nothing(cast, visit):
    record(visit, cast.assigned_nurse, grade=1, action=Reaction.Action.PREVIOUS_RATE)
    before = rates(visit)
    with pytest.raises(ValidationError) as refused:
        record(visit, cast.assigned_nurse, grade=1, action=Reaction.Action.PREVIOUS_RATE)
    assert "already runs at 84.0" in refused.value.message_dict["action"][0]
    assert rates(visit) == before
    assert Reaction.objects.count() == 1


def test_step_back_at_the_starting_rate_is_refused(cast):
    visit = factories.infusing_visit(nurse_user=cast.assigned_nurse, rates=(42,), patient=cast.patient)
    with pytest.raises(ValidationError) as refused:
        record(visit, cast.assigned_nurse, action=Reaction.Action.PREVIOUS_RATE)
    assert "not been raised" in refused.value.message_dict["action"][0]
    assert not Reaction.objects.exists()
    assert len(rates(visit)) == 1


def test_step_back_while_paused_is_refused(cast, visit):
    RateChange.objects.create(
        visit=visit, at=timezone.now() - timedelta(minutes=1), kind=RateChange.Kind.PAUSE, rate_ml_per_hr=0
    )
    with pytest.raises(ValidationError) as refused:
        record(visit, cast.assigned_nurse, action=Reaction.Action.PREVIOUS_RATE)
    assert "paused" in refused.value.message_dict["action"][0]


def test_previous_rate_follows_a_resume_and_a_later_increase():
    kinds = RateChange.Kind
    changes = [
        RateChange(kind=kinds.START, rate_ml_per_hr=Decimal(42)),
        RateChange(kind=kinds.INCREASE, rate_ml_per_hr=Decimal(84)),
        RateChange(kind=kinds.PAUSE, rate_ml_per_hr=Decimal(0)),
        RateChange(kind=kinds.RESUME, rate_ml_per_hr=Decimal(84)),
        RateChange(kind=kinds.INCREASE, rate_ml_per_hr=Decimal(126)),
    ]
    step = step_back_rates(changes)
    assert (step.current_rate, step.previous_rate) == (126, 84)


def test_grade_3_cannot_go_back_to_the_previous_rate(cast, visit):
    before = rates(visit)
    with pytest.raises(ValidationError) as refused:
        record(
            visit,
            cast.assigned_nurse,
            grade=3,
            action=Reaction.Action.PREVIOUS_RATE,
            physician_notified_at=timezone.now(),
        )
    assert "requires stopping" in refused.value.message_dict["action"][0]
    assert rates(visit) == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"symptoms": []}, "symptoms"),
        ({"symptoms": ["sneezing"]}, "symptoms"),
        ({"symptoms": ["other"], "other_symptom": "  "}, "other_symptom"),
        ({"onset_at": timezone.now() + timedelta(hours=1)}, "onset_at"),
        ({"onset_at": timezone.now() - timedelta(days=3)}, "onset_at"),
        ({"physician_notified_at": timezone.now() - timedelta(hours=1)}, "physician_notified_at"),
        ({"physician_notified_at": timezone.now() + timedelta(hours=1)}, "physician_notified_at"),
        ({"grade": 6}, "grade"),
        ({"grade": 0}, "grade"),
        ({"action": "ignored"}, "action"),
    ],
)
def test_impossible_reaction_is_refused_at_its_field(cast, visit, overrides, field):
    with pytest.raises(ValidationError) as refused:
        record(visit, cast.assigned_nurse, **overrides)
    assert field in refused.value.message_dict
    assert not Reaction.objects.exists()


def test_only_the_visits_nurse_records_a_reaction(cast, visit):
    other = factories.nurse(username="nurse-other")
    with pytest.raises(ServiceError):
        record(visit, other)
    assert not Reaction.objects.exists()


def test_signed_chart_refuses_a_reaction(cast, visit):
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.SIGNED)
    visit.refresh_from_db()
    with pytest.raises(ChartLocked):
        record(visit, cast.assigned_nurse)


# --- the chart -----------------------------------------------------------------------------------------------------


def reaction_url(visit) -> str:
    return reverse("visits:reaction_add", args=[visit.pk])


def posted(visit, **overrides):
    data = {
        "onset_at": local_input(timezone.now() - timedelta(minutes=5), visit),
        "symptoms": ["headache", "chills"],
        "grade": "1",
        "action": "continued",
        "medications_given": "",
        "physician_notified_at": "",
        "outcome": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_chart_shows_every_grade_with_its_meaning(cast, visit):
    page = client_for(cast.assigned_nurse).get(reverse("visits:chart", args=[visit.pk])).content.decode()
    for meaning in (
        "Grade 1: Mild; no interruption",
        "Grade 2: Interruption needed; responds promptly",
        "Grade 3: Prolonged, recurring, or needing hospital care",
        "Grade 4: Life-threatening",
        "Grade 5: Death",
    ):
        assert meaning in page
    for symptom in ("Rash or hives", "Chest tightness", "Shortness of breath", "Low blood pressure", "Back pain"):
        assert symptom in page
    assert "from 126.0 to 84.0 mL/hr" in page


def test_nurse_records_a_reaction_from_the_chart_with_htmx(cast, visit):
    response = client_for(cast.assigned_nurse).post(reaction_url(visit), posted(visit), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'id="section-reactions"' in response.content.decode()
    reaction = Reaction.objects.get()
    assert reaction.symptoms == ["headache", "chills"]
    assert "Grade 1" in response.content.decode()


def test_onset_is_read_in_the_patients_time_zone(cast, visit):
    onset = (timezone.now() - timedelta(minutes=7)).replace(second=0, microsecond=0)
    client_for(cast.assigned_nurse).post(reaction_url(visit), posted(visit, onset_at=local_input(onset, visit)))
    assert Reaction.objects.get().onset_at == onset


def test_plain_post_goes_back_to_the_section(cast, visit):
    response = client_for(cast.assigned_nurse).post(reaction_url(visit), posted(visit))
    assert response.status_code == 302
    assert response["Location"] == reverse("visits:chart", args=[visit.pk]) + "#section-reactions"


def test_grade_3_posted_without_stop_or_physician_time_shows_both_messages(cast, visit):
    response = client_for(cast.assigned_nurse).post(
        reaction_url(visit), posted(visit, grade="3", action="paused"), headers={"HX-Request": "true"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "A grade 3 reaction requires stopping the infusion" in html
    assert "give the time they were notified" in html
    assert not Reaction.objects.exists()


def test_grade_1_step_back_from_the_chart_records_the_previous_rate(cast, visit):
    response = client_for(cast.assigned_nurse).post(
        reaction_url(visit), posted(visit, action="previous_rate"), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert rates(visit)[-1] == (RateChange.Kind.DECREASE, Decimal("84.0"))
    # The infusion section must show the new rate too, so the whole chart reloads.
    assert response["HX-Refresh"] == "true"


def test_grade_3_posted_properly_shows_on_the_alert_queue(cast, visit):
    client_for(cast.assigned_nurse).post(
        reaction_url(visit),
        posted(
            visit,
            grade="3",
            action="stopped",
            symptoms=["shortness_of_breath"],
            physician_notified_at=local_input(timezone.now(), visit),
        ),
    )
    page = client_for(cast.coordinator).get(reverse("alerts:queue")).content.decode()
    assert f"Grade 3 reaction: {cast.patient.full_name}" in page


def test_nurse_is_told_the_coordinator_was_alerted(cast, visit):
    response = client_for(cast.assigned_nurse).post(
        reaction_url(visit),
        posted(
            visit,
            grade="4",
            action="stopped",
            symptoms=["low_blood_pressure"],
            physician_notified_at=local_input(timezone.now(), visit),
        ),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Grade 4 reaction recorded; the coordinator has been alerted." in response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"symptoms": None}, "Tick at least one symptom."),
        ({"symptoms": ["sneezing"]}, "sneezing is not one of them"),
        ({"grade": "three"}, "Choose a grade from 1 to 5."),
        ({"grade": "7"}, "Choose a grade from 1 to 5."),
        ({"grade": ""}, "Choose a grade."),
        ({"action": "ignored"}, "Choose an action from the list."),
        ({"onset_at": "yesterday"}, "Give a date and time like"),
        ({"onset_at": ""}, "Give the time."),
        ({"onset_at": "0001-01-01T00:00"}, "Check the year"),
        ({"physician_notified_at": "9999-12-31T23:59"}, "Check the year"),
        ({"symptoms": ["other"], "other_symptom": ""}, "Say what the other symptom is."),
    ],
)
def test_bad_reaction_input_gives_a_field_message_and_changes_nothing(cast, visit, overrides, message):
    before = rates(visit)
    response = client_for(cast.assigned_nurse).post(
        reaction_url(visit), posted(visit, **overrides), headers={"HX-Request": "true"}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Reaction.objects.exists()
    assert rates(visit) == before


def test_plain_post_with_an_error_shows_the_whole_chart_with_the_message(cast, visit):
    response = client_for(cast.assigned_nurse).post(reaction_url(visit), posted(visit, symptoms=None))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Tick at least one symptom." in html
    assert 'id="section-signoff"' in html


def test_another_nurse_on_the_care_team_cannot_record_a_reaction(cast, visit):
    other = factories.nurse(username="nurse-colleague")
    factories.on_care_team(cast.patient, other)
    response = client_for(other).post(reaction_url(visit), posted(visit))
    assert response.status_code == 403
    assert not Reaction.objects.exists()


def test_chart_queries_do_not_grow_with_reactions(cast, visit):
    client = client_for(cast.assigned_nurse)
    url = reverse("visits:chart", args=[visit.pk])
    record(visit, cast.assigned_nurse)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for minutes in range(5):
        record(visit, cast.assigned_nurse, onset_at=timezone.now() - timedelta(minutes=minutes), symptoms=["nausea"])
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


def test_a_reaction_from_a_tablet_that_has_not_seen_the_signature_is_refused(cast, visit):
    stale = Visit.objects.get(pk=visit.pk)
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.SIGNED)
    with pytest.raises(ChartLocked):
        record(stale, cast.assigned_nurse)
    assert not Reaction.objects.exists()
