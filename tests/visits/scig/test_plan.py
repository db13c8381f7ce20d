"""The Hizentra planner: each label number with its source, and the issue's worked example."""

from decimal import Decimal

import pytest

from visits.scig import plan
from visits.scig.sites import SITES


def test_pi_per_site_limits_are_the_labels():
    # Hizentra US prescribing information, section 2.3 (PI): 1st infusion ≤ 15 mL and ≤ 15 mL/hr per site;
    # subsequent infusions ≤ 25 mL and ≤ 25 mL/hr per site.
    pi = plan.HIZENTRA_LIMITS["pi"]
    assert (pi.first_site_volume_ml, pi.first_site_rate_ml_per_hr) == (Decimal(15), Decimal(15))
    assert (pi.later_site_volume_ml, pi.later_site_rate_ml_per_hr) == (Decimal(25), Decimal(25))
    assert "section 2.3 (PI)" in pi.source


def test_cidp_per_site_limits_are_the_labels():
    # Hizentra US prescribing information, section 2.3 (CIDP): 1st infusion 20 mL and 20 mL/hr per site; later 50/50.
    cidp = plan.HIZENTRA_LIMITS["cidp"]
    assert (cidp.first_site_volume_ml, cidp.first_site_rate_ml_per_hr) == (Decimal(20), Decimal(20))
    assert (cidp.later_site_volume_ml, cidp.later_site_rate_ml_per_hr) == (Decimal(50), Decimal(50))
    assert "section 2.3 (CIDP)" in cidp.source


def test_only_the_first_infusion_keeps_the_first_infusion_limits():
    # The label's table has two columns, "1st infusion" and "subsequent infusions".
    for limits in plan.HIZENTRA_LIMITS.values():
        assert limits.first_infusions == 1
        assert limits.for_infusion(1)[2] == "first infusion"
        assert limits.for_infusion(2)[2] == "later infusions"


def test_concentration_and_conversion_are_the_labels():
    # Section 3: 20% liquid = 200 mg/mL. Section 2.2 (PI): previous IGIV g ÷ weeks between doses × 1.37.
    # Section 2.2 (CIDP): 0.2 g/kg weekly, up to 0.4 g/kg.
    assert plan.CONCENTRATION_MG_PER_ML == Decimal(200)
    assert plan.PI_CONVERSION_FACTOR == Decimal("1.37")
    assert (plan.CIDP_DOSE_G_PER_KG, plan.CIDP_MAX_DOSE_G_PER_KG) == (Decimal("0.2"), Decimal("0.4"))
    assert "section 2.2" in plan.PI_CONVERSION_SOURCE and "section 2.2" in plan.CIDP_DOSE_SOURCE
    assert plan.MAX_SITES == 12 and "12 sites" in plan.SITES_SOURCE


def test_issue_example_100_kg_from_ivig_half_gram_every_4_weeks():
    dose = plan.pi_weekly_dose(previous_iv_g_per_kg="0.5", weight_kg=100, interval_weeks=4)
    assert dose.grams == Decimal("17.125") and dose.grams_shown == Decimal("17.1")
    assert dose.lines[0].startswith("0.5 g/kg × 100 kg = 50 g every 4 weeks ÷ 4 × 1.37 = 17.1 g weekly")
    volume, line = plan.weekly_volume_ml(dose)
    # From the unrounded 17.125 g: 85.625 mL, half up to 85.6 (17.1 g would give 85.5).
    assert volume == Decimal("85.6")
    assert line.startswith("17.1 g ÷ 200 mg/mL = 85.6 mL")

    whole = plan.scig_plan(indication="pi", weight_kg=100, previous_iv_dose_g=50, previous_iv_interval_weeks=4)
    first = whole.first
    assert (first.sites, first.site_volume_ml, first.site_rate_ml_per_hr) == (6, Decimal("14.3"), Decimal(15))
    assert "85.6 mL ÷ 6 sites = 14.3 mL per site at ≤ 15 mL/hr per site" in first.lines
    assert first.site_volume_exact_ml <= 15
    assert whole.later.sites == 4 and whole.later.site_volume_ml == Decimal("21.4")


def test_infusion_time_counts_rounds_of_four_sites():
    first = plan.site_plan(volume_ml="85.6", indication="pi", infusion_number=1)
    # 14.27 mL at 15 mL/hr = 57.07 min a site; 6 sites, 4 at a time = 2 rounds = 114.1 min → 115.
    assert first.infusion_minutes == 115
    later = plan.site_plan(volume_ml="85.6", indication="pi", infusion_number=2)
    assert later.infusion_minutes == 52  # 21.4 mL at 25 mL/hr, all 4 at once


def test_ordered_sites_are_used_when_no_site_is_overfilled():
    sites = plan.site_plan(volume_ml="85.6", indication="pi", infusion_number=1, sites_ordered=8)
    assert sites.sites == 8 and sites.site_volume_ml == Decimal("10.7")


def test_ordered_sites_that_would_overfill_a_site_are_refused():
    with pytest.raises(plan.PlanRefused, match="above the label's 15 mL per site"):
        plan.site_plan(volume_ml="85.6", indication="pi", infusion_number=1, sites_ordered=5)


def test_more_sites_than_the_label_allows_are_refused():
    with pytest.raises(plan.PlanRefused, match="more than the 12 per infusion"):
        plan.site_plan(volume_ml="400", indication="pi", infusion_number=1)


def test_cidp_dose_by_weight_and_range_warning():
    dose = plan.cidp_weekly_dose(g_per_kg="0.2", weight_kg=80)
    assert dose.grams == 16 and dose.lines == ("0.2 g/kg × 80 kg = 16 g weekly",) and not dose.warnings
    assert plan.weekly_volume_ml(dose)[0] == 80  # 80 kg → 80 mL at 0.2 g/kg (1 mL/kg)
    assert plan.cidp_weekly_dose(g_per_kg="0.5", weight_kg=80).warnings


def test_an_indication_the_label_does_not_cover_uses_the_lower_pi_limits():
    whole = plan.scig_plan(indication="dm", weight_kg=54, g_per_kg="0.4")
    assert whole.first.site_volume_limit_ml == 15 and whole.later.site_volume_limit_ml == 25
    assert any("PI and CIDP only" in warning for warning in whole.warnings)


def test_sites_are_the_body_map_codes():
    assert set(SITES) == {
        "abdomen_left",
        "abdomen_right",
        "thigh_left",
        "thigh_right",
        "upper_arm_left",
        "upper_arm_right",
        "flank_left",
        "flank_right",
    }
