"""Clinical arithmetic (visits.clinical) against the labels and DESIGN §3: worked examples by hand, then properties.

No Django here: runs under `pytest -p no:django` as well as under pytest-django.
"""

import itertools
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from visits.clinical import (
    VIAL_WASTE_ALLOWANCE,
    DoseRule,
    RateBasis,
    TitrationProtocol,
    adjusted_body_weight_kg,
    best_vial_combination,
    bmi,
    body_surface_area_line,
    body_surface_area_m2,
    concentration_mg_per_ml,
    dose_per_cycle,
    dose_per_day,
    dosing_weight,
    dosing_weight_kg,
    ideal_body_weight_kg,
    planned_visit_minutes,
    titration_plan,
    volume_line,
    volume_ml,
)

D = Decimal

# database=None: no .hypothesis/ example store in the working tree; deadline=None: a loaded CI box is not a failure.
PROPERTY = settings(database=None, deadline=None, max_examples=200)

# Protocols as catalogue rows would hold them. Label values; where a label gives no step size (Privigen, Gamunex-C,
# Panzyga, Gammagard Liquid) the step here is only test data, chosen so some ladders do not land on the maximum.
OCTAGAM = TitrationProtocol.weight_based(
    product_name="Octagam 10%",
    rate_unit="mL/kg/min",
    start="0.01",
    step="0.01",
    step_interval_min=30,
    maximum="0.04",
    at_risk_maximum="0.033",
)
PRIVIGEN = TitrationProtocol.weight_based(
    product_name="Privigen", rate_unit="mL/kg/min", start="0.005", step="0.01", step_interval_min=30, maximum="0.08"
)
GAMUNEX_C = TitrationProtocol.weight_based(
    product_name="Gamunex-C", rate_unit="mL/kg/min", start="0.01", step="0.01", step_interval_min=30, maximum="0.08"
)
PANZYGA = TitrationProtocol.weight_based(
    product_name="Panzyga", rate_unit="mL/kg/min", start="0.01", step="0.025", step_interval_min=30, maximum="0.12"
)
GAMMAGARD_LIQUID = TitrationProtocol.weight_based(
    product_name="Gammagard Liquid", rate_unit="mL/kg/hr", start="0.5", step="0.75", step_interval_min=30, maximum=5
)
RITUXIMAB = TitrationProtocol.mg_per_hour(
    product_name="Rituximab",
    first_start_mg_per_hr=50,
    first_step_mg_per_hr=50,
    later_start_mg_per_hr=100,
    later_step_mg_per_hr=100,
    max_mg_per_hr=400,
    step_interval_min=30,
    min_concentration_mg_per_ml=1,
    max_concentration_mg_per_ml=4,
)
INFLIXIMAB = TitrationProtocol.fixed_duration(product_name="Infliximab", infusion_duration_min=120)
ABATACEPT = TitrationProtocol.fixed_duration(product_name="Abatacept", infusion_duration_min=30)
METHYLPREDNISOLONE = TitrationProtocol.fixed_duration(product_name="Methylprednisolone", infusion_duration_min=60)
CYCLOPHOSPHAMIDE = TitrationProtocol.fixed_duration(product_name="Cyclophosphamide", infusion_duration_min=60)
ALL_PROTOCOLS = [
    OCTAGAM,
    PRIVIGEN,
    GAMUNEX_C,
    PANZYGA,
    GAMMAGARD_LIQUID,
    RITUXIMAB,
    INFLIXIMAB,
    ABATACEPT,
    METHYLPREDNISOLONE,
    CYCLOPHOSPHAMIDE,
]

# Abatacept IV label: < 60 kg 500 mg, 60–100 kg 750 mg (both ends included), > 100 kg 1,000 mg.
ABATACEPT_TIERS = [(60, 500), (100, 750, True), (None, 1000)]
IVIG_VIALS_G = [1, 2, 5, 10, 20]
RITUXIMAB_VIALS_MG = [100, 500]


# --- the worked example: 70 kg, Octagam 10%, dermatomyositis ------------------------------------------------------


