"""The visit chart: one page whose sections follow the visit, each saving on its own.

Every section's form posts through ``section_submit``: parse, write through the service, answer. An htmx post gets
its section back (200 saved; 400 with the messages at the fields; 409 when the chart is locked or was saved on
another device, with fresh data); a plain post is redirected to the section after a save, or gets the whole chart
with the section's messages. Every refusal leaves the chart as it was.
"""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template import engines
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from infusion_site.access import role_required
from infusion_site.audit import record_access
from infusion_site.forms import add_service_errors
from infusion_site.roles import is_coordinator, is_nurse
from patients.services import ServiceError
from visits.chart.clock import plausible_recorded_time, recorded_at
from visits.chart.offline.selectors import OFFLINE_ENTRIES_SHOWN, entry_words_by_url, offline_entries
from visits.chart.rules import ChartConflict, ensure_editable, ensure_nurse_of
from visits.chart.sections import SECTION_KEYS, SECTIONS
from visits.chart.selectors import last_reaction
from visits.models import ClientWrite, Visit


def chart_visit(request, pk):
    """The visit with what every section reads, or 404 when it is not this user's to see."""
    queryset = (
        Visit.objects.visible_to(request.user)
        .select_related("patient", "order__product", "nurse")
        .annotate(last_reaction_grade=last_reaction("grade"), last_reaction_at=last_reaction("onset_at"))
    )
    return get_object_or_404(queryset, pk=pk)


def documenting_visit(request, pk):
    """The visit, if this nurse documents it (404 when not hers to see, 403 when not her visit)."""
    visit = chart_visit(request, pk)
    try:
        ensure_nurse_of(visit, request.user)
    except ServiceError as error:
        raise PermissionDenied(str(error)) from error
    return visit


def can_document(visit, user) -> bool:
    return visit.nurse_id == user.pk


def processor_values(request) -> dict:
    """What the context processors give a template (the user, the CSRF token, the unread count...), worked out once
    per request: the chart renders each of its sections on its own, and each render would run them all again."""
    values = getattr(request, "_processor_values", None)
    if values is None:
        values = {}
        for processor in engines["django"].engine.template_context_processors:
            values.update(processor(request))
        request._processor_values = values
    return values


def render_once(request, template: str, context: dict) -> str:
    return render_to_string(template, {**processor_values(request), **context})


def section_html(request, visit, section, *, bound=None, message=None) -> str:
    context = {
        "visit": visit,
        "section": section,
        "can_document": can_document(visit, request.user),
        "message": message,
        **section.context(visit=visit, user=request.user, bound=bound),
    }
    return render_once(request, section.template, context)


def render_section(request, visit, key, *, bound=None, status=200, message=None):
    """One section's partial (htmx swaps it in place), with a form's errors when ``bound``.

    Sections answer 200 after a save and 400 or 409 with the form and its message otherwise.
    """
    html = section_html(request, visit, SECTION_KEYS[key], bound=bound, message=message)
    response = HttpResponse(html, status=status)
    if status == 200:
        response["HX-Trigger"] = "chart-saved"
    return response


@dataclass(frozen=True)
class Notice:
    """A message with how it should look: green after a save, red when refused, amber when locked or stale."""

    text: str
    level: str

    def __str__(self) -> str:
        return self.text


MESSAGE_LEVELS = {"success": messages.SUCCESS, "warning": messages.WARNING, "danger": messages.ERROR}


def section_answer(request, visit, key, *, bound=None, status=200, message=None):
    """The section again (htmx); for a plain post, a redirect to it after a save or the whole chart when refused."""
    if message is not None and not isinstance(message, Notice):
        message = Notice(str(message), {200: "success", 409: "warning"}.get(status, "danger"))
    if request.htmx:
        return render_section(request, visit, key, bound=bound, status=status, message=message)
    if status == 200:
        if message is not None:
            messages.add_message(request, MESSAGE_LEVELS[message.level], message.text)
        return redirect(reverse("visits:chart", args=[visit.pk]) + f"#section-{key}")
    sections = [
        section_html(
            request,
            visit,
            section,
            bound=bound if section.key == key else None,
            message=message if section.key == key else None,
        )
        for section in SECTIONS
    ]
    return chart_page(request, visit, sections, status=status)


def _hidden_field_errors(form) -> str | None:
    """Errors of hidden fields (version, which stop) have no place next to a field: say them above the section."""
    errors = [error for field in form.hidden_fields() for error in field.errors]
    return " ".join(errors) or None


# A tablet names each write with its own id (a UUID) and the time the nurse recorded it, as form fields or headers.
CLIENT_ID_FIELD, CLIENT_AT_FIELD = "client_id", "client_at"
CLIENT_ID_HEADER, CLIENT_AT_HEADER = "X-Client-Write-Id", "X-Client-Recorded-At"
# Sent by the tablet when the write waited in its outbox (it could not be sent when the nurse recorded it).
CLIENT_KEPT_HEADER = "X-Client-Kept"


class AlreadyApplied(Exception):
    def __init__(self, write: ClientWrite):
        super().__init__(str(write.client_id))
        self.write = write


def client_write(request) -> tuple[uuid.UUID | None, datetime | None]:
    """The write's own id and recorded time, when the tablet sent them; ValueError when they are not readable."""
    raw_id = request.POST.get(CLIENT_ID_FIELD) or request.headers.get(CLIENT_ID_HEADER) or ""
    raw_at = request.POST.get(CLIENT_AT_FIELD) or request.headers.get(CLIENT_AT_HEADER) or ""
    if not raw_id:
        return None, None
    client_id = uuid.UUID(raw_id[:40])
    client_at = plausible_recorded_time(datetime.fromisoformat(raw_at[:40])) if raw_at else None
    return client_id, client_at


