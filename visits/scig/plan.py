"""The weekly Hizentra plan: dose, volume, how many sites, how much and how fast per site, and how long it takes.

Plain arithmetic with no Django imports, like ``visits.clinical``: the order and the patient are rows; callers pass
their plain values in. Numbers are Decimal; every result carries the lines that show how it was reached.

The label numbers are constants here, each with the place it comes from. Rounding: the weekly dose is shown to
0.1 g (half up) but the volume is taken from the unrounded dose, then rounded half up to 0.1 mL. So a 100 kg patient
switching from IVIG 0.5 g/kg every 4 weeks gets 50 g ÷ 4 × 1.37 = 17.125 g, shown as 17.1 g, and 17.125 g ÷
200 mg/mL = 85.625 mL, planned as 85.6 mL (rounding the dose first would give 85.5 mL).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

Number = Decimal | int | float | str

TENTH = Decimal("0.1")
_SNAP = Decimal("1e-9")  # as in visits.clinical: 14.999…9 must not round down to 14.9

LABEL = "Hizentra US prescribing information"

# Hizentra is a 20% liquid: 0.2 g per mL = 200 mg/mL (label, section 3 Dosage forms and strengths).
CONCENTRATION_MG_PER_ML = Decimal(200)
CONCENTRATION_SOURCE = f"{LABEL}, section 3: 20% liquid, 0.2 g/mL"

# PI: initial weekly dose = previous IGIV dose (g) ÷ number of weeks between IGIV doses × 1.37 (section 2.2).
PI_CONVERSION_FACTOR = Decimal("1.37")
PI_CONVERSION_SOURCE = f"{LABEL}, section 2.2 (PI): previous IGIV dose (g) ÷ weeks between IGIV doses × 1.37"

# CIDP: 0.2 g/kg weekly; 0.4 g/kg weekly was also safe and effective (section 2.2).
CIDP_DOSE_G_PER_KG = Decimal("0.2")
CIDP_MAX_DOSE_G_PER_KG = Decimal("0.4")
CIDP_DOSE_SOURCE = f"{LABEL}, section 2.2 (CIDP): 0.2 g/kg weekly, up to 0.4 g/kg"

# Sites: up to 12 per infusion, up to 4 infusing at a time, at least 2 inches apart (manufacturer's administration
# guide to the label's section 2.3). The planner never plans more than 12; the infusion time counts rounds of 4.
MAX_SITES = 12
SIMULTANEOUS_SITES = 4
SITES_SOURCE = f"{LABEL}, section 2.3, and CSL Behring's administration guide: up to 12 sites per infusion, 4 at a time"


@dataclass(frozen=True, kw_only=True)
class SiteLimits:
    """The label's per-site limits for one indication: the first infusions', then the later ones'."""

    indication: str
    first_infusions: int  # how many infusions keep the first-infusion limits
    first_site_volume_ml: Decimal
    first_site_rate_ml_per_hr: Decimal
    later_site_volume_ml: Decimal
    later_site_rate_ml_per_hr: Decimal
    max_sites: int
    source: str

    def for_infusion(self, number: int) -> tuple[Decimal, Decimal, str]:
        """(volume per site, rate per site, which limits) for the ``number``-th infusion (1-based)."""
        if number <= self.first_infusions:
            return self.first_site_volume_ml, self.first_site_rate_ml_per_hr, "first infusion"
        return self.later_site_volume_ml, self.later_site_rate_ml_per_hr, "later infusions"


# Section 2.3, table of infusion parameters, "1st infusion" and "subsequent infusions": the label counts only the
# first infusion as "first"; every later one may use the larger limits as tolerated.
HIZENTRA_LIMITS = {
    "pi": SiteLimits(
        indication="pi",
        first_infusions=1,
        first_site_volume_ml=Decimal(15),
        first_site_rate_ml_per_hr=Decimal(15),
        later_site_volume_ml=Decimal(25),
        later_site_rate_ml_per_hr=Decimal(25),
        max_sites=MAX_SITES,
        source=f"{LABEL}, section 2.3 (PI): 1st infusion ≤ 15 mL and ≤ 15 mL/hr per site; subsequent infusions "
        "≤ 25 mL and ≤ 25 mL/hr per site",
    ),
    "cidp": SiteLimits(
        indication="cidp",
        first_infusions=1,
        first_site_volume_ml=Decimal(20),
        first_site_rate_ml_per_hr=Decimal(20),
        later_site_volume_ml=Decimal(50),
        later_site_rate_ml_per_hr=Decimal(50),
        max_sites=MAX_SITES,
        source=f"{LABEL}, section 2.3 (CIDP): 1st infusion ≤ 20 mL and ≤ 20 mL/hr per site; subsequent infusions "
        "≤ 50 mL and ≤ 50 mL/hr per site",
    ),
}