def test_octagam_dermatomyositis_dose_is_2_g_per_kg_split_over_5_days():
    cycle = dose_per_cycle(rule=DoseRule.G_PER_KG, amount=2, weight_kg=70)
    assert (cycle.amount, cycle.unit) == (D(140), "g")
    assert cycle.lines == ("2 g/kg × 70 kg = 140 g",)

    day = dose_per_day(dose=cycle, days=5)
    assert (day.amount, day.unit) == (D(28), "g")
    assert day.lines == ("2 g/kg × 70 kg = 140 g", "140 g ÷ 5 days = 28 g a day")

    assert concentration_mg_per_ml(percent=10) == 100
    assert volume_ml(dose_amount=day.amount, dose_unit="g", concentration_mg_per_ml=100) == D(280)
    assert (
        volume_line(dose_amount=28, dose_unit="g", concentration_mg_per_ml=100)
        == "28 g = 28000 mg ÷ 100 mg/mL = 280 mL"
    )


def test_octagam_rates_for_70_kg_start_42_max_168_and_138_6_at_risk():
    # mL/hr = kg × mL/kg/min × 60
    assert 70 * D("0.01") * 60 == 42
    assert 70 * D("0.04") * 60 == 168
    assert 70 * D("0.033") * 60 == D("138.6")

    plan = titration_plan(protocol=OCTAGAM, weight_kg=70, volume_ml=280)
    assert plan.steps[0].ml_per_hr == 42
    assert plan.max_ml_per_hr == 168
    assert plan.max_reason == "label maximum 0.04 mL/kg/min"
    assert "start 0.01 mL/kg/min × 70 kg × 60 = 42 mL/hr" in plan.lines
    assert "label maximum 0.04 mL/kg/min × 70 kg × 60 = 168 mL/hr" in plan.lines

    at_risk = titration_plan(protocol=OCTAGAM, weight_kg=70, volume_ml=280, at_risk=True)
    assert at_risk.steps[0].ml_per_hr == 42
    assert at_risk.max_ml_per_hr == D("138.6")
    assert at_risk.max_reason == "reduced maximum 0.033 mL/kg/min for renal or thrombosis risk"


def test_octagam_280_ml_at_70_kg_takes_145_minutes():
    # By hand: 42, 84, 126 mL/hr for 30 min each deliver 21 + 42 + 63 = 126 mL in 90 min;
    # the remaining 280 − 126 = 154 mL at 168 mL/hr take 154 ÷ 168 × 60 = 55 min; 90 + 55 = 145 min.
    assert 42 * 30 / 60 + 84 * 30 / 60 + 126 * 30 / 60 == 126
    assert D(280 - 126) / 168 * 60 == 55
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    plan = titration_plan(protocol=OCTAGAM, weight_kg=70, volume_ml=280, start=start)

    assert [(s.offset_min, s.ml_per_hr, s.duration_min, s.volume_ml) for s in plan.steps] == [
        (0, 42, 30, 21),
        (30, 84, 30, 42),
        (60, 126, 30, 63),
        (90, 168, 55, 154),
    ]
    assert [s.ml_per_kg_min for s in plan.steps] == [D("0.01"), D("0.02"), D("0.03"), D("0.04")]
    assert [s.starts_at for s in plan.steps] == [start + timedelta(minutes=m) for m in (0, 30, 60, 90)]
    assert plan.steps[-1].at_maximum and plan.reached_max
    assert plan.infusion_minutes_exact == 145
    assert plan.total_infusion_minutes == 145
    assert plan.ends_at == start + timedelta(minutes=145)
    assert "step 4, 90–145 min: 0.04 mL/kg/min = 168 mL/hr → 154 mL (end of infusion)" in plan.lines
    assert plan.lines[-1] == "total: 280 mL in 145 min"


def test_octagam_at_risk_caps_at_138_6_and_takes_157_minutes():
    # By hand: 126 mL in 90 min as above, then 154 mL at 138.6 mL/hr = 154 ÷ 138.6 × 60 = 66.67 min → 156.67 min.
    plan = titration_plan(protocol=OCTAGAM, weight_kg=70, volume_ml=280, at_risk=True)

    assert [s.ml_per_hr for s in plan.steps] == [42, 84, 126, D("138.6")]
    assert plan.steps[-1].volume_ml == 154
    assert plan.infusion_minutes_exact.quantize(D("0.01")) == D("156.67")
    assert plan.total_infusion_minutes == 157
    assert "total: 280 mL in 156.7 min, planned as 157 min" in plan.lines


