"""The check-in section offers the assigned nurse to set a home's missing location from her tablet."""

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.models import Patient
from tests import factories
from tests.conftest import client_for
from visits.models import Visit

OFFER = "I am at the patient's home: use this location as the home's"


@pytest.fixture
def visit(cast):
    return factories.VisitFactory(
        order=factories.OrderFactory(patient=cast.patient), nurse=cast.assigned_nurse, planned_start=timezone.now()
    )


def without_home_location(patient):
    Patient.objects.filter(pk=patient.pk).update(latitude=None, longitude=None)


def chart(user, visit):
    response = client_for(user).get(reverse("visits:chart", args=[visit.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_assigned_nurse_is_offered_to_set_a_missing_home_location_on_the_check_in_section(cast, visit):
    without_home_location(cast.patient)
    body = chart(cast.assigned_nurse, visit)
    section = body.split('id="section-checkin"')[1].split("</section>")[0]
    assert OFFER in section
    assert reverse("patients:home_locate", args=[cast.patient.pk]) in section
    assert f'name="next" value="{reverse("visits:chart", args=[visit.pk])}"' in section
    assert "js/home_location.js" in section and "data-online-only" in section


def test_a_home_with_a_location_is_not_offered_again(cast, visit):
    assert OFFER not in chart(cast.assigned_nurse, visit)


def test_the_coordinator_is_not_offered_to_set_it_from_the_chart(cast, visit):
    without_home_location(cast.patient)
    assert OFFER not in chart(cast.coordinator, visit)


def test_a_closed_visit_is_not_offered(cast, visit):
    without_home_location(cast.patient)
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.CANCELLED)
    assert OFFER not in chart(cast.assigned_nurse, visit)


def test_after_the_home_is_located_the_next_check_in_is_verified(cast, visit):
    without_home_location(cast.patient)
    nurse = client_for(cast.assigned_nurse)
    located = nurse.post(
        reverse("patients:home_locate", args=[cast.patient.pk]),
        {"latitude": "39.7817", "longitude": "-89.6501", "accuracy_m": "8", "confirm": "on"},
    )
    assert located.status_code == 302
    response = nurse.post(
        reverse("visits:check_in", args=[visit.pk]),
        {"version": "0", "latitude": "39.7818", "longitude": "-89.6502", "accuracy_m": "10"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    assert "location verified" in response.content.decode()
    assert OFFER not in response.content.decode()
