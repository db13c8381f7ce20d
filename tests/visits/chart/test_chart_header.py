"""The chart's header names what the nurse must know before she gives anything: the allergies themselves, or that
none are known, or that nobody recorded them, and every other flag My day shows."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.models import Patient
from tests import factories
from visits.models import Reaction


def chart_visit(cast, *, product_switch=False, is_first_infusion=False, **patient_fields):
    """A visit of the assigned nurse for the cast's patient, whose profile gets ``patient_fields``."""
    Patient.objects.filter(pk=cast.patient.pk).update(**patient_fields)
    order = factories.OrderFactory(patient=cast.patient, product_switch=product_switch)
    return factories.VisitFactory(order=order, nurse=cast.assigned_nurse, is_first_infusion=is_first_infusion)


def header_flags(client, visit) -> str:
    """The flags line of the chart's header, as HTML."""
    response = client.get(reverse("visits:chart", args=[visit.pk]))
    assert response.status_code == 200
    match = re.search(r'<p[^>]*id="chart-flags"[^>]*>(.*?)</p>', response.content.decode(), re.S)
    assert match, "the chart header has no flags line"
    return match.group(1)


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_header_names_each_allergy(cast, nurse_client):
    visit = chart_visit(cast, allergies="Penicillin: hives\nLatex <gloves>: rash", no_known_allergies=False)

    flags = header_flags(nurse_client, visit)

    assert "Allergies: Penicillin: hives; Latex &lt;gloves&gt;: rash" in text(flags)
    assert "No known allergies" not in flags and "not recorded" not in flags


def test_header_says_no_known_allergies_when_so_recorded(cast, nurse_client):
    visit = chart_visit(cast, allergies="", no_known_allergies=True)

    flags = text(header_flags(nurse_client, visit))

    assert "No known allergies" in flags
    assert "Allergies:" not in flags and "not recorded" not in flags


def test_header_says_in_red_that_allergies_were_not_recorded(cast, nurse_client):
    visit = chart_visit(cast, allergies="", no_known_allergies=False)

    flags = header_flags(nurse_client, visit)

    assert re.search(r'class="badge text-bg-danger[^"]*"[^>]*>Allergies not recorded<', flags)


def test_header_shows_the_flags_my_day_shows(cast, nurse_client):
    visit = chart_visit(
        cast,
        iga_status=Patient.IgAStatus.DEFICIENT,
        anti_iga_antibodies=Patient.AntiIgA.PRESENT,
        renal_risk=True,
        thrombosis_risk=True,
        no_known_allergies=True,
        product_switch=True,
        is_first_infusion=True,
    )

    flags = text(header_flags(nurse_client, visit))

    for flag in (
        "First infusion",
        "Product switch: titration restarts",
        "IVIG contraindicated: anti-IgA",
        "No known allergies",
        "Renal risk",
        "Thrombosis risk",
    ):
        assert flag in flags


def test_header_shows_the_patients_last_reaction(cast, nurse_client):
    visit = chart_visit(cast, no_known_allergies=True)
    earlier = factories.VisitFactory(order=visit.order, nurse=cast.assigned_nurse, cycle_number=visit.cycle_number + 9)
    Reaction.objects.create(
        visit=earlier, onset_at=earlier.planned_start, symptoms=["headache"], grade=2, action="paused"
    )

    flags = text(header_flags(nurse_client, visit))

    onset_day = timezone.localtime(earlier.planned_start, cast.patient.zone)  # the chart shows the patient's days
    assert f"Last reaction: grade 2, {onset_day:%-d %b %Y}" in flags


@pytest.mark.parametrize("allergies", ["Penicillin: hives", ""])
def test_registry_keeps_its_short_allergy_badge(cast, coordinator_client, allergies):
    Patient.objects.filter(pk=cast.patient.pk).update(allergies=allergies, no_known_allergies=False)

    page = coordinator_client.get(reverse("patients:list")).content.decode()

    assert ('title="Penicillin: hives">Allergies</span>' in page) == bool(allergies)
    assert "Allergies not recorded" not in page and "Allergies:" not in page


def test_the_signoff_section_can_be_fetched_again_without_an_audit_entry_or_a_saved_trigger(cast, nurse_client):
    from auditlog.models import LogEntry

    visit = chart_visit(cast, no_known_allergies=True)
    url = reverse("visits:chart", args=[visit.pk]) + "?section=signoff"
    before = LogEntry.objects.count()
    response = nurse_client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="section-signoff"' in html and "<html" not in html
    assert "HX-Trigger" not in response.headers
    assert LogEntry.objects.count() == before
    assert "<html" in nurse_client.get(url).content.decode()  # a plain request gets the whole chart