def test_volume_running_out_while_titrating_ends_the_plan_there():
    # 50 mL at 70 kg: 21 mL in the first 30 min, the other 29 mL at 84 mL/hr take 29 ÷ 84 × 60 = 20.71 min.
    plan = titration_plan(protocol=OCTAGAM, weight_kg=70, volume_ml=50)

    assert [s.ml_per_hr for s in plan.steps] == [42, 84]
    assert [s.volume_ml for s in plan.steps] == [21, 29]
    assert not plan.reached_max
    assert plan.total_infusion_minutes == 51
    assert plan.max_ml_per_hr == 168  # the ceiling still says what would have applied


def test_product_switch_restarts_at_the_new_products_start_rate():
    usual = titration_plan(protocol=OCTAGAM, weight_kg=70, volume_ml=280)
    switched = titration_plan(protocol=OCTAGAM, weight_kg=70, volume_ml=280, product_switch=True)

    assert switched.steps == usual.steps
    assert switched.steps[0].ml_per_kg_min == D("0.01")
    assert any("product switch" in line and "never carried over" in line for line in switched.lines)
    assert not any("product switch" in line for line in usual.lines)


# --- dosing weight and body size ------------------------------------------------------------------------------------


def test_ideal_body_weight_of_a_165_cm_woman_is_56_9_kg():
    # 165 cm ÷ 2.54 = 64.96 in; 4.96 in over 60 × 2.3 kg = 11.41 kg; 45.5 + 11.41 = 56.91 → 56.9 kg
    assert ideal_body_weight_kg(height_cm=165, sex="female") == D("56.9")
    assert ideal_body_weight_kg(height_cm=165, sex="F") == D("56.9")


def test_ideal_body_weight_of_a_180_cm_man_and_of_short_stature():
    # 180 ÷ 2.54 = 70.87 in; 10.87 × 2.3 = 24.99; 50 + 24.99 = 74.99 → 75.0 kg
    assert ideal_body_weight_kg(height_cm=180, sex="male") == D("75.0")
    # 60 in or shorter: the Devine base weight, not less
    assert ideal_body_weight_kg(height_cm=D("152.4"), sex="male") == 50
    assert ideal_body_weight_kg(height_cm=140, sex="female") == D("45.5")


def test_ideal_body_weight_needs_male_or_female():
    with pytest.raises(ValueError, match="male or female"):
        ideal_body_weight_kg(height_cm=165, sex="unknown")


def test_adjusted_body_weight_for_an_obese_patient():
    # 56.9 + 0.4 × (120 − 56.9) = 56.9 + 25.24 = 82.14 → 82.1 kg
    assert adjusted_body_weight_kg(actual_kg=120, ideal_kg=D("56.9")) == D("82.1")


def test_adjusted_body_weight_of_a_patient_lighter_than_ideal_is_actual():
    assert adjusted_body_weight_kg(actual_kg=50, ideal_kg=D("56.9")) == 50


@pytest.mark.parametrize(
    ("method", "actual", "expected"),
    [
        ("actual", 120, D(120)),
        ("ideal", 120, D("56.9")),
        ("adjusted", 120, D("82.1")),
        ("ideal", 50, D(50)),  # lighter than IBW: dosed on actual weight
        ("adjusted", 50, D(50)),
    ],
)
def test_dosing_weight_methods(method, actual, expected):
    assert dosing_weight_kg(method=method, actual_kg=actual, height_cm=165, sex="female") == expected


def test_dosing_weight_shows_its_working():
    weight = dosing_weight(method="adjusted", actual_kg=120, height_cm=165, sex="female")
    assert weight.lines == (
        "IBW (Devine, female) = 45.5 kg + 2.3 kg × (165 cm ÷ 2.54 − 60 in) = 56.9 kg",
        "dosing weight: adjusted = 56.9 kg + 0.4 × (120 kg − 56.9 kg) = 82.1 kg",
    )


def test_ideal_or_adjusted_dosing_weight_needs_height_and_sex():
    with pytest.raises(ValueError, match="height and sex"):
        dosing_weight_kg(method="ideal", actual_kg=80)


def test_bmi():
    # 70 ÷ 1.7² = 70 ÷ 2.89 = 24.22
    assert bmi(weight_kg=70, height_cm=170) == D("24.2")


