"""Nurse availability: the services, and the coordinator's page /schedule/nurses/<id>/."""

import html
from datetime import time

import pytest
import time_machine
from django.urls import reverse

from tests import factories
from tests.conftest import client_for
from tests.visits.board.test_assignment import NOW, at, available_nurse, visit_at
from visits.board import services as scheduling
from visits.board.services import SchedulingError
from visits.models import NurseProfile, TimeOff, WorkingHours


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def page(nurse):
    return reverse("schedule:nurse_availability", args=[nurse.pk])


def week_post(**overrides):
    """The page's form as a coordinator fills it: Monday to Friday 08:00–16:30, weekend off."""
    data = {
        "max_visits_per_day": "4",
        "travel_buffer_minutes": "45",
        "time_zone": "America/Chicago",
        "competencies": ["ivig", "port_access"],
    }
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday"):
        data |= {f"{day}_starts": "08:00", f"{day}_ends": "16:30"}
    data |= {"saturday_off": "on", "sunday_off": "on"}
    return data | overrides


# --- services --------------------------------------------------------------------------------------------------------


def test_a_profile_is_created_on_demand_with_the_defaults(db):
    nurse = factories.nurse()
    profile = scheduling.nurse_profile_get_or_create(nurse=nurse)
    assert (profile.travel_buffer_minutes, profile.max_visits_per_day, profile.competencies) == (30, 3, [])
    assert scheduling.nurse_profile_get_or_create(nurse=nurse).pk == profile.pk


def test_the_working_week_is_stored_and_days_off_are_cleared(db):
    nurse = available_nurse("Nora")  # every day 08:00–17:00
    scheduling.working_week_set(nurse=nurse, week={0: (time(7), time(15)), 2: (time(9), time(18))})
    assert list(WorkingHours.objects.filter(nurse=nurse).values_list("weekday", "starts", "ends")) == [
        (0, time(7), time(15)),
        (2, time(9), time(18)),
    ]


def test_a_working_day_ending_before_it_starts_is_refused_and_nothing_saved(db):
    nurse = available_nurse("Nora")
    with pytest.raises(SchedulingError, match="end after it starts"):
        scheduling.working_hours_set(nurse=nurse, weekday=0, starts=time(17), ends=time(8))
    assert WorkingHours.objects.get(nurse=nurse, weekday=0).starts == time(8)


def test_time_off_ending_before_it_starts_is_refused(db):
    nurse = available_nurse("Nora")
    with pytest.raises(SchedulingError, match="end after it starts"):
        scheduling.time_off_add(nurse=nurse, starts_at=at(25, 0), ends_at=at(24, 0))
    assert not TimeOff.objects.exists()


def test_availability_is_only_for_nurses(db):
    coordinator = factories.coordinator()
    with pytest.raises(SchedulingError, match="Only active nurses"):
        scheduling.nurse_profile_get_or_create(nurse=coordinator)
    assert not NurseProfile.objects.exists()


def test_an_unknown_competency_is_refused(db):
    nurse = available_nurse("Nora")
    with pytest.raises(SchedulingError, match="Unknown competency"):
        scheduling.nurse_profile_update(
            nurse=nurse,
            competencies=["juggling"],
            max_visits_per_day=3,
            travel_buffer_minutes=30,
            time_zone="America/Chicago",
        )


# --- the page --------------------------------------------------------------------------------------------------------


def test_the_page_shows_seven_days_and_the_defaults_without_creating_a_profile(cast):
    response = client_for(cast.coordinator).get(page(cast.assigned_nurse))
    assert response.status_code == 200
    page_html = response.content.decode()
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        assert f">{day}<" in page_html
    assert 'name="sunday_off"' in page_html and 'name="monday_starts"' in page_html
    assert 'name="competencies"' in page_html
    assert not NurseProfile.objects.filter(nurse=cast.assigned_nurse).exists()


def test_saving_the_page_stores_hours_competencies_and_limits(cast):
    nurse = cast.assigned_nurse
    response = client_for(cast.coordinator).post(page(nurse), week_post())
    assert response.status_code == 302
    profile = NurseProfile.objects.get(nurse=nurse)
    assert (profile.max_visits_per_day, profile.travel_buffer_minutes) == (4, 45)
    assert sorted(profile.competencies) == ["ivig", "port_access"]
    assert list(WorkingHours.objects.filter(nurse=nurse).values_list("weekday", "starts", "ends")) == [
        (day, time(8), time(16, 30)) for day in range(5)
    ]
    shown = client_for(cast.coordinator).get(page(nurse)).content.decode()
    assert 'value="16:30"' in shown


