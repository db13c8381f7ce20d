"""The home's location: set from the assigned nurse's tablet at the home (audited, who and when), or by hand."""

from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from patients import services
from patients.models import HomeLocationSource, Patient
from tests.conftest import client_for

SPRINGFIELD = {"latitude": "39.7817", "longitude": "-89.6501", "accuracy_m": "12"}


@pytest.fixture
def homeless(cast):
    """The cast's patient, registered without the home's coordinates."""
    Patient.objects.filter(pk=cast.patient.pk).update(latitude=None, longitude=None)
    cast.patient.refresh_from_db()
    return cast.patient


def post(client, patient, data, **headers):
    return client.post(reverse("patients:home_locate", args=[patient.pk]), data, **headers)


def test_the_assigned_nurse_sets_the_home_from_her_tablet_and_it_is_recorded_who_and_when(cast, homeless):
    chart = reverse("visits:chart", args=[1])
    response = post(client_for(cast.assigned_nurse), homeless, {**SPRINGFIELD, "confirm": "on", "next": chart})
    assert response.status_code == 302 and response["Location"] == chart
    homeless.refresh_from_db()
    assert (homeless.latitude, homeless.longitude) == (Decimal("39.781700"), Decimal("-89.650100"))
    assert homeless.home_location_source == HomeLocationSource.TABLET
    assert homeless.home_located_by == cast.assigned_nurse and homeless.home_located_at is not None
    entry = LogEntry.objects.get_for_object(homeless).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert "latitude" in entry.changes_dict and entry.actor == cast.assigned_nurse


def test_the_answer_to_the_chart_replaces_only_the_home_location_block(cast, homeless):
    response = post(client_for(cast.assigned_nurse), homeless, {**SPRINGFIELD, "confirm": "on"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and 'id="home-location"' in body
    assert "home location saved" in body and "<html" not in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**SPRINGFIELD}, "Tick the box to confirm you are at the patient&#x27;s home."),
        ({**SPRINGFIELD, "confirm": "on", "latitude": "91"}, "did not share a usable location"),
        ({**SPRINGFIELD, "confirm": "on", "longitude": "-180.5"}, "did not share a usable location"),
        ({**SPRINGFIELD, "confirm": "on", "latitude": "nan"}, "did not share a usable location"),
        ({**SPRINGFIELD, "confirm": "on", "longitude": "inf"}, "did not share a usable location"),
        ({**SPRINGFIELD, "confirm": "on", "latitude": "39.7\x00"}, "did not share a usable location"),
        ({**SPRINGFIELD, "confirm": "on", "latitude": "1e309"}, "did not share a usable location"),
        ({**SPRINGFIELD, "confirm": "on", "latitude": ""}, "did not share a usable location"),
        ({**SPRINGFIELD, "confirm": "on", "accuracy_m": "-3"}, "did not share a usable location"),
        ({**SPRINGFIELD, "confirm": "on", "accuracy_m": "850"}, "only accurate to ±850 m"),
        ({**SPRINGFIELD, "confirm": "on", "next": "https://elsewhere.example/\x00"}, ""),
    ],
)
def test_bad_input_gets_a_message_beside_the_button_and_changes_nothing(cast, homeless, data, message):
    response = post(client_for(cast.assigned_nurse), homeless, data, HTTP_HX_REQUEST="true")
    homeless.refresh_from_db()
    if not message:  # an unsafe "next" is ignored, never followed
        assert response.status_code == 200 and "elsewhere" not in response.content.decode()
        return
    assert response.status_code == 400
    assert message in response.content.decode()
    assert homeless.latitude is None and homeless.longitude is None and homeless.home_located_by is None


def test_a_plain_post_that_is_refused_goes_back_with_the_reason(cast, homeless):
    client = client_for(cast.assigned_nurse)
    response = post(client, homeless, {**SPRINGFIELD, "accuracy_m": "500", "confirm": "on"}, follow=True)
    assert "only accurate to ±500 m" in response.content.decode()
    homeless.refresh_from_db()
    assert homeless.latitude is None


