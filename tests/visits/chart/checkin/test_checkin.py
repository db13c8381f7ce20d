"""Check-in and check-out (electronic visit verification): the service's rules, the buttons, the exception queue."""

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from patients.services import ServiceError
from tests import factories
from tests.conftest import client_for
from visits.alerts.selectors import collect_alerts
from visits.chart.checkin.services import (
    EARTH_RADIUS_M,
    CheckInConflict,
    distance_m,
    distance_text,
    visit_check_in,
    visit_check_out,
)
from visits.chart.rules import ChartLocked
from visits.models import Visit, VisitVerification

# Friday 20 November 2026, 9:00 am in Chicago (the factories' patient time zone).
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
HOME = (Decimal("39.781700"), Decimal("-89.650100"))  # PatientFactory's home


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def north_of_home(metres: float) -> tuple[float, float]:
    """A point ``metres`` due north of the factories' home."""
    return float(HOME[0]) + math.degrees(metres / EARTH_RADIUS_M), float(HOME[1])


@pytest.fixture
def visit(cast):
    return factories.VisitFactory(
        order=factories.OrderFactory(patient=cast.patient),
        patient=cast.patient,
        nurse=cast.assigned_nurse,
        planned_start=NOW,
    )


def check_in(visit, nurse, *, at=NOW, location=(None, None), accuracy_m=None):
    latitude, longitude = location
    return visit_check_in(
        visit=visit, nurse=nurse, at=at, latitude=latitude, longitude=longitude, accuracy_m=accuracy_m
    )


def check_out(visit, nurse, *, at=NOW + dt.timedelta(hours=4), location=(None, None)):
    latitude, longitude = location
    return visit_check_out(visit=visit, nurse=nurse, at=at, latitude=latitude, longitude=longitude)


# --- Distance ------------------------------------------------------------------------------------------


def test_one_degree_of_latitude_is_about_111_km():
    assert distance_m(0, 0, 1, 0) == pytest.approx(111_195, abs=1)


def test_distance_to_the_same_point_is_zero_and_symmetric():
    assert distance_m(39.7817, -89.6501, 39.7817, -89.6501) == 0
    assert distance_m(39.7817, -89.6501, 40.0, -89.0) == pytest.approx(distance_m(40.0, -89.0, 39.7817, -89.6501))


@pytest.mark.parametrize(("metres", "words"), [(0, "0 m"), (999, "999 m"), (1000, "1.0 km"), (1234, "1.2 km")])
def test_distance_in_words(metres, words):
    assert distance_text(metres) == words


# --- Check-in --------------------------------------------------------------------------------------------


def test_check_in_199_m_from_the_home_is_verified(visit, cast):
    verification = check_in(visit, cast.assigned_nurse, location=north_of_home(199), accuracy_m=12.4)

    assert verification.check_in_distance_m == 199
    assert verification.check_in_verified is True
    assert verification.check_in_accuracy_m == 12


def test_check_in_201_m_from_the_home_is_saved_but_not_verified(visit, cast):
    verification = check_in(visit, cast.assigned_nurse, location=north_of_home(201))

    assert verification.check_in_distance_m == 201
    assert verification.check_in_verified is False
    assert VisitVerification.objects.filter(visit=visit).exists()


def test_check_in_exactly_at_the_radius_counts_as_within_it(visit, cast):
    assert check_in(visit, cast.assigned_nurse, location=north_of_home(200)).check_in_verified is True


def test_service_names_the_therapy_and_the_product_once(cast):
    order = factories.OrderFactory(patient=cast.patient, product=factories.product("Cyclophosphamide"))
    visit = factories.VisitFactory(order=order, patient=cast.patient, nurse=cast.assigned_nurse, planned_start=NOW)

    assert check_in(visit, cast.assigned_nurse).service == "Cyclophosphamide infusion"


def test_the_radius_comes_from_the_checkin_radius_setting(visit, cast, settings):
    settings.CHECKIN_RADIUS_M = 500

    assert check_in(visit, cast.assigned_nurse, location=north_of_home(450)).check_in_verified is True


def test_check_in_records_the_six_elements_and_moves_the_visit_to_checked_in(visit, cast):
    latitude, longitude = north_of_home(20)

    verification = check_in(visit, cast.assigned_nurse, location=(latitude, longitude))

    verification.refresh_from_db()
    assert "Octagam 10%" in verification.service and "IVIG" in verification.service  # type of service
    assert verification.visit.patient == cast.patient  # patient
    assert verification.nurse == cast.assigned_nurse  # nurse
    assert verification.checked_in_at == NOW  # date and time in
    assert verification.check_in_latitude == Decimal(str(round(latitude, 6)))  # location
    assert verification.check_in_longitude == HOME[1]
    assert verification.version == 1
    visit.refresh_from_db()
    assert visit.status == Visit.Status.CHECKED_IN


