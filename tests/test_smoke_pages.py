from django.urls import reverse

from tests.conftest import client_for


def test_each_role_lands_on_its_home(cast):
    expected = {
        "coordinator": reverse("schedule:board"),
        "assigned_nurse": reverse("visits:today"),
        "patient_user": reverse("portal:home"),
    }
    for role, home in expected.items():
        response = client_for(cast.user(role)).get("/")
        assert response.status_code == 302
        assert response["Location"] == home
        assert client_for(cast.user(role)).get(home).status_code == 200
