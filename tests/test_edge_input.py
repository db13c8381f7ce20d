"""Bad input at the edge: what no form can answer for is refused with a plain 400, every form field is bounded, an
order cannot run for decades, and a feed token that cannot be one never reaches the database."""

from datetime import date, timedelta

import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone

from infusion_site.forms import DATE_OF_BIRTH, TEXT_MAX, BoundedInputMixin, clinical_dates
from patients.models import Patient
from tests.conftest import client_for
from tests.patients.test_patient_records import registration
from tests.visits.orders.test_orders import form_data
from visits.models import CalendarFeed, TherapyOrder, Visit
from visits.orders import regimens

CAUSE = "cannot be stored (a NUL byte"


# --- The edge: path, parameter and field names, headers and cookies ---------------------------------------------


def test_nul_in_the_path_is_a_plain_400(cast):
    response = client_for(cast.coordinator).get("/patients/\x00/")
    assert response.status_code == 400
    assert "The address you opened holds a character that " + CAUSE in response.content.decode()


def test_nul_in_a_query_parameter_name_is_a_plain_400(cast):
    response = client_for(cast.coordinator).get(reverse("patients:list") + "?pa%00ge=1")
    assert response.status_code == 400
    assert "parameter whose name has a character that " + CAUSE in response.content.decode()


def test_nul_in_a_form_field_name_changes_nothing(cast):
    url = reverse("patients:edit", args=[cast.patient.pk])
    response = client_for(cast.coordinator).post(url, {**registration(), "first\x00name": "Mallory"})
    assert response.status_code == 400
    assert "names a field or a file with a character that " + CAUSE in response.content.decode()
    cast.patient.refresh_from_db()
    assert cast.patient.first_name == "Marisol"


def test_nul_in_a_cookie_is_refused_before_the_session_is_looked_up(cast, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client_for(None).get(reverse("patients:list"), HTTP_COOKIE="sessionid=abc\x00def")
    assert response.status_code == 400
    assert "request header or cookie" in response.content.decode()


def test_nul_in_a_header_the_app_reads_is_refused(cast):
    response = client_for(cast.assigned_nurse).get(reverse("visits:today"), headers={"HX-Target": "day\x00"})
    assert response.status_code == 400


def test_an_in_page_request_gets_the_400_without_a_swap(cast):
    response = client_for(cast.coordinator).get("/patients/\x00/", headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert response["HX-Reswap"] == "none"


def test_the_400_page_holds_no_inline_script_or_style(cast):
    body = client_for(cast.coordinator).get("/patients/\x00/").content.decode()
    assert "<script" not in body and "style=" not in body and "onclick" not in body


def test_a_nul_in_a_field_value_gets_the_fields_own_message(cast):
    """Values are the forms' to refuse, next to the field, keeping the rest of what was typed."""
    url = reverse("patients:edit", args=[cast.patient.pk])
    response = client_for(cast.coordinator).post(url, registration(first_name="Mal\x00lory"))
    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()
    cast.patient.refresh_from_db()
    assert cast.patient.first_name == "Marisol"


def test_plain_requests_pass_the_edge(cast):
    assert client_for(cast.coordinator).get(reverse("patients:list"), {"page": "2"}).status_code == 200


# --- Bounded fields ---------------------------------------------------------------------------------------------


class Sample(BoundedInputMixin, forms.Form):
    note = forms.CharField(required=False, widget=forms.Textarea)
    count = forms.IntegerField(required=False)
    amount = forms.DecimalField(required=False)
    born = forms.DateField(required=False)
    seen_on = forms.DateField(required=False)
    at = forms.DateTimeField(required=False)
    DATE_RANGES = {"born": DATE_OF_BIRTH}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"note": "x" * (TEXT_MAX + 1)}, "note", "at most 5000 characters"),
        ({"count": str(2**31)}, "count", "less than or equal to 2147483647"),
        ({"count": str(-(2**31) - 1)}, "count", "greater than or equal to -2147483648"),
        ({"amount": "1" + "0" * 12}, "amount", "less than or equal to 1000000000"),
        ({"born": "1899-12-31"}, "born", "before 1900"),
        ({"born": (date.today() + timedelta(days=2)).isoformat()}, "born", "cannot be in the future"),
        ({"seen_on": "9999-12-31"}, "seen_on", "more than 10 years ahead"),
        ({"seen_on": "0001-01-01"}, "seen_on", "more than 10 years ago"),
        ({"at": "9999-12-31T23:59"}, "at", "more than 10 years ahead"),
    ],
)
def test_every_field_gets_a_bound_with_its_message(data, field, message):
    form = Sample(data)
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