def test_body_surface_area_of_170_cm_70_kg_is_1_82():
    # √(170 × 70 ÷ 3600) = √3.3056 = 1.8181
    assert body_surface_area_m2(height_cm=170, weight_kg=70) == D("1.82")
    assert body_surface_area_line(height_cm=170, weight_kg=70) == "BSA (Mosteller) = √(170 cm × 70 kg ÷ 3600) = 1.82 m²"


# --- dose -------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weight", "mg"), [(D("59.9"), 500), (D(60), 750), (D(100), 750), (D("100.1"), 1000), (D(45), 500), (D(130), 1000)]
)
def test_abatacept_weight_tiers(weight, mg):
    dose = dose_per_cycle(rule="weight_tiered", amount=None, weight_kg=weight, tiers=ABATACEPT_TIERS)
    assert (dose.amount, dose.unit) == (mg, "mg")


def test_abatacept_tier_line_names_the_band():
    dose = dose_per_cycle(rule="weight_tiered", amount=None, weight_kg=100, tiers=ABATACEPT_TIERS)
    assert dose.lines == ("weight 100 kg is in the tier ≥ 60 kg and ≤ 100 kg → 750 mg",)


def test_weight_tiers_must_ascend():
    with pytest.raises(ValueError, match="ascending"):
        dose_per_cycle(rule="weight_tiered", amount=None, weight_kg=70, tiers=[(100, 750), (60, 500), (None, 1000)])


def test_mg_per_kg_mg_per_m2_and_flat_doses():
    infliximab = dose_per_cycle(rule="mg_per_kg", amount=5, weight_kg=D("72.5"))
    assert (infliximab.amount, infliximab.unit, infliximab.lines) == (
        D("362.5"),
        "mg",
        ("5 mg/kg × 72.5 kg = 362.5 mg",),
    )

    cyclophosphamide = dose_per_cycle(rule="mg_per_m2", amount=750, weight_kg=None, bsa_m2=D("1.82"))
    assert cyclophosphamide.amount == 1365
    assert cyclophosphamide.lines == ("750 mg/m² × 1.82 m² = 1365 mg",)

    rituximab = dose_per_cycle(rule="flat_mg", amount=1000, weight_kg=None)
    assert (rituximab.amount, rituximab.unit) == (1000, "mg")


def test_mg_per_m2_needs_the_body_surface_area():
    with pytest.raises(ValueError, match="body surface area"):
        dose_per_cycle(rule="mg_per_m2", amount=750, weight_kg=70)


def test_uneven_daily_split_is_rounded_and_says_so():
    day = dose_per_day(dose=dose_per_cycle(rule="g_per_kg", amount=2, weight_kg=70), days=3)
    assert day.amount == D("46.67")
    assert day.lines[-1] == "140 g ÷ 3 days ≈ 46.67 g a day"


# --- vials ------------------------------------------------------------------------------------------------------------


def _brute_force_best(dose: int, sizes: list[int]) -> tuple[int, int]:
    """(least waste, fewest vials) over every combination that could be optimal: no size more than ⌈dose/size⌉."""
    best = None
    for counts in itertools.product(*(range(math.ceil(dose / size) + 1) for size in sizes)):
        total = sum(count * size for count, size in zip(counts, sizes, strict=True))
        if total >= dose:
            key = (total - dose, sum(counts))
            best = key if best is None or key < best else best
    return best


def test_1000_mg_rituximab_from_100_and_500_mg_vials_is_two_500s():
    combo = best_vial_combination(dose_amount=1000, vial_sizes=RITUXIMAB_VIALS_MG)
    assert combo.counts == {500: 2}
    assert (combo.total, combo.waste, combo.vial_count) == (1000, 0, 2)


def test_28_g_ivig_is_least_waste_then_fewest_vials():
    combo = best_vial_combination(dose_amount=28, vial_sizes=IVIG_VIALS_G)
    assert combo.waste == 0
    assert combo.vial_count == _brute_force_best(28, IVIG_VIALS_G)[1] == 4
    assert combo.counts == {20: 1, 5: 1, 2: 1, 1: 1}
    assert combo.describe(unit="g") == "1 × 20 g + 1 × 5 g + 1 × 2 g + 1 × 1 g = 28 g (waste 0 g)"