def _apply_once(request, visit, client_id, client_at, write: Callable[[], object]):
    """Run ``write`` in one transaction with the record of ``client_id``: both happen, or neither does. A second
    request with the same id meets the unique key (waiting for a racing first one to commit) and raises
    AlreadyApplied with the first one's record."""
    with transaction.atomic():
        if client_id is not None:
            try:
                with transaction.atomic():
                    ClientWrite.objects.create(
                        client_id=client_id,
                        visit=visit,
                        user=request.user,
                        action=request.resolver_match.url_name if request.resolver_match else "",
                        client_at=client_at,
                        kept_on_tablet=request.headers.get(CLIENT_KEPT_HEADER) == "1",
                    )
            except IntegrityError:
                raise AlreadyApplied(ClientWrite.objects.get(client_id=client_id)) from None
        return write()


def _replayed(request, visit, key, done: ClientWrite):
    """The answer to a write that was already applied: the section as it is now, and nothing changed. Only the
    nurse who recorded it, on the same visit and the same kind of entry, gets that answer."""
    action = request.resolver_match.url_name if request.resolver_match else ""
    if done.user_id != request.user.pk or done.visit_id != visit.pk or done.action != action:
        return section_answer(
            request, visit, key, status=409, message="Not saved: this entry's id belongs to another entry."
        )
    when = timezone.localtime(done.received_at, visit.patient.zone).strftime("%H:%M")
    if done.is_discarded:
        message = f"Not saved: this entry was discarded at {when} ({done.discarded_reason})."
        return section_answer(request, visit, key, status=409, message=message)
    return section_answer(request, visit, key, message=f"Already saved at {when}; nothing was changed.")


def section_submit(
    request,
    visit,
    key: str,
    form,
    save: Callable[[dict], str | Notice | None],
    *,
    bound_key: str | None = None,
    editable: Callable[[Visit], None] | None = ensure_editable,
    saved: Callable | None = None,
):
    """Validate ``form``, let ``save(data)`` write through the service, and answer with the section.

    ``save`` returns the message shown after the save (or None). The section's template gets the form back as
    ``bound[bound_key]`` (or as ``bound`` itself without a key). ``editable`` refuses a locked chart before the
    form is read; ``saved(request, visit, key, message)`` answers a save when the section needs more than itself.
    """
    try:
        client_id, client_at = client_write(request)
    except ValueError:
        return section_answer(
            request, visit, key, status=400, message="Not saved: this entry's id from the tablet is not readable."
        )
    with recorded_at(client_at):  # "now" in the forms and services is when the nurse recorded it
        return _submit(request, visit, key, form, save, client_id, client_at, bound_key, editable, saved)


def _submit(request, visit, key, form, save, client_id, client_at, bound_key, editable, saved):
    bound = {bound_key: form} if bound_key else form
    if client_id is not None:
        done = ClientWrite.objects.filter(client_id=client_id).first()
        if done is not None:  # applied before, perhaps before the chart was signed: answered as then
            return _replayed(request, visit, key, done)
    try:
        if editable:
            editable(visit)
    except ChartConflict as error:
        return section_answer(request, visit, key, status=409, message=str(error))
    if not form.is_valid():
        return section_answer(request, visit, key, bound=bound, status=400, message=_hidden_field_errors(form))
    try:
        message = _apply_once(request, visit, client_id, client_at, lambda: save(form.cleaned_data))
    except AlreadyApplied as applied:  # a racing replay of the same entry committed first
        return _replayed(request, chart_visit(request, visit.pk), key, applied.write)
    except ChartConflict as error:
        return section_answer(request, chart_visit(request, visit.pk), key, status=409, message=str(error))
    except ValidationError as error:  # e.g. another tablet created the row a moment before
        add_service_errors(form, error)
        return section_answer(request, visit, key, bound=bound, status=400)
    except ServiceError as error:
        return section_answer(request, visit, key, bound=bound, status=400, message=str(error))
    return (saved or section_answer)(request, chart_visit(request, visit.pk), key, message=message)


# A section alone (``?section=<key>``, htmx): sign-off is fetched again after any save, so what it lists as missing
# is never out of date; the tablet's outbox fetches a section to re-apply or edit an entry on its current version.


@role_required(is_nurse, is_coordinator)
def chart(request, pk):
    visit = chart_visit(request, pk)
    key = request.GET.get("section")
    if request.htmx and key in SECTION_KEYS:
        # A part of the chart already open on this screen (its opening was recorded); no "saved" trigger either,
        # so a refresh never sets off another.
        return HttpResponse(section_html(request, visit, SECTION_KEYS[key]))
    record_access(visit.patient)
    sections = [section_html(request, visit, section) for section in SECTIONS]
    return chart_page(request, visit, sections)


def chart_page(request, visit, sections, *, status=200) -> HttpResponse:
    html = render_once(request, "visits/chart/chart.html", chart_context(request, visit, sections))
    return HttpResponse(html, status=status)


def chart_context(request, visit, sections) -> dict:
    every_entry = request.GET.get("offline") == "all"
    entries = offline_entries(visit, limit=None if every_entry else OFFLINE_ENTRIES_SHOWN)
    return {
        "visit": visit,
        "patient": visit.patient,
        "sections": sections,
        "can_document": can_document(visit, request.user),
        "offline_entries": entries if every_entry else entries[:OFFLINE_ENTRIES_SHOWN],
        "more_offline_entries": len(entries) > OFFLINE_ENTRIES_SHOWN and not every_entry,
        "outbox_words": json.dumps(entry_words_by_url(visit)),
        "alert_history": visit.alert_handlings.select_related("acknowledged_by", "resolved_by")[:50],
    }
