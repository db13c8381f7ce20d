"""Lot recall search and the printable visit record."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from tests.conftest import client_for
from visits.models import (
    Addendum,
    InfusionRecord,
    PreInfusionChecklist,
    PremedicationGiven,
    RateChange,
    Reaction,
    VialUsed,
    Visit,
    VisitSignature,
    VisitVerification,
    VitalSigns,
)

# Friday 20 November 2026, 9:00 am in Chicago (the factories' patient time zone).
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def visit_for(patient, nurse, *, days_ago=0, **kwargs):
    factories.on_care_team(patient, nurse)
    return factories.VisitFactory(
        order=factories.OrderFactory(patient=patient),
        patient=patient,
        nurse=nurse,
        planned_start=NOW - dt.timedelta(days=days_ago),
        **kwargs,
    )


def vial(visit, lot, *, size_mg=10000):
    return VialUsed.objects.create(
        visit=visit, product=visit.order.product, lot_number=lot, expires_on=dt.date(2027, 6, 30), size_mg=size_mg
    )


def recall(client, lot):
    return client.get(reverse("visits:recall"), {"lot": lot})


# --- Lot recall ----------------------------------------------------------------------------------------


def test_recall_finds_every_patient_and_visit_that_received_the_lot_case_insensitively(cast):
    first = visit_for(cast.patient, cast.assigned_nurse, days_ago=30)
    second = visit_for(cast.other_patient, cast.unassigned_nurse, days_ago=2)
    vial(first, "OCT-2611A")
    vial(first, "oct-2611a")
    vial(second, "Oct-2611A")
    unrelated = visit_for(cast.other_patient, cast.unassigned_nurse, days_ago=5)
    vial(unrelated, "OCT-2611B")
    vial(unrelated, "OCT-2611")

    response = recall(client_for(cast.coordinator), " oct-2611a ")

    page = response.content.decode()
    assert response.status_code == 200
    assert f'id="recall-visit-{first.pk}"' in page and f'id="recall-visit-{second.pk}"' in page
    assert f'id="recall-visit-{unrelated.pk}"' not in page
    assert cast.patient.full_name in page and cast.other_patient.full_name in page
    assert "2 patients, 2 visits, 0 reactions" in page
    assert reverse("visits:chart", args=[first.pk]) in page and reverse("visits:chart", args=[second.pk]) in page
    assert reverse("visits:print", args=[second.pk]) in page
    assert "Wed 21 Oct 2026, 10:00 CDT" in page  # the visit's date and time in the patient's zone
    assert page.count("lot OCT-2611A") + page.count("lot oct-2611a") + page.count("lot Oct-2611A") == 3


def test_recall_lists_the_reactions_of_each_visit_that_used_the_lot(cast):
    visit = visit_for(cast.patient, cast.assigned_nurse, days_ago=10)
    vial(visit, "LOT77")
    Reaction.objects.create(
        visit=visit,
        onset_at=NOW - dt.timedelta(days=10) + dt.timedelta(hours=1),
        symptoms=["headache", "rash_hives"],
        grade=2,
        action=Reaction.Action.PAUSED,
    )
    Reaction.objects.create(
        visit=visit,
        onset_at=NOW - dt.timedelta(days=8),
        symptoms=["other"],
        other_symptom="Blisters on palms",
        grade=1,
        action=Reaction.Action.CONTINUED,
        is_delayed=True,
    )

    page = recall(client_for(cast.coordinator), "lot77").content.decode()

    assert "1 patient, 1 visit, 2 reactions" in page
    assert "Grade 2" in page and "headache, rash or hives" in page and "Paused" in page
    assert "delayed" in page and "Blisters on palms" in page


def test_recall_of_an_unknown_lot_says_none_was_recorded(cast):
    response = recall(client_for(cast.coordinator), "NOPE-1")

    assert response.status_code == 200
    assert "No vial with lot “NOPE-1” has been recorded." in response.content.decode()


def test_recall_without_a_lot_shows_only_the_search(cast):
    response = client_for(cast.coordinator).get(reverse("visits:recall"))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="lot"' in page
    assert "No vial" not in page and "recall-summary" not in page


def test_recall_of_a_too_long_lot_number_is_refused_at_the_field(cast):
    response = recall(client_for(cast.coordinator), "X" * 41)

    assert response.status_code == 400
    assert "at most 40 characters" in response.content.decode()


def test_recall_is_for_coordinators_only(cast):
    visit = visit_for(cast.patient, cast.assigned_nurse)
    vial(visit, "LOT1")

    assert recall(client_for(cast.assigned_nurse), "LOT1").status_code == 403
    assert recall(client_for(cast.patient_user), "LOT1").status_code == 403


def test_coordinator_nav_has_a_lot_recall_link(cast):
    page = client_for(cast.coordinator).get(reverse("alerts:queue")).content.decode()

    assert f'href="{reverse("visits:recall")}"' in page


def make_recalled(count: int, start: int) -> None:
    for n in range(start, start + count):
        patient = factories.PatientFactory()
        visit = visit_for(patient, factories.nurse(username=f"recall-nurse-{n}"), days_ago=n)
        vial(visit, "FLAT-1")
        vial(visit, "FLAT-1")
        Reaction.objects.create(visit=visit, onset_at=NOW, symptoms=["chills"], grade=1, action="continued")


def test_recall_query_count_is_the_same_for_two_and_ten_visits(cast):
    client = client_for(cast.coordinator)
    make_recalled(2, 0)
    recall(client, "FLAT-1")
    with CaptureQueriesContext(connection) as few:
        recall(client, "FLAT-1")
    make_recalled(8, 2)
    with CaptureQueriesContext(connection) as many:
        page = recall(client, "flat-1").content.decode()

    assert "10 patients, 10 visits, 10 reactions" in page
    assert len(many) == len(few), [query["sql"] for query in many.captured_queries]


# --- Printable record -------------------------------------------------------------------------------------


def documented_visit(cast) -> Visit:
    """A signed visit with every part of the record filled in."""
    nurse = cast.assigned_nurse
    start = NOW - dt.timedelta(days=1)
    visit = visit_for(cast.patient, nurse, days_ago=1, status=Visit.Status.SIGNED)
    VisitVerification.objects.create(
        visit=visit,
        nurse=nurse,
        service="IVIG infusion, Octagam 10%",
        checked_in_at=start,
        check_in_latitude=Decimal("39.781700"),
        check_in_longitude=Decimal("-89.650100"),
        check_in_distance_m=0,
        check_in_verified=True,
        checked_out_at=start + dt.timedelta(hours=5),
        version=2,
    )
    PreInfusionChecklist.objects.create(
        visit=visit,
        identifiers_confirmed=True,
        weight_today_kg=Decimal("71.5"),
        kit_epinephrine=True,
        kit_diphenhydramine=True,
        kit_saline=True,
        kit_expires_on=dt.date(2027, 3, 31),
        no_fever_or_infection=True,
        premedications_given=True,
        overrides={"creatinine": "Drawn last week, result pending; prescriber agreed."},
        completed_at=start + dt.timedelta(minutes=20),
        version=1,
    )
    PremedicationGiven.objects.create(
        visit=visit, drug="Acetaminophen", dose="650 mg", route="PO", given_at=start + dt.timedelta(minutes=15)
    )
    VialUsed.objects.create(
        visit=visit,
        product=visit.order.product,
        lot_number="PRINTLOT-9",
        expires_on=dt.date(2027, 1, 31),
        size_mg=10000,
    )
    InfusionRecord.objects.create(
        visit=visit,
        started_at=start + dt.timedelta(minutes=30),
        ended_at=start + dt.timedelta(hours=4),
        volume_infused_ml=Decimal("280"),
        version=2,
    )
    RateChange.objects.create(visit=visit, at=start + dt.timedelta(minutes=30), kind="start", rate_ml_per_hr=42)
    RateChange.objects.create(visit=visit, at=start + dt.timedelta(minutes=60), kind="increase", rate_ml_per_hr=84)
    VitalSigns.objects.create(
        visit=visit,
        taken_at=start + dt.timedelta(minutes=25),
        phase="baseline",
        temperature_c=Decimal("36.8"),
        pulse=72,
        systolic=124,
        diastolic=78,
        respiratory_rate=16,
        spo2=98,
        pain=0,
    )
    Reaction.objects.create(
        visit=visit,
        onset_at=start + dt.timedelta(minutes=70),
        symptoms=["chills"],
        grade=1,
        action=Reaction.Action.PREVIOUS_RATE,
        medications_given="None",
        outcome="Resolved in 15 min",
    )
    VisitSignature.objects.create(
        visit=visit,
        note="Tolerated well after stepping back to 42 mL/hr.",
        signed_by=nurse,
        signed_at=start + dt.timedelta(hours=5),
    )
    Addendum.objects.create(visit=visit, author=nurse, text="Patient called: mild headache next morning.")
    return visit


def print_page(user, visit) -> str:
    response = client_for(user).get(reverse("visits:print", args=[visit.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_printable_record_contains_each_part_of_the_chart(cast):
    visit = documented_visit(cast)

    page = print_page(cast.coordinator, visit)

    expected = {
        "identifiers": [cast.patient.mrn, "1975-05-17", cast.patient.last_name, "Dr. Priya Raman"],
        "check-in": ["IVIG infusion, Octagam 10%", "location verified", "2026-11-19 09:00", "2026-11-19 14:00"],
        "checklist": ["Two identifiers confirmed", "71.5", "2027-03-31", "Anaphylaxis kit expires on"],
        "overrides": ["Serum creatinine within 3 months", "result pending; prescriber agreed"],
        "premedications": ["Acetaminophen", "650 mg", "09:15"],
        "vials": ["PRINTLOT-9", "2027-01-31", "10000 mg"],
        "infusion": ["280.0 mL", "09:30", "Rate raised", "84.0 mL/hr"],
        "vitals": ["Baseline", "36.8", "124/78", "98"],
        "reactions": ["Back to the previous rate", "chills", "Resolved in 15 min", "Mild"],
        "note": ["Tolerated well after stepping back to 42 mL/hr."],
        "signature": ["Signed electronically by", "2026-11-19 14:00"],
        "addenda": ["mild headache next morning"],
    }
    for part, texts in expected.items():
        for text in texts:
            assert text in page, f"{part}: {text!r} missing"
    assert "not recorded" not in page.split('id="record-checklist"')[1].split("</section>")[0]


def test_printable_record_says_not_recorded_where_nothing_was_documented(cast):
    visit = visit_for(cast.patient, cast.assigned_nurse)

    page = print_page(cast.assigned_nurse, visit)

    for part in ("verification", "checklist", "premedications", "vials", "vitals"):
        section = page.split(f'id="record-{part}"')[1].split("</section>")[0]
        assert "not recorded" in section, part
    assert 'Rate steps: <span class="not-recorded">not recorded</span>' in page
    assert 'Note and signature: <span class="not-recorded">not recorded</span>' in page
    assert "not signed: this record may still change" in page


def test_printable_record_has_a_print_stylesheet(cast):
    page = print_page(cast.coordinator, visit_for(cast.patient, cast.assigned_nurse))

    # The print rules and the Print button's script are static files (the Content-Security-Policy allows no inline
    # style or script): the page loads them, and they hold the rules and the call.
    assert "css/app.css" in page and "js/print.js" in page and "data-print" in page
    stylesheet = (settings.BASE_DIR / "static/css/app.css").read_text()
    assert "@media print" in stylesheet and "body:has(.record)" in stylesheet
    assert "window.print()" in (settings.BASE_DIR / "static/js/print.js").read_text()


def test_chart_links_to_the_printable_record(cast):
    visit = visit_for(cast.patient, cast.assigned_nurse)

    page = client_for(cast.assigned_nurse).get(reverse("visits:chart", args=[visit.pk])).content.decode()

    assert f'href="{reverse("visits:print", args=[visit.pk])}"' in page


def test_care_team_nurse_may_print_but_a_nurse_off_the_team_may_not(cast):
    visit = visit_for(cast.patient, cast.assigned_nurse)
    colleague = factories.nurse(username="nurse-colleague")
    factories.on_care_team(cast.patient, colleague)

    assert client_for(colleague).get(reverse("visits:print", args=[visit.pk])).status_code == 200
    assert client_for(cast.unassigned_nurse).get(reverse("visits:print", args=[visit.pk])).status_code == 404
    assert client_for(cast.patient_user).get(reverse("visits:print", args=[visit.pk])).status_code == 403


def test_printable_record_query_count_does_not_grow_with_the_record(cast):
    small = visit_for(cast.patient, cast.assigned_nurse, days_ago=3)
    VialUsed.objects.create(
        visit=small, product=small.order.product, lot_number="A", expires_on=dt.date(2027, 1, 1), size_mg=5000
    )
    big = documented_visit(cast)
    for n in range(5):
        VitalSigns.objects.create(
            visit=big,
            taken_at=NOW - dt.timedelta(hours=n),
            phase="titration",
            temperature_c=Decimal("36.9"),
            pulse=80,
            systolic=120,
            diastolic=70,
            respiratory_rate=16,
        )
        vial(big, f"EXTRA-{n}")
        Addendum.objects.create(visit=big, author=factories.nurse(username=f"author-{n}"), text="More.")
    client = client_for(cast.coordinator)
    client.get(reverse("visits:print", args=[small.pk]))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("visits:print", args=[small.pk]))
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("visits:print", args=[big.pk]))

    assert len(many) == len(few), [query["sql"] for query in many.captured_queries]
