"""The patient's symptom journal in the portal: a score a day for weakness, rash, tiredness and pain.

The chart sets the scores beside the days the patient had an infusion, so they and their care team
can see how the symptoms follow the treatment cycle. The list under it carries the same numbers, for
readers without JavaScript or a screen reader.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from infusion_site.access import role_required
from infusion_site.audit import record_access
from infusion_site.roles import is_patient
from patients import selectors as patient_selectors
from patients.models import SYMPTOM_FIELDS, Patient, SymptomEntry, patient_today
from patients.services import journal_day_text, symptom_entry_save
from visits.models import Visit
from visits.portal.forms import SymptomEntryForm
from visits.portal.views import INFUSION_GIVEN, day_text

ENTRIES_PER_PAGE = 30
CHART_DAYS = 90


# --- Reads --------------------------------------------------------------------------------------


def infusion_days(*, patient: Patient, since: date, until: date) -> set[date]:
    """The days, in the patient's time zone, on which they were given an infusion (one query)."""
    zone = patient.zone
    starts = Visit.objects.filter(
        patient=patient,
        status__in=INFUSION_GIVEN,
        planned_start__gte=datetime.combine(since, time.min, tzinfo=zone),
        planned_start__lt=datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone),
    ).values_list("planned_start", flat=True)
    return {moment.astimezone(zone).date() for moment in starts}


def journal_chart(*, entries: list[SymptomEntry], infusions: set[date], since: date, until: date) -> dict:
    """Plain data for the chart (read with json_script): one slot per day, None where no entry was made."""
    by_day = {entry.recorded_on: entry for entry in entries}
    days = [since + timedelta(days=offset) for offset in range((until - since).days + 1)]
    scores = {
        field: [getattr(by_day[day], field) if day in by_day else None for day in days] for field in SYMPTOM_FIELDS
    }
    return {
        "days": [day.isoformat() for day in days],
        "labels": [f"{day.day} {day:%b}" for day in days],
        **scores,
        "infusions": sorted(day.isoformat() for day in infusions if since <= day <= until),
    }


@dataclass
class JournalRow:
    """One entry as the list shows it."""

    entry: SymptomEntry
    day: str
    infusion: bool


# --- Views --------------------------------------------------------------------------------------


@role_required(is_patient)
@require_GET
def journal(request):
    patient = patient_selectors.own_record(user=request.user)
    record_access(patient)
    today = patient_today(patient)
    entries = SymptomEntry.objects.filter(patient=patient)

    chart_entries = list(
        entries.filter(recorded_on__gte=today - timedelta(days=CHART_DAYS - 1)).order_by("recorded_on")
    )
    page = Paginator(entries.order_by("-recorded_on", "-pk"), ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    shown = list(page)

    chart_since = chart_entries[0].recorded_on if chart_entries else today
    since = min([chart_since, *(entry.recorded_on for entry in shown)])
    infusions = infusion_days(patient=patient, since=since, until=today)
    todays_entry = next((entry for entry in chart_entries if entry.recorded_on == today), None)
    chart = None
    if len(chart_entries) > 1:  # one point is no trend
        chart = journal_chart(entries=chart_entries, infusions=infusions, since=chart_since, until=today)

    context = {
        "patient": patient,
        "page": page,
        "rows": [
            JournalRow(entry, day_text(entry.recorded_on, today), entry.recorded_on in infusions) for entry in shown
        ],
        "chart": chart,
        "chart_days": CHART_DAYS,
        "todays_entry": todays_entry,
    }
    return render(request, "portal/journal.html", context)


@role_required(is_patient)
@require_http_methods(["GET", "POST"])
def journal_add(request):
    patient = patient_selectors.own_record(user=request.user)
    if request.method == "GET":
        todays_entry = patient.symptom_entries.filter(recorded_on=patient_today(patient)).first()
        if todays_entry is not None:
            messages.info(request, "You already have an entry for today. You can change it here.")
            return redirect("portal:journal_edit", todays_entry.pk)
    return journal_form(request, patient=patient, entry=None)


@role_required(is_patient)
@require_http_methods(["GET", "POST"])
def journal_edit(request, pk):
    patient = patient_selectors.own_record(user=request.user)
    entry = get_object_or_404(SymptomEntry, pk=pk, patient=patient)
    return journal_form(request, patient=patient, entry=entry)


def journal_form(request, *, patient: Patient, entry: SymptomEntry | None):
    """Show the form for a new entry or one of the patient's own; on POST, save through the service."""
    today = patient_today(patient)
    if entry is None:
        initial = {"recorded_on": today}
    else:
        initial = {"recorded_on": entry.recorded_on, "note": entry.note}
        initial.update({field: getattr(entry, field) for field in SYMPTOM_FIELDS})
    form = SymptomEntryForm(request.POST if request.method == "POST" else None, initial=initial, today=today)
    same_day_entry = None
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = symptom_entry_save(patient=patient, entry=entry, **form.cleaned_data)
            except ValidationError as refused:
                day = form.cleaned_data["recorded_on"]
                add_refusal(form, refused)
                if form.has_error("recorded_on", code="duplicate_day"):
                    same_day_entry = patient.symptom_entries.filter(recorded_on=day).first()
            else:
                messages.success(request, f"Your journal entry for {journal_day_text(saved.recorded_on)} is saved.")
                return redirect("portal:journal")
        messages.error(request, "Your journal entry is not saved yet. Please see the message below.")
    context = {"form": form, "entry": entry, "same_day_entry": same_day_entry}
    record_access(patient)
    return render(request, "portal/journal_form.html", context, status=400 if form.errors else 200)


def add_refusal(form, refused: ValidationError) -> None:
    """Put the service's message next to the field it is about (or at the top of the form)."""
    if not hasattr(refused, "error_dict"):
        form.add_error(None, refused)
        return
    for field, errors in refused.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)
