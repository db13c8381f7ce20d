"""Vials used: every vial's product, lot, expiry and size; expired vials and other products refused (DESIGN §3);
the running total matches the day's dose within the vial rounding."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from patients.services import ServiceError
from tests.conftest import client_for
from tests.factories import OrderFactory, VisitFactory, nurse, product
from visits.chart.checklist import services
from visits.chart.checklist.forms import BarcodeError, parse_vial_barcode
from visits.chart.rules import ChartLocked
from visits.clinical import best_vial_combination
from visits.models import VialUsed, Visit

HTMX = {"HTTP_HX_REQUEST": "true"}
G = 1000


@pytest.fixture
def visit(cast):
    """An Octagam 10% visit today (vials 2, 5, 10, 20, 30 g) with a day's dose of 28 g."""
    order = OrderFactory(patient=cast.patient)
    return VisitFactory(
        order=order,
        nurse=cast.assigned_nurse,
        planned_start=timezone.now(),
        status=Visit.Status.INFUSING,
        dose_mg=Decimal("28000"),
    )


@pytest.fixture
def today(visit):
    return services.patient_today(visit)


def add(visit, today, **changes):
    values = {
        "product": visit.order.product,
        "lot_number": "B123456",
        "expires_on": today + timedelta(days=200),
        "size_mg": 10 * G,
    }
    values.update(changes)
    return services.vial_add(visit=visit, nurse=visit.nurse, today=today, **values)


# --- the service ------------------------------------------------------------------------------------------------


def test_a_vial_is_recorded_with_product_lot_expiry_and_size(visit, today):
    vial = add(visit, today, lot_number="  B123456 ")
    vial.refresh_from_db()
    assert (vial.product, vial.lot_number, vial.size_mg, vial.recorded_by) == (
        visit.order.product,
        "B123456",
        10 * G,
        visit.nurse,
    )


def test_an_expired_vial_is_refused(visit, today):
    with pytest.raises(ValidationError) as refused:
        add(visit, today, expires_on=today - timedelta(days=1))
    assert "expired" in refused.value.message_dict["expires_on"][0]
    assert not VialUsed.objects.exists()


def test_a_vial_expiring_today_is_accepted(visit, today):
    add(visit, today, expires_on=today)
    assert VialUsed.objects.count() == 1


def test_a_product_other_than_the_orders_is_refused(visit, today):
    with pytest.raises(ValidationError) as refused:
        add(visit, today, product=product("Privigen"))
    assert "Octagam 10%, not Privigen" in refused.value.message_dict["product"][0]
    assert not VialUsed.objects.exists()


def test_a_size_the_product_does_not_come_in_is_refused(visit, today):
    with pytest.raises(ValidationError) as refused:
        add(visit, today, size_mg=2500)
    assert "2 g, 5 g, 10 g, 20 g, 30 g" in refused.value.message_dict["size_mg"][0]


def test_a_signed_chart_refuses_adding_and_removing_vials(visit, today):
    vial = add(visit, today)
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.SIGNED)
    visit.refresh_from_db()
    with pytest.raises(ChartLocked):
        add(visit, today)
    vial.visit.refresh_from_db()
    with pytest.raises(ChartLocked):
        services.vial_void(vial=vial, nurse=visit.nurse, reason="Entered twice")
    assert VialUsed.objects.get().voided_at is None


def test_only_the_visits_nurse_records_vials(visit, today):
    with pytest.raises(ServiceError):
        services.vial_add(
            visit=visit,
            nurse=nurse(),
            product=visit.order.product,
            lot_number="X",
            expires_on=today + timedelta(days=10),
            size_mg=10 * G,
        )


def test_a_vial_entered_by_mistake_is_voided_not_deleted(visit, today):
    vial = add(visit, today)
    services.vial_void(vial=vial, nurse=visit.nurse, reason="Entered twice")
    vial.refresh_from_db()
    assert (vial.voided_by, vial.void_reason) == (visit.nurse, "Entered twice")
    assert vial.voided_at is not None


# --- the matching rule ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "dose", "sizes", "matches"),
    [
        (28 * G, 28 * G, [2 * G, 5 * G], True),  # exact
        (30 * G, 28 * G, [2 * G, 5 * G], False),  # over by exactly one smallest vial
        (29 * G, 28 * G, [2 * G, 5 * G], True),  # over by less than the smallest vial
        (26 * G, 28 * G, [2 * G, 5 * G], False),  # short
        (35 * G, 28 * G, [2 * G, 5 * G], False),  # over by more than the smallest vial
        (1000, 1000, [100, 500], True),
        (1100, 1000, [100, 500], False),  # rituximab: 100 mg over is one smallest vial over
        (1099, 1000, [100, 500], True),
    ],
)
def test_the_total_matches_the_dose_when_it_covers_it_by_less_than_one_smallest_vial(total, dose, sizes, matches):
    assert services.vials_match_dose(total_mg=Decimal(total), dose_mg=Decimal(dose), vial_sizes_mg=sizes) is matches