def test_fractional_dose_rounds_up_to_whole_vials_exactly():
    combo = best_vial_combination(dose_amount=D("28.12"), vial_sizes=IVIG_VIALS_G)
    assert combo.total == 29
    assert combo.waste == D("0.88")
    assert combo.vial_count == 4


def test_1100_mg_methylprednisolone_is_1000_plus_125_not_16_vials():
    # Solu-Medrol vials 40, 125, 500 and 1,000 mg: 1 × 500 + 15 × 40 wastes nothing but takes 16 vials;
    # 1,000 + 125 wastes 25 mg (2.3%, within the 2.5% allowance) in 2 vials. Both are shown.
    combo = best_vial_combination(dose_amount=1100, vial_sizes=[40, 125, 500, 1000])
    assert (combo.counts, combo.waste, combo.vial_count) == ({1000: 1, 125: 1}, 25, 2)
    assert (combo.least_waste.waste, combo.least_waste.vial_count) == (0, 16)
    exact = best_vial_combination(dose_amount=1100, vial_sizes=[40, 125, 500, 1000], waste_allowance=0)
    assert exact.vial_count == 16 and exact.least_waste is None


def test_least_waste_beats_fewer_vials():
    # 600 mg from 500 and 100 mg vials: 500 + 100 (no waste) rather than 2 × 500 (400 mg wasted)
    combo = best_vial_combination(dose_amount=600, vial_sizes=RITUXIMAB_VIALS_MG)
    assert combo.counts == {500: 1, 100: 1}


# --- rituximab and fixed-duration infusions -----------------------------------------------------------------------


def test_rituximab_first_infusion_50_to_400_mg_per_hr_in_8_steps():
    # 1000 mg in 500 mL = 2 mg/mL. 25…175 mL/hr for 30 min each: 12.5 + 25 + … + 87.5 = 350 mL in 210 min;
    # 150 mL left at 200 mL/hr = 45 min → 255 min.
    plan = titration_plan(
        protocol=RITUXIMAB, weight_kg=70, volume_ml=500, first_infusion=True, concentration_mg_per_ml=2
    )
    assert [s.mg_per_hr for s in plan.steps] == [50, 100, 150, 200, 250, 300, 350, 400]
    assert [s.ml_per_hr for s in plan.steps] == [25, 50, 75, 100, 125, 150, 175, 200]
    assert plan.max_ml_per_hr == 200
    assert plan.max_reason == "label maximum 400 mg/hr"
    assert plan.total_infusion_minutes == 255


def test_rituximab_later_infusion_100_to_400_mg_per_hr_in_4_steps():
    # 50 + 100 + 150 mL/hr for 30 min: 25 + 50 + 75 = 150 mL in 90 min; 350 mL at 200 mL/hr = 105 min → 195 min.
    plan = titration_plan(protocol=RITUXIMAB, weight_kg=70, volume_ml=500, concentration_mg_per_ml=2)
    assert [s.mg_per_hr for s in plan.steps] == [100, 200, 300, 400]
    assert plan.total_infusion_minutes == 195


def test_rituximab_product_switch_uses_the_first_infusion_schedule():
    plan = titration_plan(
        protocol=RITUXIMAB, weight_kg=70, volume_ml=500, product_switch=True, concentration_mg_per_ml=2
    )
    assert plan.steps[0].mg_per_hr == 50
    assert any("product switch" in line for line in plan.lines)


@pytest.mark.parametrize("concentration", [D("0.5"), D(5)])
def test_rituximab_outside_1_to_4_mg_per_ml_is_refused(concentration):
    with pytest.raises(ValueError, match="diluted"):
        titration_plan(protocol=RITUXIMAB, weight_kg=70, volume_ml=500, concentration_mg_per_ml=concentration)


def test_rituximab_needs_a_concentration():
    with pytest.raises(ValueError, match="concentration"):
        titration_plan(protocol=RITUXIMAB, weight_kg=70, volume_ml=500)


def test_fixed_duration_rate_is_volume_over_minutes():
    infliximab = titration_plan(protocol=INFLIXIMAB, weight_kg=None, volume_ml=250)
    assert [(s.ml_per_hr, s.duration_min) for s in infliximab.steps] == [(125, 120)]
    assert infliximab.total_infusion_minutes == 120

    abatacept = titration_plan(protocol=ABATACEPT, weight_kg=None, volume_ml=100)
    assert abatacept.steps[0].ml_per_hr == 200
    assert abatacept.total_infusion_minutes == 30