def test_a_home_that_already_has_a_location_is_not_moved_from_a_tablet(cast):
    before = (cast.patient.latitude, cast.patient.longitude)
    response = post(
        client_for(cast.assigned_nurse),
        cast.patient,
        {"latitude": "40", "longitude": "-88", "accuracy_m": "5", "confirm": "on"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400 and "already has a location" in response.content.decode()
    cast.patient.refresh_from_db()
    assert (cast.patient.latitude, cast.patient.longitude) == before


@pytest.mark.parametrize("who", ["unassigned_nurse", "coordinator", "patient_user"])
def test_only_a_nurse_on_the_care_team_sets_it_from_a_tablet(cast, homeless, who):
    response = post(client_for(getattr(cast, who)), homeless, {**SPRINGFIELD, "confirm": "on"})
    assert response.status_code in (403, 404)
    homeless.refresh_from_db()
    assert homeless.latitude is None


def test_the_service_refuses_a_nurse_outside_the_care_team(cast, homeless):
    with pytest.raises(services.ServiceError, match="care team"):
        services.patient_home_located_from_tablet(
            patient=homeless, nurse=cast.unassigned_nurse, latitude=39.78, longitude=-89.65, accuracy_m=10
        )
    with pytest.raises(services.ServiceError, match="impossible latitude"):
        services.patient_home_located_from_tablet(
            patient=homeless, nurse=cast.assigned_nurse, latitude=float("nan"), longitude=-89.65, accuracy_m=10
        )


def test_coordinates_typed_on_the_profile_say_who_entered_them(cast, homeless):
    client = client_for(cast.coordinator)
    form = client.get(reverse("patients:edit", args=[homeless.pk])).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "height_value": "165",
            "height_unit": "cm",
            "latitude": "39.8",
            "longitude": "-89.6",
            "date_of_birth": homeless.date_of_birth.isoformat(),
        }
    )
    data = {key: ("on" if value is True else value) for key, value in data.items() if value is not False}
    response = client.post(reverse("patients:edit", args=[homeless.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    homeless.refresh_from_db()
    assert homeless.latitude == Decimal("39.8") and homeless.home_location_source == HomeLocationSource.ENTERED
    assert homeless.home_located_by == cast.coordinator
    page = client.get(reverse("patients:detail", args=[homeless.pk])).content.decode()
    assert "entered by hand by Carmen Ortiz" in page


@pytest.mark.parametrize(
    ("latitude", "longitude", "message"),
    [
        ("91", "-89.6", "Ensure this value is less than or equal to 90."),
        ("39.8", "-181", "Ensure this value is greater than or equal to -180."),
        ("39.8\x00", "-89.6", "Enter a number."),
        ("39.8", "", "Give both latitude and longitude of the home, or neither."),
        ("1" * 40, "-89.6", "Ensure that there are no more than"),
    ],
)
def test_bad_coordinates_on_the_profile_are_refused_at_the_field(cast, homeless, latitude, longitude, message):
    client = client_for(cast.coordinator)
    form = client.get(reverse("patients:edit", args=[homeless.pk])).context["form"]
    data = {name: value for name, value in form.initial.items() if value not in (None, False)}
    data = {key: ("on" if value is True else value) for key, value in data.items()}
    data.update({"height_value": "165", "height_unit": "cm", "latitude": latitude, "longitude": longitude})
    data["date_of_birth"] = homeless.date_of_birth.isoformat()
    response = client.post(reverse("patients:edit", args=[homeless.pk]), data)
    assert response.status_code == 200 and message in response.content.decode()
    homeless.refresh_from_db()
    assert homeless.latitude is None


def test_a_patient_page_without_home_coordinates_says_check_ins_cannot_be_verified(cast, homeless):
    page = client_for(cast.coordinator).get(reverse("patients:detail", args=[homeless.pk])).content.decode()
    assert "No location for the home: check-ins cannot be verified" in page