def test_over_by_exactly_one_smallest_vial_does_not_match():
    assert not services.vials_match_dose(total_mg=Decimal(30 * G), dose_mg=Decimal(28 * G), vial_sizes_mg=[2 * G])


def test_the_tally_says_how_far_from_the_dose_and_shows_the_expected_vials(visit, today):
    tally = services.vial_tally(visit=visit)
    assert not tally.matches and "No vials recorded yet" in tally.message
    expected = best_vial_combination(dose_amount=Decimal("28000"), vial_sizes=visit.order.product.vial_sizes_mg)
    assert tally.expected == expected
    assert tally.expected_text.endswith("= 28 g")
    add(visit, today, size_mg=20 * G)
    add(visit, today, size_mg=5 * G)
    tally = services.vial_tally(visit=visit)
    assert tally.total_mg == 25 * G and not tally.matches
    assert tally.message == "Total 25 g is 3 g short of the day's dose (28 g)."
    add(visit, today, size_mg=2 * G)
    add(visit, today, size_mg=2 * G)
    tally = services.vial_tally(visit=visit)
    assert tally.total_mg == 29 * G and tally.matches
    assert "matches within the vial rounding" in tally.message
    add(visit, today, size_mg=2 * G)
    tally = services.vial_tally(visit=visit)
    assert not tally.matches and "3 g over" in tally.message


def test_a_visit_without_a_dose_says_so(visit):
    Visit.objects.filter(pk=visit.pk).update(dose_mg=None)
    visit.refresh_from_db()
    tally = services.vial_tally(visit=visit)
    assert not tally.matches and "No dose" in tally.message


# --- the barcode --------------------------------------------------------------------------------------------------


def test_a_gs1_code_with_parentheses_gives_lot_and_expiry():
    scanned = parse_vial_barcode("(01)03665585000011(17)270630(10)A1234B")
    assert scanned.lot_number == "A1234B" and scanned.expires_on == date(2027, 6, 30)
    assert scanned.gtin == "03665585000011"


def test_a_raw_gs1_code_with_a_group_separator_gives_lot_and_expiry():
    scanned = parse_vial_barcode("]d20103665585000011" + "10LOT77\x1d" + "17280200")
    assert scanned.lot_number == "LOT77"
    assert scanned.expires_on == date(2028, 2, 29)  # day 00 is the month's last day


@pytest.mark.parametrize("text", ["hello", "(01)0366558500001117270631", "0103665585", "(17)271332(10)A1"])
def test_an_unreadable_code_is_reported(text):
    with pytest.raises(BarcodeError):
        parse_vial_barcode(text)


# --- through the page ---------------------------------------------------------------------------------------------


def url(visit, name="vial_add"):
    return reverse(f"visits:{name}", args=[visit.pk])


def vial_data(visit, today, **changes) -> dict:
    data = {
        "scan": "",
        "product": str(visit.order.product_id),
        "lot_number": "B123456",
        "expires_on": (today + timedelta(days=200)).isoformat(),
        "size_mg": str(10 * G),
    }
    data.update(changes)
    return data


