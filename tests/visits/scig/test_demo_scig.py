"""`manage.py seed_demo` gives patient1 weekly Hizentra: taught and signed off, then three weeks of her own log."""

import pytest
from django.core.management import call_command

from visits.models import ScigTeaching, SelfInfusion, SelfInfusionVial, TherapyOrder
from visits.scig.services import TEACHING_ITEMS, patient_is_taught
from visits.scig.sites import SITES


@pytest.fixture
def seeded(db, monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    call_command("seed_demo", verbosity=0)


def test_patient1_has_a_hizentra_order_for_pi_switching_from_ivig(seeded):
    order = TherapyOrder.objects.get(patient__user__username="patient1", product__name="Hizentra")
    assert order.indication == "pi"
    assert (order.previous_iv_dose_g, order.previous_iv_interval_weeks) == (35, 4)
    assert order.dose_per_cycle_mg == 11987.5  # 35 g ÷ 4 × 1.37


def test_patient1_is_taught_and_signed_off_by_her_nurse(seeded):
    teaching = ScigTeaching.objects.get(patient__user__username="patient1")
    assert teaching.visit.nurse.username == "nurse1" and teaching.signed_by.username == "nurse1"
    assert teaching.ready_to_self_infuse and teaching.items == dict.fromkeys(TEACHING_ITEMS, True)
    assert patient_is_taught(patient=teaching.patient, order=teaching.order)


def test_patient1_logged_three_weekly_self_infusions_with_lots(seeded):
    log = list(SelfInfusion.objects.filter(patient__user__username="patient1").order_by("infused_at"))
    assert len(log) == 3
    teaching = ScigTeaching.objects.get(patient__user__username="patient1")
    assert all(entry.infused_at > teaching.signed_at for entry in log)
    assert [(later.infused_at - earlier.infused_at).days for earlier, later in zip(log, log[1:], strict=False)] == [
        7,
        7,
    ]
    for entry in log:
        assert entry.recorded_by.username == "patient1"
        assert all(site["site"] in SITES for site in entry.sites)
        # Later infusions: ≤ 25 mL per site (Hizentra PI, section 2.3).
        assert all(float(site["volume_ml"]) <= 25 for site in entry.sites)
        assert entry.vials.count() == 2
    assert SelfInfusionVial.objects.filter(self_infusion__in=log, lot_number="P100431").count() == 3


def test_seeding_again_adds_no_scig_rows(seeded):
    before = (ScigTeaching.objects.count(), SelfInfusion.objects.count(), TherapyOrder.objects.count())
    call_command("seed_demo", verbosity=0)
    assert (ScigTeaching.objects.count(), SelfInfusion.objects.count(), TherapyOrder.objects.count()) == before
