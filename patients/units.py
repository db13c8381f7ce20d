"""Units and plausible ranges for body measurements. No Django imports.

Entered values carry an explicit unit; everything is stored in SI (kg, cm).
Plausible ranges follow DESIGN §3 (weight 2–350 kg); height 40–250 cm covers
infants to the tallest adults.
"""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

KG, LB = "kg", "lb"
CM, IN = "cm", "in"
WEIGHT_UNITS = [(KG, "kg"), (LB, "lb")]
HEIGHT_UNITS = [(CM, "cm"), (IN, "in")]

KG_PER_LB = Decimal("0.45359237")  # exact, international avoirdupois pound
CM_PER_IN = Decimal("2.54")  # exact

WEIGHT_KG_MIN, WEIGHT_KG_MAX = Decimal("2"), Decimal("350")
HEIGHT_CM_MIN, HEIGHT_CM_MAX = Decimal("40"), Decimal("250")

ONE_DECIMAL = Decimal("0.1")


def _round(value: Decimal) -> Decimal:
    return value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def to_kg(value: Decimal, unit: str) -> Decimal:
    if unit == KG:
        return _round(Decimal(value))
    if unit == LB:
        return _round(Decimal(value) * KG_PER_LB)
    raise ValueError(f"Unknown weight unit {unit!r}")


def to_cm(value: Decimal, unit: str) -> Decimal:
    if unit == CM:
        return _round(Decimal(value))
    if unit == IN:
        return _round(Decimal(value) * CM_PER_IN)
    raise ValueError(f"Unknown height unit {unit!r}")


def kg_to_lb(kg: Decimal) -> Decimal:
    return _round(Decimal(kg) / KG_PER_LB)


def cm_to_in(cm: Decimal) -> Decimal:
    return _round(Decimal(cm) / CM_PER_IN)


def weight_range_message(unit: str) -> str:
    low, high = (WEIGHT_KG_MIN, WEIGHT_KG_MAX) if unit == KG else (kg_to_lb(WEIGHT_KG_MIN), kg_to_lb(WEIGHT_KG_MAX))
    return f"Enter a weight between {low:g} and {high:g} {unit}."


def height_range_message(unit: str) -> str:
    low, high = (HEIGHT_CM_MIN, HEIGHT_CM_MAX) if unit == CM else (cm_to_in(HEIGHT_CM_MIN), cm_to_in(HEIGHT_CM_MAX))
    return f"Enter a height between {low:g} and {high:g} {unit}."


DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y")


def parse_date(text: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None