def test_check_in_without_a_location_is_saved_as_not_verified_and_goes_to_the_alert_queue(visit, cast):
    verification = check_in(visit, cast.assigned_nurse)

    assert verification.check_in_verified is False
    assert verification.check_in_distance_m is None
    assert verification.check_in_accuracy_m is None
    visit.refresh_from_db()
    assert visit.status == Visit.Status.CHECKED_IN
    [alert] = [alert for alert in collect_alerts() if alert.kind == "checkin_exception"]
    assert alert.about == verification
    assert "No location shared" in alert.detail
    assert alert.url == reverse("visits:chart", args=[visit.pk]) + "#section-checkin"


def test_check_in_at_a_home_without_coordinates_is_not_verified(cast):
    patient = factories.PatientFactory(latitude=None, longitude=None)
    factories.on_care_team(patient, cast.assigned_nurse)
    visit = factories.VisitFactory(
        order=factories.OrderFactory(patient=patient), nurse=cast.assigned_nurse, planned_start=NOW
    )

    verification = check_in(visit, cast.assigned_nurse, location=north_of_home(5))

    assert verification.check_in_verified is False
    assert verification.check_in_distance_m is None
    [alert] = [alert for alert in collect_alerts() if alert.kind == "checkin_exception"]
    assert "no coordinates" in alert.detail


def test_far_check_in_shows_its_distance_in_words_on_the_alert_queue(visit, cast):
    check_in(visit, cast.assigned_nurse, location=north_of_home(1234))

    [alert] = [alert for alert in collect_alerts() if alert.kind == "checkin_exception"]
    assert "Check-in 1.2 km from the home" in alert.detail
    assert cast.patient.full_name in alert.title


def test_verified_check_in_is_not_on_the_alert_queue(visit, cast):
    check_in(visit, cast.assigned_nurse, location=north_of_home(10))

    assert [alert for alert in collect_alerts() if alert.kind == "checkin_exception"] == []


def test_check_in_exception_leaves_the_queue_after_two_weeks(visit, cast):
    Visit.objects.filter(pk=visit.pk).update(planned_start=NOW - dt.timedelta(days=15))  # inside its window then
    visit.refresh_from_db()

    check_in(visit, cast.assigned_nurse, at=NOW - dt.timedelta(days=15))

    assert [alert for alert in collect_alerts() if alert.kind == "checkin_exception"] == []


def test_second_check_in_is_refused_and_keeps_the_first(visit, cast):
    first = check_in(visit, cast.assigned_nurse, location=north_of_home(10))

    with pytest.raises(CheckInConflict, match="already checked in at 09:00"):
        check_in(visit, cast.assigned_nurse, at=NOW + dt.timedelta(minutes=5))

    assert VisitVerification.objects.get(visit=visit) == first
    assert VisitVerification.objects.get(visit=visit).checked_in_at == NOW


def test_another_nurse_cannot_check_in_a_visit_that_is_not_hers(visit, cast):
    with pytest.raises(ServiceError):
        check_in(visit, cast.unassigned_nurse)

    assert not VisitVerification.objects.exists()


@pytest.mark.parametrize("status", [Visit.Status.SIGNED, Visit.Status.CANCELLED, Visit.Status.MISSED])
def test_check_in_of_a_signed_cancelled_or_missed_visit_is_refused(visit, cast, status):
    Visit.objects.filter(pk=visit.pk).update(status=status)
    visit.refresh_from_db()

    with pytest.raises(ChartLocked):
        check_in(visit, cast.assigned_nurse)

    assert not VisitVerification.objects.exists()


def test_check_in_of_a_visit_already_infusing_keeps_its_status(visit, cast):
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.INFUSING)
    visit.refresh_from_db()

    check_in(visit, cast.assigned_nurse)

    visit.refresh_from_db()
    assert visit.status == Visit.Status.INFUSING


@pytest.mark.parametrize(
    "location",
    [(39.78, None), (None, -89.65), (90.5, -89.65), (39.78, -180.1), ("north", "west")],
    ids=["latitude-only", "longitude-only", "latitude-out-of-range", "longitude-out-of-range", "words"],
)
def test_check_in_with_a_broken_location_is_refused_and_changes_nothing(visit, cast, location):
    with pytest.raises(ServiceError):
        check_in(visit, cast.assigned_nurse, location=location)

    assert not VisitVerification.objects.exists()
    visit.refresh_from_db()
    assert visit.status == Visit.Status.SCHEDULED


# --- Check-out ---------------------------------------------------------------------------------------------