def test_fixed_duration_never_runs_faster_than_its_minutes():
    # 100 mL over 120 min = 50 mL/hr exactly; 101 mL = 50.5; 101.1 mL = 50.55 → pump 50.5 mL/hr, 120.1 min → 121
    plan = titration_plan(protocol=INFLIXIMAB, weight_kg=None, volume_ml=D("101.1"))
    assert plan.steps[0].ml_per_hr == D("50.5")
    assert plan.total_infusion_minutes == 121


def test_gammagard_liquid_rates_in_ml_per_kg_per_hr_are_exact():
    # 0.5 mL/kg/hr × 70 kg = 35 mL/hr; 5 mL/kg/hr × 70 kg = 350 mL/hr; no 1/60 rounding drift
    plan = titration_plan(protocol=GAMMAGARD_LIQUID, weight_kg=70, volume_ml=1000)
    assert plan.steps[0].ml_per_hr == 35
    assert plan.max_ml_per_hr == 350
    assert "start 0.5 mL/kg/hr × 70 kg = 35 mL/hr" in plan.lines


def test_protocol_with_start_above_maximum_is_refused():
    with pytest.raises(ValueError, match="start rate"):
        TitrationProtocol.weight_based(
            product_name="bad", rate_unit="mL/kg/min", start="0.05", step="0.01", step_interval_min=30, maximum="0.04"
        )


def test_protocol_built_from_plain_row_values():
    row = {"basis": "fixed_duration", "product_name": "Abatacept", "infusion_duration_min": 30}
    protocol = TitrationProtocol(**row)
    assert protocol.basis is RateBasis.FIXED_DURATION


# --- visit length -------------------------------------------------------------------------------------------------


def test_planned_visit_is_setup_plus_infusion_plus_observation():
    assert planned_visit_minutes(infusion_minutes=145, first_infusion=True) == 30 + 145 + 60
    assert planned_visit_minutes(infusion_minutes=145, first_infusion=False) == 30 + 145 + 30
    assert planned_visit_minutes(infusion_minutes=145, first_infusion=False, setup_minutes=45) == 45 + 145 + 30


# --- properties ---------------------------------------------------------------------------------------------------

weights = st.decimals(min_value=20, max_value=200, places=1)
volumes = st.decimals(min_value=10, max_value=1500, places=1)
rituximab_concentrations = st.decimals(min_value=1, max_value=4, places=1)


@st.composite
def plans(draw):
    protocol = draw(st.sampled_from(ALL_PROTOCOLS))
    weight = draw(weights)
    volume = draw(volumes)
    at_risk = draw(st.booleans())
    concentration = draw(rituximab_concentrations) if protocol.basis is RateBasis.MG_PER_HR else None
    plan = titration_plan(
        protocol=protocol,
        weight_kg=weight,
        volume_ml=volume,
        at_risk=at_risk,
        first_infusion=draw(st.booleans()),
        product_switch=draw(st.booleans()),
        concentration_mg_per_ml=concentration,
    )
    return protocol, weight, volume, at_risk, concentration, plan


@PROPERTY
@given(plans())
def test_no_step_ever_exceeds_its_maximum(case):
    protocol, weight, volume, at_risk, concentration, plan = case
    if protocol.basis is RateBasis.WEIGHT:
        ceiling = protocol.max_ml_per_kg_hr
        if at_risk and protocol.at_risk_max_ml_per_kg_hr is not None:
            ceiling = protocol.at_risk_max_ml_per_kg_hr
        limit_ml_per_hr = weight * ceiling
        assert all(step.ml_per_kg_hr <= ceiling for step in plan.steps)
    elif protocol.basis is RateBasis.MG_PER_HR:
        limit_ml_per_hr = protocol.max_mg_per_hr / concentration
        assert all(step.mg_per_hr <= protocol.max_mg_per_hr for step in plan.steps)
    else:
        limit_ml_per_hr = volume * 60 / protocol.infusion_duration_min
    assert plan.max_ml_per_hr <= limit_ml_per_hr
    assert all(step.ml_per_hr <= plan.max_ml_per_hr for step in plan.steps)
    assert all(earlier.ml_per_hr <= later.ml_per_hr for earlier, later in itertools.pairwise(plan.steps))