def test_values_inside_the_bounds_pass():
    today = timezone.localdate()
    form = Sample(
        {"note": "x" * TEXT_MAX, "count": str(2**31 - 1), "amount": "12.5", "born": "1900-01-01", "seen_on": today}
    )
    assert form.is_valid(), form.errors
    assert form.fields["note"].widget.attrs["maxlength"] == str(TEXT_MAX)


def test_a_past_only_range_says_so():
    with pytest.raises(forms.ValidationError, match="cannot be in the future"):
        clinical_dates(years_ahead=0)(timezone.localdate() + timedelta(days=1))


def test_a_free_text_patient_field_is_bounded_next_to_the_field(cast):
    url = reverse("patients:edit", args=[cast.patient.pk])
    response = client_for(cast.coordinator).post(url, registration(allergies="penicillin " * 600))
    assert response.status_code == 200
    assert "at most 5000 characters" in response.content.decode()
    assert not Patient.objects.filter(allergies__startswith="penicillin").exists()


def test_a_date_of_birth_before_1900_is_refused(cast):
    response = client_for(cast.coordinator).post(reverse("patients:create"), registration(date_of_birth="0001-01-01"))
    assert "Check the year: the date of birth is before 1900." in response.content.decode()
    assert not Patient.objects.filter(mrn="NEW-4242").exists()


# --- Orders: a set number of years and of visits ----------------------------------------------------------------


def preview(cast, **overrides):
    response = client_for(cast.coordinator).post(
        reverse("orders:preview", args=[cast.patient.pk]), form_data(cast.patient, **overrides), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    return response.content.decode()


def test_an_order_running_past_the_years_allowed_is_refused_on_the_preview(cast, settings):
    settings.ORDER_MAX_YEARS = 2
    body = preview(cast, number_of_cycles="40")  # every 4 weeks: three years
    assert "An order runs at most 2 years from its start" in body
    assert "visits will be planned" not in body


def test_an_order_planning_more_visits_than_allowed_is_refused_on_the_preview(cast, settings):
    settings.ORDER_MAX_VISITS = 8
    body = preview(cast)  # 2 cycles of 5 days
    assert "This order would plan 10 visits; an order plans at most 8." in body


def test_an_order_inside_both_limits_is_planned(cast, settings):
    settings.ORDER_MAX_VISITS = 10
    assert "10 visits will be planned" in preview(cast)


@pytest.mark.parametrize(
    "overrides",
    [
        {"interval_weeks": "32767", "number_of_cycles": "32767"},
        {"regimen": "paired", "days_per_cycle": "1", "second_dose_day": "32767", "interval_months": "32767"},
        {"regimen": "weekly", "days_per_cycle": "1", "number_of_cycles": "32767"},
        {"days_per_cycle": "32767"},
    ],
)
def test_absurd_regimens_are_refused_without_planning_them_and_save_nothing(cast, overrides):
    data = {**form_data(cast.patient, **overrides), "save": "1"}
    response = client_for(cast.coordinator).post(reverse("orders:create", args=[cast.patient.pk]), data)
    assert response.status_code == 400
    assert "An order runs at most" in response.content.decode() or "Ensure this value" in response.content.decode()
    assert TherapyOrder.objects.count() == 0 and Visit.objects.count() == 0


def test_runs_past_stops_looking_at_the_horizon():
    start = date(2026, 12, 2)
    horizon = regimens.add_months(start, 24)
    huge = regimens.Regimen(kind=regimens.CYCLE, interval_weeks=32767, number_of_cycles=32767)
    assert regimens.runs_past(huge, start, horizon)
    assert len(regimens.infusion_days(huge, start, horizon=horizon)) == 1
    yearly = regimens.Regimen(kind=regimens.CYCLE, interval_weeks=52, number_of_cycles=2)
    assert not regimens.runs_past(yearly, start, horizon)
    ending = regimens.Regimen(kind=regimens.WEEKLY, end_date=date(2027, 6, 1))
    assert not regimens.runs_past(ending, start, horizon)
    assert not regimens.runs_past(regimens.Regimen(kind=regimens.WEEKLY), start, horizon)  # the default horizon


# --- Converters ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["x" * 10_000, "short", "has.a.dot" + "x" * 30, "space " + "x" * 30])
def test_a_feed_token_that_cannot_be_one_is_a_404(cast, token):
    CalendarFeed.objects.create(patient=cast.patient)
    response = client_for(None).get(f"/portal/calendar/{token}.ics")
    assert response.status_code == 404


def test_a_real_feed_token_still_opens(cast):
    feed = CalendarFeed.objects.create(patient=cast.patient)
    assert len(feed.token) == 43
    assert client_for(None).get(reverse("portal:calendar_feed", args=[feed.token])).status_code == 200