def test_check_out_before_check_in_is_refused(visit, cast):
    with pytest.raises(ServiceError, match="Check in before checking out"):
        check_out(visit, cast.assigned_nurse, location=north_of_home(10))

    assert not VisitVerification.objects.exists()


def test_check_out_records_time_and_location_out_and_leaves_the_status(visit, cast):
    check_in(visit, cast.assigned_nurse, location=north_of_home(10))
    out_at = NOW + dt.timedelta(hours=4)

    verification = check_out(visit, cast.assigned_nurse, at=out_at, location=north_of_home(150))

    verification.refresh_from_db()
    assert verification.checked_out_at == out_at
    assert verification.check_out_distance_m == 150
    assert verification.check_out_verified is True
    assert verification.version == 2
    visit.refresh_from_db()
    assert visit.status == Visit.Status.CHECKED_IN


def test_check_out_far_from_the_home_is_not_verified_and_goes_to_the_alert_queue(visit, cast):
    check_in(visit, cast.assigned_nurse, location=north_of_home(10))

    check_out(visit, cast.assigned_nurse, location=north_of_home(350))

    [alert] = [alert for alert in collect_alerts() if alert.kind == "checkin_exception"]
    assert "Check-out 350 m from the home" in alert.detail
    assert "Check-in" not in alert.detail.split(". ", 1)[1]


def test_second_check_out_is_refused_and_keeps_the_first(visit, cast):
    check_in(visit, cast.assigned_nurse)
    first_out = NOW + dt.timedelta(hours=4)
    check_out(visit, cast.assigned_nurse, at=first_out)

    with pytest.raises(CheckInConflict, match="already checked out"):
        check_out(visit, cast.assigned_nurse, at=first_out + dt.timedelta(minutes=10))

    assert VisitVerification.objects.get(visit=visit).checked_out_at == first_out


def test_check_out_before_the_check_in_time_is_refused(visit, cast):
    check_in(visit, cast.assigned_nurse)

    with pytest.raises(ServiceError, match="before the check-in"):
        check_out(visit, cast.assigned_nurse, at=NOW - dt.timedelta(minutes=1))

    assert VisitVerification.objects.get(visit=visit).checked_out_at is None


def test_check_out_after_signing_is_allowed(visit, cast):
    """DESIGN §1: the nurse signs, then checks out."""
    check_in(visit, cast.assigned_nurse)
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.SIGNED)
    visit.refresh_from_db()

    verification = check_out(visit, cast.assigned_nurse)

    assert verification.checked_out_at is not None


def test_another_nurse_cannot_check_out(visit, cast):
    check_in(visit, cast.assigned_nurse)

    with pytest.raises(ServiceError):
        check_out(visit, cast.unassigned_nurse)

    assert VisitVerification.objects.get(visit=visit).checked_out_at is None


# --- The buttons -------------------------------------------------------------------------------------------


def post(client, name, visit, data, *, htmx=True):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse(name, args=[visit.pk]), data, headers=headers)


def test_chart_shows_the_check_in_button_that_sends_the_location(visit, cast):
    page = client_for(cast.assigned_nurse).get(reverse("visits:chart", args=[visit.pk])).content.decode()

    assert 'id="section-checkin"' in page
    assert reverse("visits:check_in", args=[visit.pk]) in page
    # The location is read by static/js/chart.js (no inline script under the Content-Security-Policy).
    assert "data-geolocate" in page and "/static/js/chart.js" in page
    assert "navigator.geolocation" in (Path(settings.BASE_DIR) / "static" / "js" / "chart.js").read_text()
    for name in ("latitude", "longitude", "accuracy_m"):
        assert f'name="{name}"' in page
    assert "Not checked in yet" in page


def test_coordinator_sees_the_check_in_but_no_button(visit, cast):
    check_in(visit, cast.assigned_nurse, location=north_of_home(1234))

    page = client_for(cast.coordinator).get(reverse("visits:chart", args=[visit.pk])).content.decode()

    assert "location not verified" in page
    assert "Check-in 1.2 km from the home" in page
    assert reverse("visits:check_out", args=[visit.pk]) not in page


