"""Clinical arithmetic: dosing weight, body surface area, dose, volume, vials, rate titration and visit length.

Plain functions with no Django imports (DESIGN §3, STYLE "Inside an app"), so each can be read next to the label or
standard it implements and tested exhaustively. The product catalogue, orders and patients are database rows; callers
pass their plain values in.

Numbers are Decimal throughout so that 0.1 + 0.2 is 0.3 and a dose never picks up a float artefact; floats passed in
are converted through their shortest representation (70.1 stays 70.1). Every number a nurse acts on comes with the
arithmetic that produced it ("2 g/kg × 70 kg = 140 g"): never hide how a number was reached.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from enum import StrEnum

Number = Decimal | int | float

TENTH = Decimal("0.1")
HUNDREDTH = Decimal("0.01")
# Divisions such as 0.5 × 70 ÷ 3 are carried to 28 digits; snapping to 1e-9 first stops 34.999…9 from rounding
# down to 34.9 or 55.000…1 minutes from rounding up to 56.
_SNAP = Decimal("1e-9")

CM_PER_INCH = Decimal("2.54")
FIRST_INFUSION_OBSERVATION_MIN = 60  # DESIGN §3: observe 60 min after a first infusion
LATER_INFUSION_OBSERVATION_MIN = 30  # DESIGN §3: 30 min after later ones
DEFAULT_SETUP_MIN = 30  # DESIGN §3: set-up about 30 min


# --- helpers -------------------------------------------------------------------------------------------------------


def _dec(value: Number | str, *, name: str) -> Decimal:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number, not a bool")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        number = Decimal(value.strip())
    else:
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    if not number.is_finite():
        raise ValueError(f"{name} must be a finite number")
    return number


def _positive(value: Number | str, *, name: str) -> Decimal:
    number = _dec(value, name=name)
    if number <= 0:
        raise ValueError(f"{name} must be greater than zero (got {fmt(number)})")
    return number


def fmt(value: Decimal, *, places: int = 4) -> str:
    """A number as a nurse reads it: plain notation, no trailing zeros (140, 138.6, 0.033)."""
    value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _round_half_up(value: Decimal, quantum: Decimal) -> Decimal:
    return value.quantize(_SNAP, rounding=ROUND_HALF_EVEN).quantize(quantum, rounding=ROUND_HALF_UP)


def _pump_rate(value: Decimal) -> Decimal:
    """mL/hr to 0.1, rounded down so the pump never runs faster than the ordered rate."""
    return value.quantize(_SNAP, rounding=ROUND_HALF_EVEN).quantize(TENTH, rounding=ROUND_DOWN)


def _ceil_minutes(value: Decimal) -> int:
    return int(value.quantize(_SNAP, rounding=ROUND_HALF_EVEN).to_integral_value(rounding=ROUND_CEILING))


# --- dosing weight and body size -----------------------------------------------------------------------------------


class DosingWeightMethod(StrEnum):
    ACTUAL = "actual"
    IDEAL = "ideal"
    ADJUSTED = "adjusted"


def _sex(sex: str) -> str:
    normalized = sex.strip().lower()
    if normalized in ("m", "male"):
        return "male"
    if normalized in ("f", "female"):
        return "female"
    raise ValueError(f"ideal body weight (Devine) needs sex male or female, got {sex!r}")


def _ideal_body_weight(*, height_cm: Number, sex: str) -> tuple[Decimal, str]:
    height = _positive(height_cm, name="height_cm")
    sex = _sex(sex)
    base = Decimal("50") if sex == "male" else Decimal("45.5")
    inches_over_60 = height / CM_PER_INCH - 60
    if inches_over_60 <= 0:
        return base, f"IBW (Devine, {sex}) = {fmt(base)} kg (height {fmt(height)} cm is 60 in or less: base weight)"
    ideal = _round_half_up(base + Decimal("2.3") * inches_over_60, TENTH)
    line = f"IBW (Devine, {sex}) = {fmt(base)} kg + 2.3 kg × ({fmt(height)} cm ÷ 2.54 − 60 in) = {fmt(ideal)} kg"
    return ideal, line


def ideal_body_weight_kg(*, height_cm: Number, sex: str) -> Decimal:
    """Ideal body weight, Devine 1974: 50 kg (male) or 45.5 kg (female) + 2.3 kg per inch over 60 in, to 0.1 kg.

    The formula is not defined below 5 ft; for a height of 60 in (152.4 cm) or less the base weight is returned
    rather than subtracting, and the prescriber should judge whether another dosing weight suits better.
    """
    return _ideal_body_weight(height_cm=height_cm, sex=sex)[0]


def adjusted_body_weight_kg(*, actual_kg: Number, ideal_kg: Number) -> Decimal:
    """Adjusted body weight = IBW + 0.4 × (actual − IBW), to 0.1 kg; a patient lighter than IBW is dosed on actual."""
    actual = _positive(actual_kg, name="actual_kg")
    ideal = _positive(ideal_kg, name="ideal_kg")
    if actual <= ideal:
        return actual
    return _round_half_up(ideal + Decimal("0.4") * (actual - ideal), TENTH)


@dataclass(frozen=True, kw_only=True)
class DosingWeight:
    kg: Decimal
    method: DosingWeightMethod
    lines: tuple[str, ...]


def dosing_weight(
    *, method: DosingWeightMethod | str, actual_kg: Number, height_cm: Number | None = None, sex: str | None = None
) -> DosingWeight:
    """The weight a dose is calculated on (DESIGN §3: actual by default, or ideal (Devine), or adjusted), with working.

    Ideal is never above actual: a patient lighter than their IBW is dosed on their actual weight, for "ideal" and
    for "adjusted" alike.
    """
    method = DosingWeightMethod(method)
    actual = _positive(actual_kg, name="actual_kg")
    if method is DosingWeightMethod.ACTUAL:
        return DosingWeight(kg=actual, method=method, lines=(f"dosing weight: actual {fmt(actual)} kg",))
    if height_cm is None or sex is None:
        raise ValueError(f"the {method} dosing weight needs height and sex")
    ideal, ideal_line = _ideal_body_weight(height_cm=height_cm, sex=sex)
    lines = [ideal_line]
    if actual <= ideal:
        kg = actual
        lines.append(f"dosing weight: actual {fmt(actual)} kg (at or below IBW {fmt(ideal)} kg, so dosed on actual)")
    elif method is DosingWeightMethod.IDEAL:
        kg = ideal
        lines.append(f"dosing weight: ideal {fmt(ideal)} kg (actual {fmt(actual)} kg)")
    else:
        kg = adjusted_body_weight_kg(actual_kg=actual, ideal_kg=ideal)
        lines.append(
            f"dosing weight: adjusted = {fmt(ideal)} kg + 0.4 × ({fmt(actual)} kg − {fmt(ideal)} kg) = {fmt(kg)} kg"
        )
    return DosingWeight(kg=kg, method=method, lines=tuple(lines))


def dosing_weight_kg(
    *, method: DosingWeightMethod | str, actual_kg: Number, height_cm: Number | None = None, sex: str | None = None
) -> Decimal:
    """Dosing weight in kg: "actual", "ideal" (Devine, never above actual) or "adjusted" (IBW + 0.4 × excess)."""
    return dosing_weight(method=method, actual_kg=actual_kg, height_cm=height_cm, sex=sex).kg


def bmi(*, weight_kg: Number, height_cm: Number) -> Decimal:
    """Body mass index = weight (kg) ÷ height (m)², to 0.1 kg/m² (WHO)."""
    weight = _positive(weight_kg, name="weight_kg")
    height_m = _positive(height_cm, name="height_cm") / 100
    return _round_half_up(weight / (height_m * height_m), TENTH)


def body_surface_area_m2(*, height_cm: Number, weight_kg: Number) -> Decimal:
    """Body surface area, Mosteller 1987: √(height cm × weight kg ÷ 3600), to 0.01 m²."""
    height = _positive(height_cm, name="height_cm")
    weight = _positive(weight_kg, name="weight_kg")
    return _round_half_up((height * weight / 3600).sqrt(), HUNDREDTH)


def body_surface_area_line(*, height_cm: Number, weight_kg: Number) -> str:
    """The Mosteller arithmetic as the nurse sees it: "BSA (Mosteller) = √(170 cm × 70 kg ÷ 3600) = 1.82 m²"."""
    bsa = body_surface_area_m2(height_cm=height_cm, weight_kg=weight_kg)
    height = _dec(height_cm, name="height_cm")
    weight = _dec(weight_kg, name="weight_kg")
    return f"BSA (Mosteller) = √({fmt(height)} cm × {fmt(weight)} kg ÷ 3600) = {fmt(bsa)} m²"


# --- dose ----------------------------------------------------------------------------------------------------------


class DoseRule(StrEnum):
    G_PER_KG = "g_per_kg"
    MG_PER_KG = "mg_per_kg"
    MG_PER_M2 = "mg_per_m2"
    FLAT_MG = "flat_mg"
    WEIGHT_TIERED = "weight_tiered"


@dataclass(frozen=True, kw_only=True)
class WeightTier:
    """One band of a weight-tiered dose: weights up to `upper_kg` (None = no upper limit) get `mg`.

    `upper_kg` is exclusive unless `upper_inclusive`; abatacept IV's label puts 60 kg and 100 kg in the middle band,
    so its tiers are (60, 500), (100, 750, inclusive), (None, 1000).
    """

    upper_kg: Decimal | None
    mg: Decimal
    upper_inclusive: bool = False

    def covers(self, weight_kg: Decimal) -> bool:
        if self.upper_kg is None:
            return True
        return weight_kg <= self.upper_kg if self.upper_inclusive else weight_kg < self.upper_kg


TierInput = WeightTier | tuple[Number | None, Number] | tuple[Number | None, Number, bool]


def weight_tiers(tiers: Sequence[TierInput]) -> tuple[WeightTier, ...]:
    """Tiers from plain data: WeightTier objects or (upper_kg or None, mg[, upper_inclusive]) in ascending order."""
    parsed: list[WeightTier] = []
    for tier in tiers:
        if not isinstance(tier, WeightTier):
            upper, mg, *rest = tier
            tier = WeightTier(
                upper_kg=None if upper is None else _positive(upper, name="tier upper_kg"),
                mg=_positive(mg, name="tier mg"),
                upper_inclusive=bool(rest[0]) if rest else False,
            )
        parsed.append(tier)
    if not parsed:
        raise ValueError("a weight-tiered dose needs at least one tier")
    uppers = [tier.upper_kg for tier in parsed]
    if any(upper is None for upper in uppers[:-1]):
        raise ValueError("only the last weight tier may have no upper limit")
    bounded = [upper for upper in uppers if upper is not None]
    if any(lower >= upper for lower, upper in itertools.pairwise(bounded)):
        raise ValueError("weight tiers must be in ascending order of upper limit")
    return tuple(parsed)


def _tier_label(lower: WeightTier | None, tier: WeightTier) -> str:
    parts = []
    if lower is not None and lower.upper_kg is not None:
        parts.append(f"> {fmt(lower.upper_kg)} kg" if lower.upper_inclusive else f"≥ {fmt(lower.upper_kg)} kg")
    if tier.upper_kg is not None:
        parts.append(f"≤ {fmt(tier.upper_kg)} kg" if tier.upper_inclusive else f"< {fmt(tier.upper_kg)} kg")
    return " and ".join(parts) or "any weight"


@dataclass(frozen=True, kw_only=True)
class Dose:
    amount: Decimal
    unit: str  # "g" or "mg"
    lines: tuple[str, ...]

    def __str__(self) -> str:
        return f"{fmt(self.amount)} {self.unit}"


def dose_per_cycle(
    *,
    rule: DoseRule | str,
    amount: Number | None,
    weight_kg: Number | None,
    bsa_m2: Number | None = None,
    tiers: Sequence[TierInput] | None = None,
) -> Dose:
    """The dose for one cycle under the order's dose rule (DESIGN §2 therapy order), with its arithmetic.

    g/kg (IVIG 2 g/kg per cycle) and mg/kg (infliximab 3–5 mg/kg) multiply the dosing weight; mg/m² multiplies the
    Mosteller BSA (cyclophosphamide); flat is the ordered mg (rituximab 1,000 mg); weight-tiered looks the weight up
    in `tiers` (abatacept IV label: < 60 kg 500 mg, 60–100 kg 750 mg, > 100 kg 1,000 mg). The amount is exact:
    rounding to what can be drawn up happens at the vials, not here.
    """
    rule = DoseRule(rule)
    if rule in (DoseRule.G_PER_KG, DoseRule.MG_PER_KG):
        per_kg = _positive(amount, name="amount")
        weight = _positive(weight_kg, name="weight_kg")
        unit = "g" if rule is DoseRule.G_PER_KG else "mg"
        total = per_kg * weight
        return Dose(
            amount=total, unit=unit, lines=(f"{fmt(per_kg)} {unit}/kg × {fmt(weight)} kg = {fmt(total)} {unit}",)
        )
    if rule is DoseRule.MG_PER_M2:
        if bsa_m2 is None:
            raise ValueError("an mg/m² dose needs the body surface area")
        per_m2 = _positive(amount, name="amount")
        bsa = _positive(bsa_m2, name="bsa_m2")
        total = per_m2 * bsa
        return Dose(amount=total, unit="mg", lines=(f"{fmt(per_m2)} mg/m² × {fmt(bsa)} m² = {fmt(total)} mg",))
    if rule is DoseRule.FLAT_MG:
        total = _positive(amount, name="amount")
        return Dose(amount=total, unit="mg", lines=(f"flat dose {fmt(total)} mg",))
    if tiers is None:
        raise ValueError("a weight-tiered dose needs its tiers")
    weight = _positive(weight_kg, name="weight_kg")
    parsed = weight_tiers(tiers)
    for lower, tier in zip((None, *parsed[:-1]), parsed, strict=True):
        if tier.covers(weight):
            label = _tier_label(lower, tier)
            line = f"weight {fmt(weight)} kg is in the tier {label} → {fmt(tier.mg)} mg"
            return Dose(amount=tier.mg, unit="mg", lines=(line,))
    raise ValueError(f"weight {fmt(weight)} kg is above the highest weight tier")


def dose_per_day(*, dose: Dose, days: int) -> Dose:
    """A cycle's dose split equally over its days (Octagam 10% for dermatomyositis: 2 g/kg over 2–5 consecutive days).

    An exact share is kept as is (140 g over 5 days = 28 g); a share that does not divide to 0.01 is rounded to 0.01
    of the unit and the line says so.
    """
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"days must be a whole number of at least 1 (got {days!r})")
    share = dose.amount / days
    rounded = share.quantize(HUNDREDTH, rounding=ROUND_HALF_UP)
    exact = share == rounded
    amount = share if exact else rounded
    sign = "=" if exact else "≈"
    line = f"{fmt(dose.amount)} {dose.unit} ÷ {days} days {sign} {fmt(amount)} {dose.unit} a day"
    return Dose(amount=amount, unit=dose.unit, lines=(*dose.lines, line))


# --- volume --------------------------------------------------------------------------------------------------------


def _dose_mg(*, dose_amount: Number, dose_unit: str) -> Decimal:
    amount = _positive(dose_amount, name="dose_amount")
    if dose_unit == "g":
        return amount * 1000
    if dose_unit == "mg":
        return amount
    raise ValueError(f"dose_unit must be 'g' or 'mg' (got {dose_unit!r})")


def concentration_mg_per_ml(*, percent: Number) -> Decimal:
    """A percentage strength as mg/mL: 10% is 10 g per 100 mL = 100 mg/mL (so 1 g of a 10% product is 10 mL)."""
    return _positive(percent, name="percent") * 10


def volume_ml(*, dose_amount: Number, dose_unit: str, concentration_mg_per_ml: Number) -> Decimal:
    """Volume to infuse = dose (mg) ÷ concentration (mg/mL), to 0.1 mL: 28 g of a 10% (100 mg/mL) product = 280 mL."""
    dose_mg = _dose_mg(dose_amount=dose_amount, dose_unit=dose_unit)
    concentration = _positive(concentration_mg_per_ml, name="concentration_mg_per_ml")
    return _round_half_up(dose_mg / concentration, TENTH)


def volume_line(*, dose_amount: Number, dose_unit: str, concentration_mg_per_ml: Number) -> str:
    """The volume arithmetic as the nurse sees it: "28 g = 28000 mg ÷ 100 mg/mL = 280 mL"."""
    dose_mg = _dose_mg(dose_amount=dose_amount, dose_unit=dose_unit)
    volume = volume_ml(dose_amount=dose_amount, dose_unit=dose_unit, concentration_mg_per_ml=concentration_mg_per_ml)
    concentration = _dec(concentration_mg_per_ml, name="concentration_mg_per_ml")
    start = f"{fmt(_dec(dose_amount, name='dose_amount'))} g = " if dose_unit == "g" else ""
    return f"{start}{fmt(dose_mg)} mg ÷ {fmt(concentration)} mg/mL = {fmt(volume)} mL"


# --- vials ---------------------------------------------------------------------------------------------------------

_MAX_VIAL_STEPS = 5_000_000


# Agency policy: among vial combinations whose waste is within 2.5% of the dose, the fewest vials (fewer vials to
# reconstitute and spike, fewer lots to record) win over a few mg less waste: 1,100 mg of methylprednisolone is
# 1 × 1,000 + 1 × 125 mg (waste 25 mg, 2.3%) rather than 1 × 500 + 15 × 40 mg (no waste, 16 vials). Small enough that
# immune globulin is not wasted for a vial less: 28 g stays 20 + 5 + 2 + 1 g, never 29 g.
VIAL_WASTE_ALLOWANCE = Decimal("0.025")


@dataclass(frozen=True, kw_only=True)
class VialCombination:
    counts: dict[Decimal, int]  # vial size → number of vials, largest size first, only sizes used
    total: Decimal
    waste: Decimal
    # The least-waste combination, when the fewest-vials choice within the allowance is a different one.
    least_waste: VialCombination | None = None

    @property
    def vial_count(self) -> int:
        return sum(self.counts.values())

    def describe(self, *, unit: str) -> str:
        """ "1 × 20 g + 1 × 5 g + 1 × 2 g + 1 × 1 g = 28 g (waste 0 g)"."""
        parts = " + ".join(f"{count} × {fmt(size)} {unit}" for size, count in self.counts.items())
        return f"{parts} = {fmt(self.total)} {unit} (waste {fmt(self.waste)} {unit})"


def best_vial_combination(
    *, dose_amount: Number, vial_sizes: Sequence[Number], waste_allowance: Number = VIAL_WASTE_ALLOWANCE
) -> VialCombination:
    """The vials that cover the dose: the fewest vials among the combinations wasting at most ``waste_allowance`` of
    the dose (a fraction; 0 for the least waste), and among equal counts the least waste. When that differs from the
    least-waste combination, ``least_waste`` holds it, so both can be shown.

    Sizes are in the dose's unit (IVIG in g: 1, 2, 5, 10, 20; rituximab in mg: 100, 500). Exact: amounts are scaled
    to whole multiples of the sizes' greatest common divisor and solved by dynamic programming (unbounded change-making
    by vial count). The least-waste total is always below dose + smallest vial, which bounds the search.
    """
    dose = _positive(dose_amount, name="dose_amount")
    sizes = sorted({_positive(size, name="vial size") for size in vial_sizes}, reverse=True)
    if not sizes:
        raise ValueError("at least one vial size is needed")
    places = max(-min(0, int(value.as_tuple().exponent)) for value in (dose, *sizes))
    scale = Decimal(10) ** places
    scaled_sizes = [int(size * scale) for size in sizes]
    unit = math.gcd(*scaled_sizes)
    steps = [size // unit for size in scaled_sizes]
    target = -(-int(dose * scale) // unit)  # whole gcd units needed, rounded up
    allowance = _dec(waste_allowance, name="waste_allowance")
    if not 0 <= allowance < 1:
        raise ValueError("the waste allowance is a fraction of the dose, from 0 up to 1")
    allowed = int(dose * (1 + allowance) * scale) // unit  # the largest total within the allowance, in gcd units
    limit = max(target + min(steps) - 1, allowed)
    if limit > _MAX_VIAL_STEPS:
        raise ValueError("dose and vial sizes are too far apart to combine")

    unreachable = limit + 1
    fewest = [0] + [unreachable] * limit  # fewest vials making exactly t units
    last_vial = [0] * (limit + 1)
    for total in range(1, limit + 1):
        for step in steps:  # largest first: among equal counts the larger vials win
            if step <= total and fewest[total - step] + 1 < fewest[total]:
                fewest[total] = fewest[total - step] + 1
                last_vial[total] = step
    least = next(total for total in range(target, limit + 1) if fewest[total] < unreachable)
    within = [total for total in range(least, max(least, allowed) + 1) if fewest[total] < unreachable]
    best = min(within, key=lambda total: (fewest[total], total))

    def combination(chosen: int) -> VialCombination:
        counts_by_step: dict[int, int] = {}
        remaining = chosen
        while remaining:
            step = last_vial[remaining]
            counts_by_step[step] = counts_by_step.get(step, 0) + 1
            remaining -= step
        counts = {size: counts_by_step[step] for size, step in zip(sizes, steps, strict=True) if step in counts_by_step}
        total = Decimal(chosen * unit) / scale
        return VialCombination(counts=counts, total=total, waste=total - dose)

    chosen = combination(best)
    if best == least:
        return chosen
    return VialCombination(counts=chosen.counts, total=chosen.total, waste=chosen.waste, least_waste=combination(least))


# --- titration -----------------------------------------------------------------------------------------------------


class RateBasis(StrEnum):
    WEIGHT = "weight"  # mL/kg/min or mL/kg/hr (IVIG)
    MG_PER_HR = "mg_per_hr"  # fixed mg/hr whatever the weight (rituximab)
    FIXED_DURATION = "fixed_duration"  # the whole volume over a set time (infliximab, abatacept, …)


_PER_KG_UNITS = {
    "ml/kg/min": "mL/kg/min",
    "ml_per_kg_min": "mL/kg/min",
    "ml/kg/hr": "mL/kg/hr",
    "ml_per_kg_hr": "mL/kg/hr",
}


@dataclass(frozen=True, kw_only=True)
class TitrationProtocol:
    """A product's rate protocol, as plain fields a catalogue row can fill. Build one with the constructors.

    Weight-based rates are held in mL/kg/hr, which converts exactly from both label units (0.01 mL/kg/min × 60 =
    0.6 mL/kg/hr; Gammagard Liquid's 0.5 mL/kg/hr as is), so mL/hr = weight × mL/kg/hr has no rounding drift.
    `label_rate_unit` says which unit the label and the explanation lines use.
    """

    product_name: str
    basis: RateBasis
    step_interval_min: int | None = None
    # weight-based
    label_rate_unit: str | None = None
    start_ml_per_kg_hr: Decimal | None = None
    step_ml_per_kg_hr: Decimal | None = None
    max_ml_per_kg_hr: Decimal | None = None
    at_risk_max_ml_per_kg_hr: Decimal | None = None
    # mg/hr
    first_start_mg_per_hr: Decimal | None = None
    first_step_mg_per_hr: Decimal | None = None
    later_start_mg_per_hr: Decimal | None = None
    later_step_mg_per_hr: Decimal | None = None
    max_mg_per_hr: Decimal | None = None
    min_concentration_mg_per_ml: Decimal | None = None
    max_concentration_mg_per_ml: Decimal | None = None
    # fixed duration
    infusion_duration_min: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "basis", RateBasis(self.basis))
        for name in (
            "start_ml_per_kg_hr",
            "step_ml_per_kg_hr",
            "max_ml_per_kg_hr",
            "at_risk_max_ml_per_kg_hr",
            "first_start_mg_per_hr",
            "first_step_mg_per_hr",
            "later_start_mg_per_hr",
            "later_step_mg_per_hr",
            "max_mg_per_hr",
            "min_concentration_mg_per_ml",
            "max_concentration_mg_per_ml",
        ):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _dec(value, name=name))
        if self.basis is RateBasis.WEIGHT:
            self._check_ladder(self.start_ml_per_kg_hr, self.step_ml_per_kg_hr, self.max_ml_per_kg_hr, "mL/kg/hr")
            if self.label_rate_unit not in ("mL/kg/min", "mL/kg/hr"):
                raise ValueError("label_rate_unit must be 'mL/kg/min' or 'mL/kg/hr'")
            reduced = self.at_risk_max_ml_per_kg_hr
            if reduced is not None and not 0 < reduced <= self.max_ml_per_kg_hr:
                raise ValueError("the at-risk maximum must be above zero and not above the maximum")
        elif self.basis is RateBasis.MG_PER_HR:
            self._check_ladder(self.first_start_mg_per_hr, self.first_step_mg_per_hr, self.max_mg_per_hr, "mg/hr")
            self._check_ladder(self.later_start_mg_per_hr, self.later_step_mg_per_hr, self.max_mg_per_hr, "mg/hr")
            low, high = self.min_concentration_mg_per_ml, self.max_concentration_mg_per_ml
            if low is not None and high is not None and low > high:
                raise ValueError("the concentration range is upside down")
        elif not isinstance(self.infusion_duration_min, int) or self.infusion_duration_min <= 0:
            raise ValueError("a fixed-duration protocol needs infusion_duration_min above zero")

    def _check_ladder(self, start: Decimal | None, step: Decimal | None, maximum: Decimal | None, unit: str) -> None:
        if start is None or step is None or maximum is None:
            raise ValueError(f"{self.product_name}: start, step and maximum ({unit}) are all needed")
        if not 0 < start <= maximum:
            raise ValueError(f"{self.product_name}: the start rate must be above zero and not above the maximum")
        if step < 0:
            raise ValueError(f"{self.product_name}: the rate step cannot be negative")
        if (
            step > 0
            and start < maximum
            and (not isinstance(self.step_interval_min, int) or self.step_interval_min <= 0)
        ):
            raise ValueError(f"{self.product_name}: a titrated rate needs step_interval_min above zero")

    @classmethod
    def weight_based(
        cls,
        *,
        product_name: str,
        rate_unit: str,
        start: Number,
        step: Number,
        step_interval_min: int | None,
        maximum: Number,
        at_risk_maximum: Number | None = None,
    ) -> TitrationProtocol:
        """IVIG-style protocol with rates in the label's unit, "mL/kg/min" (Octagam) or "mL/kg/hr" (Gammagard)."""
        unit = _PER_KG_UNITS.get(rate_unit.strip().lower())
        if unit is None:
            raise ValueError(f"rate_unit must be mL/kg/min or mL/kg/hr (got {rate_unit!r})")
        per_hr = 60 if unit == "mL/kg/min" else 1

        def convert(value: Number | None, name: str) -> Decimal | None:
            return None if value is None else _dec(value, name=name) * per_hr

        return cls(
            product_name=product_name,
            basis=RateBasis.WEIGHT,
            step_interval_min=step_interval_min,
            label_rate_unit=unit,
            start_ml_per_kg_hr=convert(start, "start"),
            step_ml_per_kg_hr=convert(step, "step"),
            max_ml_per_kg_hr=convert(maximum, "maximum"),
            at_risk_max_ml_per_kg_hr=convert(at_risk_maximum, "at_risk_maximum"),
        )

    @classmethod
    def mg_per_hour(
        cls,
        *,
        product_name: str,
        first_start_mg_per_hr: Number,
        first_step_mg_per_hr: Number,
        max_mg_per_hr: Number,
        step_interval_min: int | None,
        later_start_mg_per_hr: Number | None = None,
        later_step_mg_per_hr: Number | None = None,
        min_concentration_mg_per_ml: Number | None = None,
        max_concentration_mg_per_ml: Number | None = None,
    ) -> TitrationProtocol:
        """Fixed mg/hr protocol (rituximab: first 50 +50/30 min to 400; later 100 +100/30 min to 400; 1–4 mg/mL).

        Later-infusion fields default to the first-infusion ones when the label has a single schedule.
        """
        return cls(
            product_name=product_name,
            basis=RateBasis.MG_PER_HR,
            step_interval_min=step_interval_min,
            first_start_mg_per_hr=first_start_mg_per_hr,
            first_step_mg_per_hr=first_step_mg_per_hr,
            later_start_mg_per_hr=first_start_mg_per_hr if later_start_mg_per_hr is None else later_start_mg_per_hr,
            later_step_mg_per_hr=first_step_mg_per_hr if later_step_mg_per_hr is None else later_step_mg_per_hr,
            max_mg_per_hr=max_mg_per_hr,
            min_concentration_mg_per_ml=min_concentration_mg_per_ml,
            max_concentration_mg_per_ml=max_concentration_mg_per_ml,
        )

    @classmethod
    def fixed_duration(cls, *, product_name: str, infusion_duration_min: int) -> TitrationProtocol:
        """The whole volume over a set time (labels: infliximab at least 120 min, abatacept 30 min).

        Methylprednisolone (30–60 min) and cyclophosphamide (per order) take the order's minutes.
        """
        return cls(
            product_name=product_name, basis=RateBasis.FIXED_DURATION, infusion_duration_min=infusion_duration_min
        )


@dataclass(frozen=True, kw_only=True)
class TitrationStep:
    number: int  # 1-based
    offset_min: int  # minutes from the start of the infusion
    starts_at: datetime | None
    duration_min: Decimal  # the last step may be cut short when the volume runs out
    ml_per_hr: Decimal  # pump rate, 0.1 mL/hr, rounded down
    volume_ml: Decimal
    at_maximum: bool
    ml_per_kg_hr: Decimal | None = None  # weight-based protocols
    mg_per_hr: Decimal | None = None  # mg/hr protocols

    @property
    def ml_per_kg_min(self) -> Decimal | None:
        return None if self.ml_per_kg_hr is None else self.ml_per_kg_hr / 60


@dataclass(frozen=True, kw_only=True)
class TitrationPlan:
    product_name: str
    steps: tuple[TitrationStep, ...]
    volume_ml: Decimal
    max_ml_per_hr: Decimal  # the ceiling for this patient; no step is above it
    max_reason: str
    reached_max: bool  # False when the volume ran out while still titrating
    infusion_minutes_exact: Decimal
    total_infusion_minutes: int  # rounded up to a whole minute, for the schedule
    starts_at: datetime | None
    ends_at: datetime | None
    lines: tuple[str, ...] = field(default=())
    max_ml_per_kg_hr: Decimal | None = None
    max_mg_per_hr: Decimal | None = None


def plain_data(value):
    """A value as JSON-ready data: Decimals and times as text, tuples as lists, enums as their value."""
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [plain_data(item) for item in value]
    return value


def plan_as_data(plan: TitrationPlan) -> dict:
    """The plan as JSON-ready data (Decimals and times as text), so a started infusion keeps it unchanged."""
    plain = plain_data
    data = {name: plain(getattr(plan, name)) for name in plan.__dataclass_fields__ if name != "steps"}
    data["steps"] = [{name: plain(getattr(step, name)) for name in step.__dataclass_fields__} for step in plan.steps]
    return data


_PLAN_DECIMALS = ("volume_ml", "max_ml_per_hr", "infusion_minutes_exact", "max_ml_per_kg_hr", "max_mg_per_hr")
_STEP_DECIMALS = ("duration_min", "ml_per_hr", "volume_ml", "ml_per_kg_hr", "mg_per_hr")


def plan_from_data(data: dict) -> TitrationPlan:
    """The plan ``plan_as_data`` wrote, exactly as it was."""

    def decimals(row: dict, names) -> dict:
        return {name: (None if row.get(name) is None else Decimal(row[name])) for name in names}

    def moment(text):
        return None if text is None else datetime.fromisoformat(text)

    steps = tuple(
        TitrationStep(**{**step, **decimals(step, _STEP_DECIMALS), "starts_at": moment(step.get("starts_at"))})
        for step in data["steps"]
    )
    return TitrationPlan(
        **{
            **{name: value for name, value in data.items() if name != "steps"},
            **decimals(data, _PLAN_DECIMALS),
            "steps": steps,
            "starts_at": moment(data.get("starts_at")),
            "ends_at": moment(data.get("ends_at")),
            "lines": tuple(data.get("lines") or ()),
        }
    )


@dataclass(frozen=True)
class _Rung:
    ml_per_hr: Decimal
    label: str  # "0.01 mL/kg/min", "50 mg/hr"
    ml_per_kg_hr: Decimal | None = None
    mg_per_hr: Decimal | None = None


def _ladder(*, start: Decimal, step: Decimal, maximum: Decimal) -> list[Decimal]:
    rates = [min(start, maximum)]
    while step > 0 and rates[-1] < maximum:
        rates.append(min(rates[-1] + step, maximum))
    return rates


def _per_kg_label(ml_per_kg_hr: Decimal, unit: str) -> str:
    value = ml_per_kg_hr / 60 if unit == "mL/kg/min" else ml_per_kg_hr
    return f"{fmt(value, places=5)} {unit}"


def _weight_rate_line(what: str, ml_per_kg_hr: Decimal, unit: str, weight: Decimal, ml_per_hr: Decimal) -> str:
    factor = " × 60" if unit == "mL/kg/min" else ""
    return f"{what} {_per_kg_label(ml_per_kg_hr, unit)} × {fmt(weight)} kg{factor} = {fmt(ml_per_hr)} mL/hr"


def titration_plan(
    *,
    protocol: TitrationProtocol,
    weight_kg: Number | None,
    volume_ml: Number,
    at_risk: bool = False,
    first_infusion: bool = False,
    product_switch: bool = False,
    concentration_mg_per_ml: Number | None = None,
    start: datetime | None = None,
) -> TitrationPlan:
    """The rate steps for one infusion, how long it takes and why (DESIGN §3 and each product's label).

    Weight-based (IVIG): mL/hr = weight (kg) × rate (mL/kg/min) × 60, starting at the label's start rate and rising
    by the step every interval while tolerated up to the maximum, or the reduced maximum when the patient is at risk
    of renal dysfunction or thrombosis (Octagam 10%: start 0.01, +0.01 every 30 min, max 0.04, 0.033 at risk).
    mg/hr (rituximab): mL/hr = mg/hr ÷ mg/mL after dilution, first-infusion or later-infusion schedule. Fixed duration:
    mL/hr = volume ÷ minutes × 60.

    Pump rates are rounded down to 0.1 mL/hr, so no step exceeds the ceiling. The time is the integral of the volume
    delivered: each step runs a full interval unless the volume runs out first; the top rate runs to the end.

    On a product switch titration restarts at the new product's start rate: the plan is the same as a first
    titration (for rituximab, the first-infusion schedule) and a faster rate reached on the previous product is never
    carried over.
    """
    volume = _positive(volume_ml, name="volume_ml")
    lines: list[str] = []
    max_ml_per_kg_hr: Decimal | None = None
    max_mg_per_hr: Decimal | None = None
    interval = protocol.step_interval_min or 0
    rounded_note = False

    if protocol.basis is RateBasis.WEIGHT:
        if weight_kg is None:
            raise ValueError(f"{protocol.product_name} is dosed by weight: weight_kg is needed")
        weight = _positive(weight_kg, name="weight_kg")
        unit = protocol.label_rate_unit
        label_max = protocol.max_ml_per_kg_hr
        reduced = protocol.at_risk_max_ml_per_kg_hr
        ceiling = min(label_max, reduced) if at_risk and reduced is not None else label_max
        max_ml_per_kg_hr = ceiling

        def to_ml_per_hr(rate: Decimal) -> Decimal:
            return _pump_rate(weight * rate)

        max_ml_per_hr = to_ml_per_hr(ceiling)
        if at_risk and reduced is not None:
            max_reason = f"reduced maximum {_per_kg_label(ceiling, unit)} for renal or thrombosis risk"
        else:
            max_reason = f"label maximum {_per_kg_label(ceiling, unit)}"
        formula = "weight (kg) × rate (mL/kg/min) × 60" if unit == "mL/kg/min" else "weight (kg) × rate (mL/kg/hr)"
        lines.append(f"{protocol.product_name}: {fmt(volume)} mL at {fmt(weight)} kg; mL/hr = {formula}")
        rates = _ladder(start=protocol.start_ml_per_kg_hr, step=protocol.step_ml_per_kg_hr, maximum=ceiling)
        rungs = [
            _Rung(ml_per_hr=to_ml_per_hr(rate), label=_per_kg_label(rate, unit), ml_per_kg_hr=rate) for rate in rates
        ]
        lines.append(_weight_rate_line("start", rates[0], unit, weight, rungs[0].ml_per_hr))
        if len(rates) > 1:
            lines.append(
                f"raise by {_per_kg_label(protocol.step_ml_per_kg_hr, unit)} every {interval} min if tolerated"
            )
        kind = "reduced maximum" if at_risk and reduced is not None else "label maximum"
        lines.append(_weight_rate_line(kind, ceiling, unit, weight, max_ml_per_hr))
        if at_risk and reduced is not None and reduced < label_max:
            lines.append(
                f"(renal or thrombosis risk: maximum lowered from the label's {_per_kg_label(label_max, unit)})"
            )
        rounded_note = any(rung.ml_per_hr != weight * rate for rung, rate in zip(rungs, rates, strict=True))

    elif protocol.basis is RateBasis.MG_PER_HR:
        if concentration_mg_per_ml is None:
            raise ValueError(f"{protocol.product_name} is titrated in mg/hr: concentration_mg_per_ml is needed")
        concentration = _positive(concentration_mg_per_ml, name="concentration_mg_per_ml")
        low, high = protocol.min_concentration_mg_per_ml, protocol.max_concentration_mg_per_ml
        if (low is not None and concentration < low) or (high is not None and concentration > high):
            raise ValueError(
                f"{protocol.product_name} must be diluted to {fmt(low or Decimal(0))}–{fmt(high or Decimal(0))} mg/mL "
                f"(got {fmt(concentration)} mg/mL)"
            )
        use_first = first_infusion or product_switch
        start_mg = protocol.first_start_mg_per_hr if use_first else protocol.later_start_mg_per_hr
        step_mg = protocol.first_step_mg_per_hr if use_first else protocol.later_step_mg_per_hr
        max_mg_per_hr = protocol.max_mg_per_hr
        max_ml_per_hr = _pump_rate(max_mg_per_hr / concentration)
        max_reason = f"label maximum {fmt(max_mg_per_hr)} mg/hr"
        schedule = "first-infusion" if use_first else "later-infusion"
        lines.append(
            f"{protocol.product_name}: {fmt(volume)} mL at {fmt(concentration)} mg/mL; mL/hr = mg/hr ÷ mg/mL; "
            f"{schedule} schedule"
        )
        rates = _ladder(start=start_mg, step=step_mg, maximum=max_mg_per_hr)
        rungs = [
            _Rung(ml_per_hr=_pump_rate(rate / concentration), label=f"{fmt(rate)} mg/hr", mg_per_hr=rate)
            for rate in rates
        ]
        lines.append(f"start {fmt(rates[0])} mg/hr ÷ {fmt(concentration)} mg/mL = {fmt(rungs[0].ml_per_hr)} mL/hr")
        if len(rates) > 1:
            lines.append(f"raise by {fmt(step_mg)} mg/hr every {interval} min if tolerated")
        lines.append(f"{max_reason} ÷ {fmt(concentration)} mg/mL = {fmt(max_ml_per_hr)} mL/hr")
        rounded_note = any(rung.ml_per_hr != rate / concentration for rung, rate in zip(rungs, rates, strict=True))

    else:
        duration = protocol.infusion_duration_min
        exact_rate = volume * 60 / duration
        max_ml_per_hr = _pump_rate(exact_rate)
        if max_ml_per_hr <= 0:
            raise ValueError(f"{fmt(volume)} mL over {duration} min is below 0.1 mL/hr")
        max_reason = f"fixed duration: {fmt(volume)} mL over {duration} min"
        lines.append(f"{protocol.product_name}: {fmt(volume)} mL over {duration} min")
        lines.append(f"{fmt(volume)} mL ÷ {duration} min × 60 = {fmt(max_ml_per_hr)} mL/hr")
        rungs = [_Rung(ml_per_hr=max_ml_per_hr, label=f"over {duration} min")]
        rounded_note = max_ml_per_hr != exact_rate

    if rungs[0].ml_per_hr <= 0:
        raise ValueError(f"{protocol.product_name}: the start rate is below 0.1 mL/hr for this patient")
    if at_risk and protocol.basis is not RateBasis.FIXED_DURATION and protocol.at_risk_max_ml_per_kg_hr is None:
        lines.append(
            "patient at renal or thrombosis risk: this protocol has no reduced maximum; "
            "use the slowest practicable rate"
        )
    if product_switch:
        lines.append(
            f"product switch: titration restarts at the start rate of {protocol.product_name}, the same plan as a "
            "first titration; a faster rate reached on the previous product is never carried over"
        )
    if rounded_note:
        lines.append("pump rates are rounded down to 0.1 mL/hr so the pump never runs faster than ordered")

    steps: list[TitrationStep] = []
    remaining = volume
    offset = 0
    for number, rung in enumerate(rungs, start=1):
        is_top = number == len(rungs)
        full_volume = rung.ml_per_hr * interval / 60
        if is_top or remaining <= full_volume:
            duration_min = remaining * 60 / rung.ml_per_hr
            step_volume = remaining
        else:
            duration_min = Decimal(interval)
            step_volume = full_volume
        at_maximum = is_top and rung.ml_per_hr == max_ml_per_hr
        steps.append(
            TitrationStep(
                number=number,
                offset_min=offset,
                starts_at=None if start is None else start + timedelta(minutes=offset),
                duration_min=duration_min,
                ml_per_hr=rung.ml_per_hr,
                volume_ml=step_volume,
                at_maximum=at_maximum,
                ml_per_kg_hr=rung.ml_per_kg_hr,
                mg_per_hr=rung.mg_per_hr,
            )
        )
        end = Decimal(offset) + duration_min
        tail = " (end of infusion)" if step_volume == remaining else ""
        lines.append(
            f"step {number}, {offset}–{fmt(end, places=1)} min: {rung.label} = {fmt(rung.ml_per_hr)} mL/hr "
            f"→ {fmt(step_volume, places=2)} mL{tail}"
        )
        remaining -= step_volume
        if remaining <= 0:
            break
        offset += interval

    exact_minutes = sum((step.duration_min for step in steps), Decimal(0))
    total_minutes = _ceil_minutes(exact_minutes)
    reached_max = steps[-1].at_maximum
    if not reached_max:
        lines.append(f"the maximum rate ({fmt(max_ml_per_hr)} mL/hr) is not reached before the volume is infused")
    if Decimal(total_minutes) == exact_minutes:
        lines.append(f"total: {fmt(volume)} mL in {total_minutes} min")
    else:
        lines.append(f"total: {fmt(volume)} mL in {fmt(exact_minutes, places=1)} min, planned as {total_minutes} min")
    return TitrationPlan(
        product_name=protocol.product_name,
        steps=tuple(steps),
        volume_ml=volume,
        max_ml_per_hr=max_ml_per_hr,
        max_reason=max_reason,
        reached_max=reached_max,
        infusion_minutes_exact=exact_minutes,
        total_infusion_minutes=total_minutes,
        starts_at=start,
        ends_at=None if start is None else start + timedelta(minutes=total_minutes),
        lines=tuple(lines),
        max_ml_per_kg_hr=max_ml_per_kg_hr,
        max_mg_per_hr=max_mg_per_hr,
    )


# --- visit length --------------------------------------------------------------------------------------------------


def planned_visit_minutes(
    *, infusion_minutes: int, first_infusion: bool, setup_minutes: int = DEFAULT_SETUP_MIN
) -> int:
    """Planned visit length, DESIGN §3: set-up + infusion + observation (60 min after a first infusion, 30 later)."""
    for name, value in (("infusion_minutes", infusion_minutes), ("setup_minutes", setup_minutes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a whole number of minutes, zero or more (got {value!r})")
    observation = FIRST_INFUSION_OBSERVATION_MIN if first_infusion else LATER_INFUSION_OBSERVATION_MIN
    return setup_minutes + infusion_minutes + observation
