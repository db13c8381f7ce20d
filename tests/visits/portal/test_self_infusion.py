"""The patient's SCIG self-infusion log: who may log, each refusal next to its field, and what is saved."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import client_for
from tests.visits.portal.scig_helpers import scig_order, taught
from visits.models import LabelLimit, SelfInfusion, SelfInfusionVial
from visits.portal import self_infusion as scig_log

ADD = reverse("portal:self_infusion_add")
LOG = reverse("portal:self_infusions")


def local_text(moment, patient):
    return timezone.localtime(moment, patient.zone).strftime("%Y-%m-%dT%H:%M")


def form_data(patient, **changes):
    data = {
        "infused_at": local_text(timezone.now() - timedelta(hours=1), patient),
        "site_abdomen_left": "on",
        "volume_abdomen_left": "14.3",
        "site_thigh_right": "on",
        "volume_thigh_right": "14.2",
        "vial-TOTAL_FORMS": "1",
        "vial-INITIAL_FORMS": "0",
        "vial-MIN_NUM_FORMS": "1",
        "vial-MAX_NUM_FORMS": "10",
        "vial-0-lot_number": "p100123",
        "vial-0-expires_on": "2099-01-31",
        "vial-0-size_mg": "4000",
        "local_reactions": ["redness"],
        "systemic_reaction": "",
        "notes": "",
        "save": "1",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def scig_patient(cast):
    taught(cast.patient, nurse=cast.assigned_nurse)
    return cast.patient


def refused(response, message):
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SelfInfusion.objects.exists()
    assert not SelfInfusionVial.objects.exists()


def test_taught_patient_logs_two_sites_and_a_lot(cast, scig_patient):
    response = client_for(cast.patient_user).post(ADD, form_data(scig_patient, systemic_reaction="Mild headache"))
    assert response.status_code == 302
    log = SelfInfusion.objects.get()
    assert log.patient == scig_patient and log.order.product.name == "Hizentra"
    assert log.sites == [{"site": "abdomen_left", "volume_ml": "14.3"}, {"site": "thigh_right", "volume_ml": "14.2"}]
    assert log.volume_ml == Decimal("28.5")
    assert log.local_reactions == ["redness"] and log.systemic_reaction == "Mild headache"
    assert log.recorded_by == cast.patient_user
    vial = log.vials.get()
    assert (vial.lot_number, vial.expires_on.isoformat(), vial.size_mg) == ("P100123", "2099-01-31", 4000)

    page = client_for(cast.patient_user).get(LOG).content.decode()
    assert "Abdomen, left 14.3 mL" in page and "Lot P100123" in page


def test_the_form_opens_at_now_in_the_patients_zone(cast, scig_patient):
    response = client_for(cast.patient_user).get(ADD)
    assert response.status_code == 200
    assert local_text(timezone.now(), scig_patient)[:13] in response.content.decode()
    assert "call 911 now" in response.content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"infused_at": "2999-01-01T10:00"}, "That time has not come yet"),
        ({"infused_at": "9999-12-31T23:59"}, "That time has not come yet"),
        ({"infused_at": "0001-01-01T00:00"}, "before your nurse signed off your teaching"),
        ({"infused_at": "yesterday"}, "Please give the day and time"),
        ({"volume_abdomen_left": "1e400"}, scig_log.VOLUME_MESSAGE),
        ({"volume_abdomen_left": "100.1"}, scig_log.VOLUME_MESSAGE),
        ({"volume_abdomen_left": "0"}, scig_log.VOLUME_MESSAGE),
        ({"volume_abdomen_left": "NaN"}, scig_log.VOLUME_MESSAGE),
        ({"volume_abdomen_left": ""}, "Please give the mL you put in at abdomen, left."),
        ({"site_thigh_right": None}, "Tick thigh, right too, or clear this amount."),
        (
            {
                "site_abdomen_left": None,
                "volume_abdomen_left": None,
                "site_thigh_right": None,
                "volume_thigh_right": None,
            },
            scig_log.NO_SITE_MESSAGE,
        ),
        ({"vial-0-expires_on": "2020-01-31"}, "This vial expired on 2020-01-31"),
        ({"vial-0-expires_on": "9999-99-99"}, "Please give the expiry date as a date"),
        ({"vial-0-lot_number": ""}, "Please give the lot number printed on the vial"),
        ({"vial-0-lot_number": "P1\x00"}, "This lot number has a character that cannot be saved"),
        ({"vial-0-size_mg": "3"}, "Please choose the size printed on the vial."),
        ({"vial-TOTAL_FORMS": "5000"}, "Please log at most 10 vials."),
        ({"vial-TOTAL_FORMS": None}, "Your infusion is not logged yet"),
        ({"notes": "a\x00b"}, "This text has a character that cannot be saved"),
        ({"systemic_reaction": "x" * 2001}, "Please keep this to 2,000 characters or fewer."),
        ({"local_reactions": ["fainting"]}, "Please choose from the list."),
    ],
)
def test_each_refusal_is_shown_next_to_its_field_and_nothing_is_saved(cast, scig_patient, changes, message):
    refused(client_for(cast.patient_user).post(ADD, form_data(scig_patient, **changes)), message)


def test_more_than_the_labels_later_per_site_volume_is_flagged_until_confirmed(cast, scig_patient):
    order = SelfInfusion._meta.get_field("order").related_model.objects.get(patient=scig_patient)
    LabelLimit.objects.update_or_create(
        product=order.product, indication="pi", defaults={"later_site_volume_ml": Decimal("25"), "source": "PI 2.3"}
    )
    client = client_for(cast.patient_user)
    refused(client.post(ADD, form_data(scig_patient, volume_abdomen_left="30")), "more than the 25.0 mL per site")
    assert (
        client.post(ADD, form_data(scig_patient, volume_abdomen_left="30", volumes_confirmed="on")).status_code == 302
    )
    assert SelfInfusion.objects.get().volume_ml == Decimal("44.2")


def test_the_same_time_logged_twice_is_saved_once(cast, scig_patient):
    client = client_for(cast.patient_user)
    data = form_data(scig_patient)
    assert client.post(ADD, data).status_code == 302
    response = client.post(ADD, data)
    assert response.status_code == 400 and scig_log.DUPLICATE_MESSAGE in response.content.decode()
    assert SelfInfusion.objects.count() == 1


def test_add_another_vial_keeps_what_was_typed_and_saves_nothing(cast, scig_patient):
    data = form_data(scig_patient, save=None, add_vial="1")
    response = client_for(cast.patient_user).post(ADD, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="vial-1-lot_number"' in page and 'value="p100123"' in page and 'value="14.3"' in page
    assert not SelfInfusion.objects.exists()


def test_a_patient_not_yet_taught_is_told_the_nurse_teaches_first(cast):
    order = scig_order(cast.patient)
    client = client_for(cast.patient_user)
    assert "Your nurse will teach you first" in client.get(reverse("portal:home")).content.decode()
    assert "Your nurse will teach you first" in client.get(ADD).content.decode()
    response = client.post(ADD, form_data(cast.patient))
    assert response.status_code == 403 and not SelfInfusion.objects.exists()
    # A teaching not yet signed, or signed as not ready, does not count either.
    teaching = taught(cast.patient, nurse=cast.assigned_nurse, order=order)
    teaching.ready_to_self_infuse = False
    teaching.save()
    assert client.post(ADD, form_data(cast.patient)).status_code == 403


def test_another_patient_neither_sees_nor_writes_the_log(cast, scig_patient):
    assert client_for(cast.patient_user).post(ADD, form_data(scig_patient)).status_code == 302
    other = client_for(cast.other_patient_user)
    page = other.get(LOG).content.decode()
    assert "P100123" not in page and "14.3" not in page
    assert other.post(ADD, form_data(scig_patient)).status_code == 404  # no SCIG order of their own
    assert SelfInfusion.objects.count() == 1 and SelfInfusion.objects.get().patient == scig_patient


def test_care_team_nurse_and_coordinator_read_it_on_the_patient_page(cast, scig_patient):
    client_for(cast.patient_user).post(ADD, form_data(scig_patient, systemic_reaction="Fever 38.4"))
    url = reverse("patients:detail", args=[scig_patient.pk])
    for user in (cast.assigned_nurse, cast.coordinator):
        page = client_for(user).get(url).content.decode()
        assert 'id="self-infusions"' in page and "28.5 mL" in page and "Systemic: Fever 38.4" in page
    assert client_for(cast.unassigned_nurse).get(url).status_code == 404


def test_home_shows_the_last_infusions_and_the_next_weekly_dose(cast, scig_patient):
    client = client_for(cast.patient_user)
    client.post(ADD, form_data(scig_patient, infused_at=local_text(timezone.now() - timedelta(days=2), scig_patient)))
    page = client.get(reverse("portal:home")).content.decode()
    due = timezone.localtime(timezone.now(), scig_patient.zone).date() + timedelta(days=5)
    assert f"{due:%A} {due.day} {due:%B}" in page
    assert "Abdomen, left 14.3 mL" in page


def test_the_service_refuses_without_a_signed_teaching(cast):
    order = scig_order(cast.patient)
    with pytest.raises(scig_log.ValidationError):
        scig_log.self_infusion_log(
            patient=cast.patient,
            order=order,
            infused_at=timezone.now(),
            sites={"abdomen_left": Decimal("10")},
            vials=[scig_log.VialEntry("L1", timezone.localdate() + timedelta(days=30), 4000)],
            local_reactions=[],
            by=cast.patient_user,
        )
    assert not SelfInfusion.objects.exists()


def test_the_lot_recall_finds_a_self_infused_lot(cast, scig_patient):
    client_for(cast.patient_user).post(ADD, form_data(scig_patient))
    log = SelfInfusion.objects.get()
    response = client_for(cast.coordinator).get(reverse("visits:recall"), {"lot": "P100123"})
    page = response.content.decode()
    assert response.status_code == 200
    assert f'id="recall-self-infusion-{log.pk}"' in page and "self-infused" in page
    assert "Marisol Delacroix" in page and "1 patient" in page and "1 self-infusion" in page