@PROPERTY
@given(plans())
def test_plan_delivers_exactly_the_volume_in_positive_time(case):
    _, _, volume, _, _, plan = case
    assert plan.total_infusion_minutes > 0
    assert plan.infusion_minutes_exact <= plan.total_infusion_minutes < plan.infusion_minutes_exact + 1
    assert sum(step.volume_ml for step in plan.steps) == volume
    delivered = sum(step.ml_per_hr * step.duration_min / 60 for step in plan.steps)
    assert abs(delivered - volume) <= D("0.1")
    for earlier, later in itertools.pairwise(plan.steps):
        assert later.offset_min == earlier.offset_min + earlier.duration_min


@PROPERTY
@given(
    rule=st.sampled_from([DoseRule.G_PER_KG, DoseRule.MG_PER_KG]),
    amount=st.decimals(min_value=D("0.001"), max_value=100, places=3),
    weight=st.decimals(min_value=D("0.5"), max_value=350, places=1),
)
def test_weight_based_dose_scales_exactly_with_weight(rule, amount, weight):
    single = dose_per_cycle(rule=rule, amount=amount, weight_kg=weight)
    double = dose_per_cycle(rule=rule, amount=amount, weight_kg=2 * weight)
    assert double.amount == 2 * single.amount
    assert double.unit == single.unit


vial_size_sets = st.lists(
    st.sampled_from([D("0.5"), D(1), D(2), D("2.5"), D(5), D(10), D(20), D(100), D(500)]),
    min_size=1,
    max_size=5,
    unique=True,
)


@PROPERTY
@given(dose=st.decimals(min_value=D("0.01"), max_value=2000, places=2), sizes=vial_size_sets)
def test_vial_combination_covers_the_dose_with_less_than_one_smallest_vial_wasted(dose, sizes):
    combo = best_vial_combination(dose_amount=dose, vial_sizes=sizes)
    least = combo.least_waste or combo  # the fewest vials within the allowance may waste a little more
    smallest = min(sizes)
    for each in (combo, least):
        assert each.total == sum(size * count for size, count in each.counts.items())
        assert each.total >= dose
        assert each.waste == each.total - dose
        assert all(count > 0 for count in each.counts.values())
    # only the smallest vial alone already wastes less than one of it, and the least waste can only do better
    assert least.waste < smallest
    if dose % smallest == 0:
        assert least.waste == 0
    # the fewest vials never waste more than the allowance, and never use more vials than the least waste
    assert combo.waste <= max(least.waste, dose * VIAL_WASTE_ALLOWANCE)
    assert combo.vial_count <= least.vial_count


@PROPERTY
@given(
    dose=st.integers(min_value=1, max_value=25),
    sizes=st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=3, unique=True),
)
def test_vial_combination_is_least_waste_then_fewest_vials(dose, sizes):
    combo = best_vial_combination(dose_amount=dose, vial_sizes=sizes)
    assert (combo.waste, combo.vial_count) == _brute_force_best(dose, sizes)


@PROPERTY
@given(
    actual=st.decimals(min_value=30, max_value=250, places=1),
    height=st.decimals(min_value=140, max_value=210, places=1),
    sex=st.sampled_from(["male", "female"]),
)
def test_ideal_never_above_actual_and_adjusted_between_ideal_and_actual(actual, height, sex):
    ideal = dosing_weight_kg(method="ideal", actual_kg=actual, height_cm=height, sex=sex)
    adjusted = dosing_weight_kg(method="adjusted", actual_kg=actual, height_cm=height, sex=sex)
    assert ideal <= actual
    assert ideal <= adjusted <= actual


@PROPERTY
@given(
    height=st.decimals(min_value=50, max_value=220, places=1),
    weight=st.decimals(min_value=2, max_value=349, places=1),
)
def test_body_surface_area_is_mosteller_to_two_places_and_grows_with_weight(height, weight):
    bsa = body_surface_area_m2(height_cm=height, weight_kg=weight)
    exact = (height * weight / 3600).sqrt()
    assert abs(bsa - exact) <= D("0.005")
    assert body_surface_area_m2(height_cm=height, weight_kg=weight + 1) >= bsa