def test_a_day_ending_before_it_starts_is_explained_next_to_the_field_and_nothing_is_saved(cast):
    nurse = cast.assigned_nurse
    response = client_for(cast.coordinator).post(page(nurse), week_post(tuesday_starts="17:00", tuesday_ends="08:00"))
    assert response.status_code == 400
    page_html = response.content.decode()
    message_at = page_html.index("The end (08:00) must be after the start (17:00).")
    # under the field it is about: after Tuesday's end, before Tuesday's "Off"
    assert page_html.index('name="tuesday_ends"') < message_at < page_html.index('name="tuesday_off"')
    assert not NurseProfile.objects.filter(nurse=nurse).exists()
    assert not WorkingHours.objects.filter(nurse=nurse).exists()


def test_a_day_with_neither_hours_nor_off_is_explained(cast):
    data = week_post()
    del data["sunday_off"]
    response = client_for(cast.coordinator).post(page(cast.assigned_nurse), data)
    assert response.status_code == 400
    assert "Give Sunday's hours, or tick “Off”." in html.unescape(response.content.decode())


def test_an_out_of_range_daily_maximum_is_refused(cast):
    response = client_for(cast.coordinator).post(page(cast.assigned_nurse), week_post(max_visits_per_day="0"))
    assert response.status_code == 400
    assert not NurseProfile.objects.filter(nurse=cast.assigned_nurse).exists()


def test_time_off_is_added_in_the_nurses_time_zone_and_removed(cast):
    nurse = cast.assigned_nurse
    client = client_for(cast.coordinator)
    client.post(page(nurse), week_post())  # the nurse works in Chicago
    add = reverse("schedule:time_off_add", args=[nurse.pk])
    response = client.post(add, {"starts_at": "2026-11-23T00:00", "ends_at": "2026-11-26T00:00", "reason": "vacation"})
    assert response.status_code == 302
    time_off = TimeOff.objects.get(nurse=nurse)
    assert (time_off.starts_at, time_off.ends_at, time_off.reason) == (at(23, 0), at(26, 0), "vacation")
    assert "vacation" in client.get(page(nurse)).content.decode()

    remove = reverse("schedule:time_off_remove", args=[nurse.pk, time_off.pk])
    assert client.post(remove).status_code == 302
    assert not TimeOff.objects.exists()


def test_time_off_ending_before_it_starts_is_explained_and_not_saved(cast):
    add = reverse("schedule:time_off_add", args=[cast.assigned_nurse.pk])
    response = client_for(cast.coordinator).post(add, {"starts_at": "2026-11-25T00:00", "ends_at": "2026-11-23T00:00"})
    assert response.status_code == 400
    assert "The time off must end after it starts." in response.content.decode()
    assert not TimeOff.objects.exists()


def test_time_off_with_a_nonsense_date_is_explained_and_not_saved(cast):
    add = reverse("schedule:time_off_add", args=[cast.assigned_nurse.pk])
    response = client_for(cast.coordinator).post(add, {"starts_at": "0001-01-01T00:00", "ends_at": "not a date"})
    assert response.status_code == 400
    assert "Check the year of the start" in response.content.decode()
    assert not TimeOff.objects.exists()


def test_adding_time_off_warns_about_visits_still_assigned_then(cast):
    nurse = cast.assigned_nurse
    client = client_for(cast.coordinator)
    client.post(page(nurse), week_post())
    visit_at(at(24, 9), nurse=nurse, patient=cast.patient)
    add = reverse("schedule:time_off_add", args=[nurse.pk])
    response = client.post(add, {"starts_at": "2026-11-23T00:00", "ends_at": "2026-11-26T00:00"}, follow=True)
    assert "is still assigned during this time off" in response.content.decode()
    assert cast.patient.full_name in response.content.decode()


def test_removing_another_nurses_time_off_is_not_found(cast):
    other = scheduling.time_off_add(nurse=cast.unassigned_nurse, starts_at=at(23, 0), ends_at=at(24, 0))
    remove = reverse("schedule:time_off_remove", args=[cast.assigned_nurse.pk, other.pk])
    assert client_for(cast.coordinator).post(remove).status_code == 404
    assert TimeOff.objects.filter(pk=other.pk).exists()


@pytest.mark.parametrize("who", ["missing", "patient_user", "coordinator"])
def test_the_page_is_only_for_active_nurses(cast, who):
    nurse_id = 999_999 if who == "missing" else getattr(cast, who).pk
    url = reverse("schedule:nurse_availability", args=[nurse_id])
    assert client_for(cast.coordinator).get(url).status_code == 404


def test_nurses_cannot_edit_availability(cast):
    response = client_for(cast.assigned_nurse).post(page(cast.assigned_nurse), week_post())
    assert response.status_code == 403
    assert not NurseProfile.objects.exists()
