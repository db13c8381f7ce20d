"""The saved order tells the truth: its visits, past and coming, and the same numbers as the preview; the form shows
only the chosen regimen's fields."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import client_for
from tests.visits.orders.test_orders import form_data
from visits.models import Reaction, TherapyOrder, Visit


def save_from_the_page(client, patient, **overrides):
    data = {**form_data(patient), **overrides, "save": "1"}
    response = client.post(reverse("orders:create", args=[patient.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return TherapyOrder.objects.get()


def text(response) -> str:
    """The page's words, without tags, on one line."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_the_saved_order_lists_its_coming_visits_and_never_says_there_are_none(cast):
    client = client_for(cast.coordinator)
    preview = client.post(reverse("orders:preview", args=[cast.patient.pk]), form_data(cast.patient))
    assert "10 visits will be planned" in text(preview)
    order = save_from_the_page(client, cast.patient)
    page = text(client.get(reverse("orders:detail", args=[order.pk])))
    assert "No future visits" not in page
    assert "Coming visits: 10" in page and "Past visits: 0" in page
    body = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert all(reverse("visits:chart", args=[visit.pk]) in body for visit in order.visits.all())


def test_the_saved_order_shows_visit_times_in_the_patients_zone(cast):
    # The factories' patient lives in Chicago; the agency (settings.TIME_ZONE) is in New York: 09:00 CST, not 10:00.
    client = client_for(cast.coordinator)
    order = save_from_the_page(client, cast.patient, number_of_cycles="1")
    page = text(client.get(reverse("orders:detail", args=[order.pk])))
    assert "09:00 CST" in page and "10:00 EST" not in page
    assert "patient's time zone, America/Chicago" in page


def test_preview_and_saved_order_give_the_same_observation_for_a_first_infusion(cast):
    """No documented IVIG infusion: a first infusion, observed 60 min, though the order's box is not ticked."""
    client = client_for(cast.coordinator)
    preview = text(client.post(reverse("orders:preview", args=[cast.patient.pk]), form_data(cast.patient)))
    order = save_from_the_page(client, cast.patient)
    saved = text(client.get(reverse("orders:detail", args=[order.pk])))
    first = order.visits.order_by("planned_start").first()
    expected = f"visit {first.planned_minutes} min (30 set-up + infusion + 60 observation)"
    assert expected in preview and expected in saved
    assert "30 observation)" not in preview.split("later visits")[0]
    assert "first infusion: no documented" in preview and "first infusion: no documented" in saved


def test_the_saved_order_lists_past_visits_with_status_nurse_and_reactions(cast):
    client = client_for(cast.coordinator)
    order = save_from_the_page(client, cast.patient, number_of_cycles="1")
    first = order.visits.order_by("planned_start").first()
    first.planned_start = timezone.now() - timedelta(days=1)
    first.status = Visit.Status.COMPLETED
    first.nurse = cast.assigned_nurse
    first.save()
    Reaction.objects.create(visit=first, onset_at=first.planned_start, grade=1, action="continued", symptoms=["rash"])
    page = text(client.get(reverse("orders:detail", args=[order.pk])))
    past = page.split("Past visits: 1")[1]
    assert "Completed" in past and "Nora Fieldhouse" in past and "1 reaction" in past
    assert "Coming visits: 4" in page


def test_the_saved_order_page_costs_the_same_queries_for_one_cycle_or_four(cast):
    def queries_for(cycles):
        client = client_for(cast.coordinator)
        response = client.post(
            reverse("orders:create", args=[cast.patient.pk]),
            {**form_data(cast.patient), "number_of_cycles": str(cycles), "save": "1"},
        )
        order = TherapyOrder.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
        for visit in order.visits.all()[:2]:
            visit.nurse = cast.assigned_nurse
            visit.save()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("orders:detail", args=[order.pk])).status_code == 200
        return len(queries), order.visits.count()

    small, small_visits = queries_for(1)
    large, large_visits = queries_for(4)
    assert (small_visits, large_visits) == (5, 20)
    assert small == large


def test_the_order_form_hides_the_fields_of_other_regimens_and_works_without_script(cast):
    page = client_for(cast.coordinator).get(reverse("orders:create", args=[cast.patient.pk]) + "?preset=rituximab")
    body = page.content.decode()
    column = re.search(r'<div[^>]*data-regimens="induction"[^>]*>', body).group(0)
    assert "d-none" in column  # rituximab is paired: no induction weeks
    paired = re.search(r'<div[^>]*data-regimens="paired"[^>]*>', body).group(0)
    assert "d-none" not in paired
    assert "js/order_form.js" in body and "<script>" not in body
    assert "<noscript>" in body


def test_a_new_order_without_a_regimen_shows_none_of_the_regimen_fields_yet(cast):
    body = client_for(cast.coordinator).get(reverse("orders:create", args=[cast.patient.pk])).content.decode()
    columns = re.findall(r'<div[^>]*data-regimens="[^"]*"[^>]*>', body)
    assert len(columns) == 5 and all("d-none" in column for column in columns)


def test_an_order_posted_for_a_regimen_shows_its_fields_again(cast):
    data = {**form_data(cast.patient), "regimen": "paired", "days_per_cycle": "1"}
    body = client_for(cast.coordinator).post(reverse("orders:create", args=[cast.patient.pk]), data).content.decode()
    shown = re.findall(r'class="col-md"\s+data-regimens="([^"]*)"', body)
    assert shown == ["paired", "paired"]


def test_a_value_left_in_another_regimens_field_does_not_change_the_saved_order(cast):
    client = client_for(cast.coordinator)
    leftovers = {"induction_weeks": "0, two", "second_dose_day": "15", "interval_months": "6"}
    order = save_from_the_page(client, cast.patient, **leftovers)
    assert order.induction_weeks == [] and order.second_dose_day is None and order.interval_months is None
    assert order.regimen == "cycle" and order.days_per_cycle == 5


@pytest.mark.parametrize(
    ("overrides", "field_message"),
    [
        ({"regimen": "paired", "days_per_cycle": "1", "second_dose_day": ""}, "Give the day of the second dose"),
        ({"regimen": "induction", "days_per_cycle": "1", "induction_weeks": "2, 0"}, "starting at 0"),
        ({"number_of_cycles": "99999999999"}, "Ensure this value is less than or equal to"),
        ({"notes": "a\x00b"}, "Null characters are not allowed."),
        ({"start_date": "9999-12-31", "number_of_cycles": "1"}, "Check the year: an order starts within a year"),
        ({"end_date": "9999-12-31", "number_of_cycles": ""}, "Check the year: an order ends within three years"),
        ({"regimen": "weekly", "days_per_cycle": "1", "start_date": "99999-01-01"}, "Enter a valid date."),
    ],
)
def test_bad_regimen_input_gets_a_message_and_saves_nothing(cast, overrides, field_message):
    response = client_for(cast.coordinator).post(
        reverse("orders:create", args=[cast.patient.pk]), {**form_data(cast.patient), **overrides, "save": "1"}
    )
    assert response.status_code == 400
    assert field_message in response.content.decode()
    assert TherapyOrder.objects.count() == 0 and Visit.objects.count() == 0


def test_the_order_form_lays_out_in_one_column_below_wide_screens(cast):
    body = client_for(cast.coordinator).get(reverse("orders:create", args=[cast.patient.pk])).content.decode()
    # At 1024 px (Bootstrap lg) the form takes the full width, with the preview below it.
    assert 'class="col-xl-7"' in body and 'class="col-xl-5"' in body and "col-lg-7" not in body
    assert "style=" not in body.split('id="order-form"')[1].split("</form>")[0]
