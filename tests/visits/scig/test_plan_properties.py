"""Property: whatever the weight, indication and infusion number, no site is planned above the label's limits."""

import math
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from visits.scig import plan

WEIGHTS = st.decimals(min_value=Decimal(2), max_value=Decimal(350), places=1)


@settings(max_examples=200, database=None, deadline=None)
@given(
    weight=WEIGHTS,
    indication=st.sampled_from(["pi", "cidp"]),
    infusion_number=st.integers(min_value=1, max_value=6),
    iv_g_per_kg=st.decimals(min_value=Decimal("0.2"), max_value=Decimal("0.8"), places=2),
    interval_weeks=st.integers(min_value=3, max_value=4),
    cidp_g_per_kg=st.decimals(min_value=Decimal("0.2"), max_value=Decimal("0.4"), places=2),
    sites_ordered=st.one_of(st.none(), st.integers(min_value=1, max_value=12)),
)
def test_no_site_above_the_label_limit(
    weight, indication, infusion_number, iv_g_per_kg, interval_weeks, cidp_g_per_kg, sites_ordered
):
    if indication == "pi":
        dose = plan.pi_weekly_dose(previous_iv_g_per_kg=iv_g_per_kg, weight_kg=weight, interval_weeks=interval_weeks)
    else:
        dose = plan.cidp_weekly_dose(g_per_kg=cidp_g_per_kg, weight_kg=weight)
    volume, _ = plan.weekly_volume_ml(dose)
    limits = plan.HIZENTRA_LIMITS[indication]
    volume_limit, rate_limit, _ = limits.for_infusion(infusion_number)
    try:
        sites = plan.site_plan(
            volume_ml=volume, indication=indication, infusion_number=infusion_number, sites_ordered=sites_ordered
        )
    except plan.PlanRefused:
        # Refused only when the label's limits truly cannot be met as asked.
        needed = math.ceil(volume / volume_limit)
        assert (sites_ordered is not None and sites_ordered < needed) or needed > limits.max_sites
        return
    assert 1 <= sites.sites <= limits.max_sites
    assert sites.site_volume_exact_ml <= volume_limit
    assert sites.site_volume_ml <= volume_limit
    assert sites.site_rate_ml_per_hr <= rate_limit
    assert abs(sites.site_volume_exact_ml * sites.sites - volume) < Decimal("1e-20")
    # The planned time delivers each site's share at no more than the per-site rate.
    rounds = math.ceil(sites.sites / plan.SIMULTANEOUS_SITES)
    assert sites.site_volume_exact_ml * 60 * rounds / sites.infusion_minutes <= rate_limit
    if sites_ordered is None:
        assert sites.sites == max(1, math.ceil(volume / volume_limit))  # no more sites than needed