def test_check_in_button_with_a_location_saves_and_returns_the_section(visit, cast):
    latitude, longitude = north_of_home(50)

    response = post(
        client_for(cast.assigned_nurse),
        "visits:check_in",
        visit,
        {"version": "0", "latitude": str(latitude), "longitude": str(longitude), "accuracy_m": "8.6"},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert page.lstrip().startswith("<section") and 'id="section-checkin"' in page
    assert "location verified" in page
    assert "Time in" in page and "09:00" in page  # in the patient's time zone
    verification = VisitVerification.objects.get(visit=visit)
    assert verification.check_in_verified and verification.check_in_accuracy_m == 9
    assert reverse("visits:check_out", args=[visit.pk]) in page


def test_check_in_button_without_a_location_saves_as_not_verified(visit, cast):
    response = post(client_for(cast.assigned_nurse), "visits:check_in", visit, {"version": "0"})

    assert response.status_code == 200
    assert "location not verified" in response.content.decode()
    assert VisitVerification.objects.get(visit=visit).check_in_verified is False


def test_plain_post_check_in_redirects_to_the_section(visit, cast):
    response = post(client_for(cast.assigned_nurse), "visits:check_in", visit, {"version": "0"}, htmx=False)

    assert response.status_code == 302
    assert response["Location"] == reverse("visits:chart", args=[visit.pk]) + "#section-checkin"
    assert VisitVerification.objects.filter(visit=visit).exists()


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "This form is incomplete"),
        ({"version": "0", "latitude": "north", "longitude": "-89.65"}, "Location (latitude)"),
        ({"version": "0", "latitude": "91", "longitude": "-89.65"}, "Location (latitude)"),
        ({"version": "0", "latitude": "39.78"}, "both latitude and longitude"),
        ({"version": "0", "latitude": "39.78", "longitude": "-89.65", "accuracy_m": "-3"}, "accuracy"),
    ],
    ids=["empty", "letters", "out-of-range", "half", "negative-accuracy"],
)
def test_bad_check_in_post_gives_a_message_and_changes_nothing(visit, cast, data, message, htmx):
    response = post(client_for(cast.assigned_nurse), "visits:check_in", visit, data, htmx=htmx)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not VisitVerification.objects.exists()
    visit.refresh_from_db()
    assert visit.status == Visit.Status.SCHEDULED


def test_check_out_button_before_check_in_is_refused_with_a_message(visit, cast):
    response = post(client_for(cast.assigned_nurse), "visits:check_out", visit, {"version": "0"})

    assert response.status_code == 400
    assert "Check in before checking out" in response.content.decode()
    assert not VisitVerification.objects.exists()


def test_check_out_button_records_the_time_out(visit, cast):
    check_in(visit, cast.assigned_nurse)

    with time_machine.travel(NOW + dt.timedelta(hours=3, minutes=30), tick=False):
        response = post(client_for(cast.assigned_nurse), "visits:check_out", visit, {"version": "1"})

    assert response.status_code == 200
    assert "12:30" in response.content.decode()
    assert VisitVerification.objects.get(visit=visit).checked_out_at == NOW + dt.timedelta(hours=3, minutes=30)


def test_check_in_from_a_second_tablet_is_refused_without_overwriting(visit, cast):
    check_in(visit, cast.assigned_nurse, location=north_of_home(10))

    response = post(client_for(cast.assigned_nurse), "visits:check_in", visit, {"version": "0"})

    assert response.status_code == 409
    assert "checked in at 09:00" in response.content.decode()
    assert VisitVerification.objects.get(visit=visit).check_in_verified is True


def test_check_in_of_a_signed_chart_is_refused_with_409(visit, cast):
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.SIGNED)

    response = post(client_for(cast.assigned_nurse), "visits:check_in", visit, {"version": "0"})

    assert response.status_code == 409
    assert "signed and locked" in response.content.decode()
    assert not VisitVerification.objects.exists()


def test_care_team_nurse_who_is_not_the_visits_nurse_cannot_check_in(visit, cast):
    other = factories.nurse(username="nurse-colleague")
    factories.on_care_team(cast.patient, other)

    response = post(client_for(other), "visits:check_in", visit, {"version": "0"})

    assert response.status_code == 403
    assert not VisitVerification.objects.exists()


def test_check_in_posted_empty_to_a_signed_chart_is_409_not_400(visit, cast):
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.SIGNED)

    response = post(client_for(cast.assigned_nurse), "visits:check_in", visit, {})

    assert response.status_code == 409
    assert not VisitVerification.objects.exists()


def test_check_out_of_a_cancelled_visit_is_refused_with_409(visit, cast):
    check_in(visit, cast.assigned_nurse)
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.CANCELLED)

    response = post(client_for(cast.assigned_nurse), "visits:check_out", visit, {"version": "1"})

    assert response.status_code == 409
    assert "nothing to check out of" in response.content.decode()
    assert VisitVerification.objects.get(visit=visit).checked_out_at is None


def test_check_out_button_after_signing_records_the_time_out(visit, cast):
    """DESIGN §1: the nurse signs, then checks out; the chart stays locked for everything else."""
    check_in(visit, cast.assigned_nurse)
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.SIGNED)

    response = post(client_for(cast.assigned_nurse), "visits:check_out", visit, {"version": "1"})

    assert response.status_code == 200
    assert VisitVerification.objects.get(visit=visit).checked_out_at == NOW