class PlanRefused(ValueError):
    """The weekly volume cannot be given within the label's per-site limits as ordered; the message says why."""


def fmt(value: Decimal, *, places: int = 4) -> str:
    """A number as a nurse reads it: plain notation, no trailing zeros (17.1, 85.6, 15)."""
    text = format(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _round_half_up(value: Decimal, quantum: Decimal = TENTH) -> Decimal:
    return value.quantize(_SNAP, rounding=ROUND_HALF_EVEN).quantize(quantum, rounding=ROUND_HALF_UP)


def _dec(value: Number | None, *, name: str) -> Decimal:
    if value is None or isinstance(value, bool):
        raise ValueError(f"{name} is needed")
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite() or number <= 0:
        raise ValueError(f"{name} must be greater than zero")
    return number


def limits_for(indication: str | None) -> tuple[SiteLimits, str]:
    """The label's limits for the indication, and a note when the label does not cover it (then PI's, the lower)."""
    if indication in HIZENTRA_LIMITS:
        return HIZENTRA_LIMITS[indication], ""
    conservative = min(HIZENTRA_LIMITS.values(), key=lambda limits: limits.first_site_volume_ml)
    return conservative, (
        "The label gives per-site limits for PI and CIDP only; this indication uses the lower (PI) limits."
    )


# --- dose and volume -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class WeeklyDose:
    grams: Decimal  # unrounded: the volume is taken from this
    lines: tuple[str, ...]
    warnings: tuple[str, ...] = ()

    @property
    def grams_shown(self) -> Decimal:
        return _round_half_up(self.grams)


def pi_weekly_dose(
    *,
    interval_weeks: int,
    previous_iv_dose_g: Number | None = None,
    previous_iv_g_per_kg: Number | None = None,
    weight_kg: Number | None = None,
) -> WeeklyDose:
    """PI switching from IVIG: previous IV dose (g) ÷ weeks between IV doses × 1.37 (label section 2.2).

    The previous dose is given in grams, or as g/kg with the weight ("0.5 g/kg × 100 kg = 50 g").
    """
    if isinstance(interval_weeks, bool) or not isinstance(interval_weeks, int) or interval_weeks < 1:
        raise ValueError("the weeks between IV doses must be a whole number of at least 1")
    lines = []
    if previous_iv_dose_g is None:
        per_kg = _dec(previous_iv_g_per_kg, name="the previous IV dose")
        weight = _dec(weight_kg, name="the weight")
        grams_iv = per_kg * weight
        start = f"{fmt(per_kg)} g/kg × {fmt(weight)} kg = {fmt(grams_iv)} g"
    else:
        grams_iv = _dec(previous_iv_dose_g, name="the previous IV dose")
        start = f"{fmt(grams_iv)} g"
    weekly = grams_iv / interval_weeks * PI_CONVERSION_FACTOR
    shown = _round_half_up(weekly)
    lines.append(
        f"{start} every {interval_weeks} week{'s' if interval_weeks != 1 else ''} ÷ {interval_weeks} "
        f"× {fmt(PI_CONVERSION_FACTOR)} = {fmt(shown)} g weekly"
        + ("" if shown == weekly else f" ({fmt(weekly)} g before rounding)")
    )
    return WeeklyDose(grams=weekly, lines=tuple(lines))


def cidp_weekly_dose(*, g_per_kg: Number, weight_kg: Number) -> WeeklyDose:
    """CIDP: 0.2 g/kg weekly, up to 0.4 g/kg (label section 2.2); outside that range is flagged, not refused."""
    per_kg = _dec(g_per_kg, name="the dose")
    weight = _dec(weight_kg, name="the weight")
    weekly = per_kg * weight
    shown = _round_half_up(weekly)
    warnings = ()
    if not CIDP_DOSE_G_PER_KG <= per_kg <= CIDP_MAX_DOSE_G_PER_KG:
        warnings = (
            f"{fmt(per_kg)} g/kg weekly is outside the label's CIDP range of {fmt(CIDP_DOSE_G_PER_KG)}–"
            f"{fmt(CIDP_MAX_DOSE_G_PER_KG)} g/kg: the prescriber's reason is needed.",
        )
    line = f"{fmt(per_kg)} g/kg × {fmt(weight)} kg = {fmt(shown)} g weekly"
    if shown != weekly:
        line += f" ({fmt(weekly)} g before rounding)"
    return WeeklyDose(grams=weekly, lines=(line,), warnings=warnings)


def weekly_volume_ml(dose: WeeklyDose) -> tuple[Decimal, str]:
    """The weekly volume at 200 mg/mL from the unrounded dose, to 0.1 mL half up, with its line."""
    exact = dose.grams * 1000 / CONCENTRATION_MG_PER_ML
    volume = _round_half_up(exact)
    line = f"{fmt(dose.grams_shown)} g ÷ {fmt(CONCENTRATION_MG_PER_ML)} mg/mL = {fmt(volume)} mL"
    if dose.grams_shown != dose.grams:
        line += f" (from the unrounded {fmt(dose.grams)} g)"
    return volume, line


# --- sites ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SitePlan:
    volume_ml: Decimal
    sites: int
    site_volume_ml: Decimal  # shown to 0.1 mL; the exact share is never above the limit
    site_volume_exact_ml: Decimal
    site_rate_ml_per_hr: Decimal
    site_volume_limit_ml: Decimal
    site_rate_limit_ml_per_hr: Decimal
    limits_name: str  # "first infusion" or "later infusions"
    infusion_minutes_exact: Decimal
    infusion_minutes: int
    lines: tuple[str, ...]
    source: str


def site_plan(
    *, volume_ml: Number, indication: str | None, infusion_number: int = 1, sites_ordered: int | None = None
) -> SitePlan:
    """Divide the weekly volume over enough sites that none is above the label's per-site volume, each at the
    label's per-site rate; the order's number of sites when given, refused when it would overfill a site."""
    volume = _dec(volume_ml, name="the volume")
    if isinstance(infusion_number, bool) or not isinstance(infusion_number, int) or infusion_number < 1:
        raise ValueError("the infusion number must be a whole number of at least 1")
    limits, note = limits_for(indication)
    volume_limit, rate_limit, which = limits.for_infusion(infusion_number)
    needed = max(1, math.ceil(volume / volume_limit))
    lines = []
    if note:
        lines.append(note)
    lines.append(
        f"{which}: ≤ {fmt(volume_limit)} mL and ≤ {fmt(rate_limit)} mL/hr per site; "
        f"{fmt(volume)} mL ÷ {fmt(volume_limit)} mL needs at least {needed} site{'s' if needed != 1 else ''}"
    )
    if sites_ordered is not None:
        if isinstance(sites_ordered, bool) or not isinstance(sites_ordered, int) or sites_ordered < 1:
            raise ValueError("the number of sites must be a whole number of at least 1")
        if sites_ordered < needed:
            share = _round_half_up(volume / sites_ordered)
            raise PlanRefused(
                f"{fmt(volume)} mL ÷ {sites_ordered} site{'s' if sites_ordered != 1 else ''} = {fmt(share)} mL per "
                f"site, above the label's {fmt(volume_limit)} mL per site for the {which}: order at least "
                f"{needed} sites."
            )
        if sites_ordered > limits.max_sites:
            raise PlanRefused(
                f"{sites_ordered} sites is more than the {limits.max_sites} per infusion the label allows."
            )
        sites = sites_ordered
        lines.append(f"the order gives {sites} sites")
    else:
        sites = needed
    if sites > limits.max_sites:
        raise PlanRefused(
            f"{fmt(volume)} mL needs {sites} sites at ≤ {fmt(volume_limit)} mL per site, more than the "
            f"{limits.max_sites} per infusion the label allows: split the weekly dose over more days with the "
            "prescriber."
        )
    exact_share = volume / sites
    share = _round_half_up(exact_share)
    lines.append(
        f"{fmt(volume)} mL ÷ {sites} site{'s' if sites != 1 else ''} = {fmt(share)} mL per site at "
        f"≤ {fmt(rate_limit)} mL/hr per site"
    )
    per_site_minutes = exact_share * 60 / rate_limit
    rounds = math.ceil(sites / SIMULTANEOUS_SITES)
    exact_minutes = per_site_minutes * rounds
    minutes = int(exact_minutes.quantize(_SNAP, rounding=ROUND_HALF_EVEN).to_integral_value(rounding=ROUND_CEILING))
    at_once = min(sites, SIMULTANEOUS_SITES)
    timing = f"{fmt(share)} mL ÷ {fmt(rate_limit)} mL/hr = {fmt(per_site_minutes, places=1)} min per site"
    if rounds > 1:
        timing += f", {at_once} sites at a time → {rounds} rounds = {fmt(exact_minutes, places=1)} min"
    else:
        timing += f", all {sites} at once"
    timing += f"; pump at ≤ {fmt(rate_limit * at_once)} mL/hr; about {minutes} min of infusion"
    lines.append(timing)
    return SitePlan(
        volume_ml=volume,
        sites=sites,
        site_volume_ml=share,
        site_volume_exact_ml=exact_share,
        site_rate_ml_per_hr=rate_limit,
        site_volume_limit_ml=volume_limit,
        site_rate_limit_ml_per_hr=rate_limit,
        limits_name=which,
        infusion_minutes_exact=exact_minutes,
        infusion_minutes=minutes,
        lines=tuple(lines),
        source=limits.source,
    )


# --- the whole plan ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ScigPlan:
    dose: WeeklyDose
    volume_ml: Decimal
    volume_line: str
    first: SitePlan  # the first infusion's sites
    later: SitePlan  # every later infusion's
    warnings: tuple[str, ...] = field(default=())

    @property
    def lines(self) -> tuple[str, ...]:
        return (*self.dose.lines, self.volume_line)


def weekly_dose(
    *,
    indication: str | None,
    weight_kg: Number,
    g_per_kg: Number | None = None,
    previous_iv_dose_g: Number | None = None,
    previous_iv_interval_weeks: int | None = None,
) -> WeeklyDose:
    """PI with a previous IV dose: the label's conversion; otherwise the ordered g/kg × weight (CIDP: checked
    against 0.2–0.4 g/kg)."""
    if indication == "pi" and previous_iv_dose_g is not None and previous_iv_interval_weeks:
        return pi_weekly_dose(previous_iv_dose_g=previous_iv_dose_g, interval_weeks=previous_iv_interval_weeks)
    if indication == "cidp":
        return cidp_weekly_dose(g_per_kg=g_per_kg, weight_kg=weight_kg)
    per_kg = _dec(g_per_kg, name="the dose")
    weight = _dec(weight_kg, name="the weight")
    weekly = per_kg * weight
    shown = _round_half_up(weekly)
    warnings = ()
    if indication == "pi":
        warnings = (
            "No previous IV dose on the order: the weekly dose is the ordered g/kg, not the label's conversion.",
        )
    line = f"{fmt(per_kg)} g/kg × {fmt(weight)} kg = {fmt(shown)} g weekly"
    return WeeklyDose(grams=weekly, lines=(line,), warnings=warnings)


def scig_plan(
    *,
    indication: str | None,
    weight_kg: Number,
    g_per_kg: Number | None = None,
    previous_iv_dose_g: Number | None = None,
    previous_iv_interval_weeks: int | None = None,
    sites_ordered: int | None = None,
) -> ScigPlan:
    """Dose, volume and the first and later infusions' site plans; raises PlanRefused when a site would be
    overfilled as ordered, or ValueError when a number is missing."""
    dose = weekly_dose(
        indication=indication,
        weight_kg=weight_kg,
        g_per_kg=g_per_kg,
        previous_iv_dose_g=previous_iv_dose_g,
        previous_iv_interval_weeks=previous_iv_interval_weeks,
    )
    volume, volume_line = weekly_volume_ml(dose)
    _, note = limits_for(indication)
    first = site_plan(volume_ml=volume, indication=indication, infusion_number=1, sites_ordered=sites_ordered)
    later_number = limits_for(indication)[0].first_infusions + 1
    later = site_plan(
        volume_ml=volume, indication=indication, infusion_number=later_number, sites_ordered=sites_ordered
    )
    return ScigPlan(
        dose=dose,
        volume_ml=volume,
        volume_line=volume_line,
        first=first,
        later=later,
        warnings=(*dose.warnings, *((note,) if note else ())),
    )
