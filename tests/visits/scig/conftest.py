import pytest

from tests.factories import OrderFactory, VisitFactory, WeightFactory, product


@pytest.fixture
def scig_visit(cast):
    """A Hizentra (SCIG) visit of the first patient, assigned to the assigned nurse."""
    order = OrderFactory(
        patient=cast.patient,
        product=product("Hizentra"),
        indication="pi",
        previous_iv_dose_g=50,
        previous_iv_interval_weeks=4,
        dose_amount="0.171",
        regimen="weekly",
        days_per_cycle=1,
        interval_weeks=None,
    )
    return VisitFactory(order=order, patient=cast.patient, nurse=cast.assigned_nurse)


@pytest.fixture
def heavy_patient(cast):
    WeightFactory(patient=cast.patient, weight_kg="100.0")
    return cast.patient
