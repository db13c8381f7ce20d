import re

import pytest
from playwright.sync_api import expect

from patients.models import Patient, WeightMeasurement
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_coordinator_registers_a_patient_in_pounds_and_finds_them_by_mrn(live_server, page, login, cast):
    login("coord", factories.PASSWORD)
    expect(page).to_have_url(re.compile(r"/schedule/$"))
    page.get_by_role("link", name="Patients").click()
    page.get_by_role("link", name="Register a patient").click()

    page.get_by_label("MRN").fill("mrn7788")
    page.get_by_label("First name").fill("Rosa")
    page.get_by_label("Last name").fill("Delgado")
    page.get_by_label("Date of birth").fill("1969-02-11")
    page.get_by_label("Sex").select_option("F")
    page.get_by_label("Street address").fill("48 Lincoln Avenue")
    page.get_by_label("City").fill("Springfield")
    page.get_by_label("State").fill("IL")
    page.get_by_label("Postal code").fill("62704")
    page.get_by_label("Time zone").select_option("America/Chicago")
    page.locator("#id_height_value").fill("64")
    page.locator("#id_height_unit").select_option("in")
    page.locator("#id_weight_value").fill("154.3")
    page.locator("#id_weight_unit").select_option("lb")
    page.get_by_label("Prescribing physician").fill("Dr. Priya Raman")
    page.get_by_label("No known allergies").check()
    page.get_by_role("button", name="Save patient").click()

    expect(page.get_by_role("heading", name="Rosa Delgado")).to_be_visible()
    patient = Patient.objects.get(mrn="MRN7788")
    assert WeightMeasurement.objects.get(patient=patient).weight_kg == pytest.approx(70.0)

    page.get_by_role("link", name="Patients").click()
    page.get_by_label("Search patients").fill("mrn7788")
    page.get_by_role("button", name="Search").click()
    # The search is posted and held in the session: the address never carries the MRN.
    expect(page).to_have_url(re.compile(r"/patients/$"))
    expect(page.get_by_label("Search patients")).to_have_value("mrn7788")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("70.0 kg")
    page.reload()  # the held query survives a reload; the history has no query to leak
    expect(rows).to_have_count(1)
    page.get_by_role("button", name="Clear").click()
    expect(page).to_have_url(re.compile(r"/patients/$"))
    expect(page.get_by_label("Search patients")).to_have_value("")
    expect(page.locator("tbody tr")).to_have_count(3)  # Rosa and the cast's two patients
    page.get_by_label("Search patients").fill("mrn7788")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link", name="Delgado, Rosa").click()
    expect(page.locator("#weights")).to_contain_text("70.0 kg")
    expect(page.locator("#weights")).to_contain_text("154.3 lb")
    expect(page.locator("#profile")).to_contain_text("162.6 cm")


def test_a_patient_sees_only_their_own_home(live_server, page, login, cast):
    login("patient-a", factories.PASSWORD)
    expect(page).to_have_url(re.compile(r"/portal/$"))
    expect(page.get_by_role("heading", name=f"Hello, {cast.patient.first_name}")).to_be_visible()
    expect(page.locator("main").get_by_text(cast.patient.full_name, exact=True)).to_be_visible()
    expect(page.get_by_text(cast.other_patient.last_name)).to_have_count(0)
    expect(page.get_by_role("link", name="Patients")).to_have_count(0)
    response = page.goto(f"{live_server.url}/patients/{cast.other_patient.pk}/")
    assert response.status == 404
    response = page.goto(f"{live_server.url}/patients/")
    assert response.status == 403
