"""Whatever a tablet posts to the vital-signs form, the server answers with the section (200 saved, 400 refused with
messages), never a server error; and it saves only what the limits of DESIGN §3 allow."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests import factories
from tests.conftest import client_for
from visits.models import Visit, VitalSigns

NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)

FIELDS = [
    "taken_at",
    "phase",
    "temperature",
    "temperature_unit",
    "pulse",
    "systolic",
    "diastolic",
    "respiratory_rate",
    "spo2",
    "pain",
]
# Text a browser can send: any character but lone surrogates, which cannot be encoded in a form post.
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["36.8", "98.6", "72", "120", "80", "16", "97", "0", "10", "1e9", "-0", "08:45", "now", "C", "F"]),
)
PLAUSIBLE = {
    "phase": st.sampled_from(["baseline", "titration", "maximum", "end", "post_30", "post_60", "bogus"]),
    "temperature_unit": st.sampled_from(["C", "F", "K", ""]),
}
VALUE = st.one_of(TEXT, NUMBERS)
POSTS = st.fixed_dictionaries(
    {},
    optional={name: st.one_of(PLAUSIBLE.get(name, VALUE), VALUE, st.lists(VALUE, max_size=3)) for name in FIELDS},
)


@pytest.fixture
def charted_visit(cast):
    with time_machine.travel(NOW, tick=False):
        order = factories.OrderFactory(patient=cast.patient)
        visit = factories.VisitFactory(
            order=order,
            patient=cast.patient,
            nurse=cast.assigned_nurse,
            status=Visit.Status.CHECKED_IN,
            planned_start=NOW - dt.timedelta(minutes=30),
        )
    return visit


@hypothesis_settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=POSTS, htmx=st.booleans())
def test_random_posts_to_the_vitals_form_never_cause_a_server_error(cast, charted_visit, settings, data, htmx):
    settings.DEBUG = False
    client = client_for(cast.assigned_nurse, raise_request_exception=False)
    before = VitalSigns.objects.count()
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    with time_machine.travel(NOW, tick=False):
        response = client.post(reverse("visits:vitals_add", args=[charted_visit.pk]), data, **headers)

    assert response.status_code in (200, 302, 400), response.status_code
    saved = VitalSigns.objects.count() - before
    assert saved == (0 if response.status_code == 400 else 1)
    if saved:
        row = VitalSigns.objects.latest("pk")
        assert Decimal("30") <= row.temperature_c <= Decimal("45")
        assert 20 <= row.pulse <= 250 and 50 <= row.systolic <= 300 and 20 <= row.diastolic < row.systolic
        assert 4 <= row.respiratory_rate <= 60
        assert row.spo2 is None or 50 <= row.spo2 <= 100
        assert row.pain is None or 0 <= row.pain <= 10


@hypothesis_settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    temperature=st.decimals(min_value=20, max_value=120, places=1),
    unit=st.sampled_from(["C", "F"]),
    pulse=st.integers(0, 300),
    systolic=st.integers(30, 330),
    diastolic=st.integers(0, 230),
    respiratory_rate=st.integers(0, 80),
    spo2=st.integers(30, 110),
)
def test_numbers_near_the_limits_are_saved_only_when_plausible(
    cast, charted_visit, settings, temperature, unit, pulse, systolic, diastolic, respiratory_rate, spo2
):
    settings.DEBUG = False
    client = client_for(cast.assigned_nurse, raise_request_exception=False)
    data = {
        "phase": "titration",
        "temperature": str(temperature),
        "temperature_unit": unit,
        "pulse": pulse,
        "systolic": systolic,
        "diastolic": diastolic,
        "respiratory_rate": respiratory_rate,
        "spo2": spo2,
    }
    celsius = temperature if unit == "C" else (temperature - 32) * 5 / 9
    plausible = (
        Decimal("30") <= celsius <= Decimal("45")
        and 20 <= pulse <= 250
        and 50 <= systolic <= 300
        and 20 <= diastolic <= 200
        and diastolic < systolic
        and 4 <= respiratory_rate <= 60
        and 50 <= spo2 <= 100
    )
    before = VitalSigns.objects.count()
    with time_machine.travel(NOW, tick=False):
        response = client.post(reverse("visits:vitals_add", args=[charted_visit.pk]), data, HTTP_HX_REQUEST="true")
    assert response.status_code == (200 if plausible else 400)
    assert VitalSigns.objects.count() - before == (1 if plausible else 0)