def test_the_nurse_adds_a_vial_and_sees_the_running_total(visit, today, nurse_client):
    response = nurse_client.post(url(visit), vial_data(visit, today), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="section-vials"' in html and "B123456" in html
    assert "Total 10 g is 18 g short of the day&#x27;s dose (28 g)." in html
    assert VialUsed.objects.get(visit=visit).size_mg == 10 * G


def test_a_scanned_code_fills_the_lot_and_expiry(visit, today, nurse_client):
    code = f"(01)03665585000011(17){today + timedelta(days=60):%y%m%d}(10)SCAN42"
    data = vial_data(visit, today, scan=code, lot_number="", expires_on="")
    response = nurse_client.post(url(visit), data, **HTMX)
    assert response.status_code == 200
    vial = VialUsed.objects.get(visit=visit)
    assert (vial.lot_number, vial.expires_on) == ("SCAN42", today + timedelta(days=60))


def test_a_scanned_expired_vial_is_refused(visit, today, nurse_client):
    code = f"(17){today - timedelta(days=1):%y%m%d}(10)OLD1"
    response = nurse_client.post(url(visit), vial_data(visit, today, scan=code, lot_number="", expires_on=""), **HTMX)
    assert response.status_code == 400
    assert "Do not use it" in response.content.decode()
    assert not VialUsed.objects.exists()


def test_an_expired_vial_is_refused_at_its_field(visit, today, nurse_client):
    data = vial_data(visit, today, expires_on=(today - timedelta(days=1)).isoformat())
    response = nurse_client.post(url(visit), data, **HTMX)
    assert response.status_code == 400
    assert "This vial expired on" in response.content.decode()
    assert not VialUsed.objects.exists()


def test_another_product_is_refused_at_its_field(visit, today, nurse_client):
    data = vial_data(visit, today, product=str(product("Privigen").pk))
    response = nurse_client.post(url(visit), data, **HTMX)
    assert response.status_code == 400
    assert "not Privigen" in response.content.decode()
    assert not VialUsed.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("lot_number", "", "Give the lot number"),
        ("lot_number", "X" * 41, "at most 40 characters"),
        ("expires_on", "", "Give the expiry date"),
        ("expires_on", "next year", "like 2027-06-30"),
        ("expires_on", "2999-01-01", "between 2000 and 2100"),
        ("size_mg", "", "Choose the vial size."),
        ("size_mg", "2500", "Choose one of the vial sizes listed."),
        ("product", "999999", "Choose the product from the list."),
        ("scan", "garbage", "Could not read this code"),
    ],
)
def test_bad_vial_input_is_refused_at_the_field_and_changes_nothing(visit, today, nurse_client, field, value, words):
    response = nurse_client.post(url(visit), vial_data(visit, today, **{field: value}), **HTMX)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not VialUsed.objects.exists()


def test_a_plain_post_redirects_to_the_vials_on_the_chart(visit, today, nurse_client):
    response = nurse_client.post(url(visit), vial_data(visit, today))
    assert response.status_code == 302
    assert response["Location"] == reverse("visits:chart", args=[visit.pk]) + "#section-vials"


def test_the_nurse_takes_back_a_vial_entered_by_mistake(visit, today, nurse_client):
    vial = add(visit, today)
    response = nurse_client.post(
        reverse("visits:vial_remove", args=[visit.pk, vial.pk]), {f"void-{vial.pk}-reason": "Wrong lot"}, **HTMX
    )
    assert response.status_code == 200
    assert VialUsed.objects.get().void_reason == "Wrong lot"


def test_a_vial_of_another_visit_cannot_be_removed_through_this_one(visit, today, nurse_client, cast):
    other_visit = VisitFactory(order=OrderFactory(patient=cast.patient), nurse=cast.assigned_nurse)
    vial = add(other_visit, today)
    response = nurse_client.post(
        reverse("visits:vial_remove", args=[visit.pk, vial.pk]), {f"void-{vial.pk}-reason": "Wrong lot"}, **HTMX
    )
    assert response.status_code == 404
    assert VialUsed.objects.get().voided_at is None


def test_a_signed_chart_keeps_its_vials(visit, today, nurse_client):
    vial = add(visit, today)
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.SIGNED)
    response = nurse_client.post(
        reverse("visits:vial_remove", args=[visit.pk, vial.pk]), {f"void-{vial.pk}-reason": "Wrong lot"}, **HTMX
    )
    assert response.status_code == 409
    assert "signed and locked" in response.content.decode()
    response = nurse_client.post(url(visit), vial_data(visit, today), **HTMX)
    assert response.status_code == 409
    assert VialUsed.objects.get().voided_at is None


def test_the_unassigned_nurse_gets_404_and_the_coordinator_403(visit, today, cast):
    assert client_for(cast.unassigned_nurse).post(url(visit), vial_data(visit, today)).status_code == 404
    assert client_for(cast.coordinator).post(url(visit), vial_data(visit, today)).status_code == 403
    assert not VialUsed.objects.exists()


def test_the_expected_vials_show_the_least_waste_choice_when_fewer_vials_waste_a_little(cast):
    order = OrderFactory(patient=cast.patient, product=product("Solu-Medrol"), dose_rule="flat_mg", dose_amount=1100)
    visit = VisitFactory(order=order, nurse=cast.assigned_nurse, dose_mg=Decimal("1100"))
    text = services.vial_tally(visit=visit).expected_text
    assert text.startswith("1 × 1000 mg + 1 × 125 mg = 1125 mg (25 mg over the dose in 2 vials")
    assert "the least waste, 1 × 500 mg + 15 × 40 mg = 1100 mg, takes 16" in text
