"""A Hizentra order plans its weekly dose over infusion sites, and the order page shows the site plan."""

from decimal import Decimal

from django.urls import reverse

from tests.conftest import client_for
from visits.orders.services import order_calculate


def test_issue_example_order_plans_17_1_g_and_85_6_ml_over_six_sites(cast, heavy_patient, scig_visit):
    order = scig_visit.order
    order.first_infusion = True
    calc = order_calculate(order=order)
    assert not calc.blocks
    plan = calc.scig_plan
    assert plan.dose.grams_shown == Decimal("17.1") and calc.volume_ml == Decimal("85.6")
    assert plan.first.sites == 6 and plan.first.site_volume_exact_ml <= 15 and plan.first.site_rate_ml_per_hr <= 15
    # The planner's time, not the catalog's fixed 60 minutes: 115 min; the pump rate for it, rounded down to
    # 0.1 mL/hr (44.6), takes 116, and never runs more than 4 sites × 15 mL/hr.
    assert plan.first.infusion_minutes == 115
    assert calc.first_plan.total_infusion_minutes == 116 and calc.first_plan.max_ml_per_hr <= 60
    assert plan.later.infusion_minutes <= calc.later_plan.total_infusion_minutes <= plan.later.infusion_minutes + 1
    assert calc.first_visit_minutes == 30 + 116 + 60


def test_ordered_sites_that_overfill_a_site_block_the_order(cast, heavy_patient, scig_visit):
    order = scig_visit.order
    order.sites_per_infusion = 3
    order.first_infusion = True
    calc = order_calculate(order=order)
    assert any("above the label's 15 mL per site" in block for block in calc.blocks)


def test_order_page_shows_the_site_plan(cast, heavy_patient, scig_visit):
    page = client_for(cast.coordinator).get(reverse("orders:detail", args=[scig_visit.order.pk]))
    assert page.status_code == 200
    assert b'id="scig-plan"' in page.content
    text = page.content.decode()
    assert "17.1 g weekly" in text
    assert "85.6 mL ÷ 6 sites = 14.3 mL per site at ≤ 15 mL/hr per site" in text
    assert "85.6 mL ÷ 4 sites = 21.4 mL per site at ≤ 25 mL/hr per site" in text
