"""A patient on SCIG at home, taught and signed off (or not), for the self-infusion tests."""

from datetime import timedelta

from django.utils import timezone

from tests import factories
from visits.models import ScigTeaching


def scig_order(patient):
    return factories.OrderFactory(
        patient=patient, product=factories.product("Hizentra"), dose_rule="g_per_kg", dose_amount="0.4"
    )


def taught(patient, *, nurse, order=None, signed_ago=timedelta(days=30)):
    order = order or scig_order(patient)
    return ScigTeaching.objects.create(
        patient=patient,
        order=order,
        ready_to_self_infuse=True,
        signed_by=nurse,
        signed_at=timezone.now() - signed_ago,
    )
