"""No copy of a signed-in user's page is kept by a browser or a proxy, and pages may use only the location."""

import pytest
from django.urls import reverse

from tests import factories
from tests.conftest import client_for


@pytest.mark.parametrize(
    "page",
    [
        lambda cast: reverse("patients:detail", args=[cast.patient.pk]),
        lambda cast: reverse("visits:today"),
        lambda cast: reverse("notifications:inbox"),
    ],
)
def test_a_signed_in_nurses_pages_are_never_stored(cast, page):
    response = client_for(cast.assigned_nurse).get(page(cast))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store, private"


def test_the_chart_and_its_print_are_never_stored(cast):
    visit = factories.VisitFactory(order=factories.OrderFactory(patient=cast.patient), nurse=cast.assigned_nurse)
    nurse = client_for(cast.assigned_nurse)
    for url in (reverse("visits:chart", args=[visit.pk]), reverse("visits:print", args=[visit.pk])):
        response = nurse.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]


def test_the_patients_portal_is_never_stored(cast):
    response = client_for(cast.patient_user).get(reverse("portal:home"))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store, private"


def test_every_page_may_use_the_location_and_nothing_else(client, cast):
    for response in (client.get(reverse("login")), client_for(cast.coordinator).get(reverse("patients:list"))):
        policy = response["Permissions-Policy"]
        assert "geolocation=(self)" in policy
        assert "camera=()" in policy and "microphone=()" in policy
