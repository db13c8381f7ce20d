"""Conversions between the units a person types and the SI units we store (patients/units.py)."""

from datetime import date
from decimal import Decimal

import pytest

from patients import units


@pytest.mark.parametrize(
    ("value", "unit", "kg"),
    [
        ("154.3", units.LB, "70.0"),
        ("220", units.LB, "99.8"),
        ("1", units.LB, "0.5"),
        ("70", units.KG, "70.0"),
        ("70.04", units.KG, "70.0"),
        ("70.05", units.KG, "70.1"),  # half up, not banker's rounding
    ],
)
def test_weight_is_converted_to_kg_with_one_decimal(value, unit, kg):
    assert units.to_kg(Decimal(value), unit) == Decimal(kg)


@pytest.mark.parametrize(
    ("value", "unit", "cm"),
    [
        ("65", units.IN, "165.1"),
        ("72", units.IN, "182.9"),
        ("60", units.IN, "152.4"),
        ("165", units.CM, "165.0"),
        ("165.25", units.CM, "165.3"),
    ],
)
def test_height_is_converted_to_cm_with_one_decimal(value, unit, cm):
    assert units.to_cm(Decimal(value), unit) == Decimal(cm)


def test_kg_is_shown_in_pounds():
    assert units.kg_to_lb(Decimal("70.0")) == Decimal("154.3")
    assert units.kg_to_lb(Decimal("100")) == Decimal("220.5")


def test_cm_is_shown_in_inches():
    assert units.cm_to_in(Decimal("165.1")) == Decimal("65.0")
    assert units.cm_to_in(Decimal("180")) == Decimal("70.9")


@pytest.mark.parametrize("pounds", ["4.4", "99.9", "154.3", "200.0", "771.6"])
def test_pounds_survive_a_round_trip_through_kg_within_a_tenth(pounds):
    back = units.kg_to_lb(units.to_kg(Decimal(pounds), units.LB))
    assert abs(back - Decimal(pounds)) <= Decimal("0.2")


@pytest.mark.parametrize("kg", ["2.0", "45.5", "70.0", "123.4", "350.0"])
def test_kg_survive_a_round_trip_through_pounds(kg):
    assert units.to_kg(units.kg_to_lb(Decimal(kg)), units.LB) == Decimal(kg)


@pytest.mark.parametrize("cm", ["40.0", "152.4", "165.1", "200.0", "250.0"])
def test_cm_survive_a_round_trip_through_inches_within_a_tenth(cm):
    back = units.to_cm(units.cm_to_in(Decimal(cm)), units.IN)
    assert abs(back - Decimal(cm)) <= Decimal("0.2")


def test_unknown_units_are_refused():
    with pytest.raises(ValueError, match="weight unit"):
        units.to_kg(Decimal("70"), "st")
    with pytest.raises(ValueError, match="height unit"):
        units.to_cm(Decimal("170"), "ft")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-29", date(2024, 2, 29)),
        ("02/29/2024", date(2024, 2, 29)),
        ("2/3/2024", date(2024, 2, 3)),
        ("  1975-05-17 ", date(1975, 5, 17)),
        ("05/17/75", date(1975, 5, 17)),
    ],
)
def test_dates_are_read_in_iso_and_us_formats(text, expected):
    assert units.parse_date(text) == expected


@pytest.mark.parametrize("text", ["", "Smith", "MRN00001", "2023-02-29", "13/01/2024", "17.05.1975", "1975-5"])
def test_text_that_is_not_a_date_gives_none(text):
    assert units.parse_date(text) is None


def test_range_messages_name_the_unit_and_its_range():
    assert units.weight_range_message(units.KG) == "Enter a weight between 2 and 350 kg."
    assert units.weight_range_message(units.LB) == "Enter a weight between 4.4 and 771.6 lb."
    assert units.height_range_message(units.CM) == "Enter a height between 40 and 250 cm."
    assert units.height_range_message(units.IN) == "Enter a height between 15.7 and 98.4 in."
