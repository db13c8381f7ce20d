"""/audit/: the privacy officer searches the trail (POST, kept in the session) and exports the same search as CSV.

No patient name, MRN or date of birth reaches the address: the form is posted, the search is kept in the session
as ids and dates, and the address carries only the page number. Every search, page and export is itself audited.
"""

import csv

from auditlog.models import LogEntry
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_GET, require_http_methods

from infusion_site.access import role_required
from infusion_site.audit import record_patient_accesses
from infusion_site.roles import is_privacy_officer
from patients.audit_trail.forms import AuditSearchForm
from patients.audit_trail.selectors import (
    EXPORT_MARK,
    PAGE_SIZE,
    SEARCH_MARK,
    AuditSearch,
    audit_entries,
    audit_rows,
)

SESSION_KEY = "audit_search"
EXPORT_CHUNK = 500
COUNTED_AT_MOST = 10_000


class AuditPaginator(Paginator):
    """Counts up to COUNTED_AT_MOST entries and no further: the trail grows with every page anyone opens, and an
    exact count of a wide search would read the whole table on every page of it."""

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: COUNTED_AT_MOST + 1].count()

    @property
    def counted_all(self) -> bool:
        return self.count <= COUNTED_AT_MOST


def _kept(request) -> tuple[AuditSearch | None, dict]:
    kept = request.session.get(SESSION_KEY) or {}
    return AuditSearch.from_session(kept.get("search")), kept.get("typed") or {}


def _audit_the_officer(request, search: AuditSearch, mark: str) -> None:
    # The officer's own search is an entry about the officer, and about the patient searched for, if any.
    LogEntry.objects.log_create(
        request.user,
        force_log=True,
        action=LogEntry.Action.ACCESS,
        changes={},
        additional_data={mark: search.as_session(), "patient_id": search.patient_id},
    )


@role_required(is_privacy_officer)
@require_http_methods(["GET", "POST"])
def search(request):
    status = 200
    if request.method == "POST":
        if request.POST.get("clear"):
            request.session.pop(SESSION_KEY, None)
            return redirect("audit:search")
        form = AuditSearchForm(request.POST)
        if form.is_valid():
            asked = form.search()
            typed = {name: request.POST.get(name, "") for name in ("patient", "user", "since", "until")}
            request.session[SESSION_KEY] = {"search": asked.as_session(), "typed": typed}
            _audit_the_officer(request, asked, SEARCH_MARK)
            return redirect("audit:search")
        status = 400
        asked = None
    else:
        asked, typed = _kept(request)
        form = AuditSearchForm(initial=typed)
    page = rows = None
    if asked is not None:
        page = AuditPaginator(audit_entries(search=asked), PAGE_SIZE).get_page(request.GET.get("page"))
        rows = audit_rows(page)
        record_patient_accesses(sorted({row.patient.pk for row in rows if row.patient is not None}))
    context = {
        "form": form,
        "searched": asked is not None,
        "page": page,
        "rows": rows,
        "page_size": PAGE_SIZE,
        "counted_at_most": COUNTED_AT_MOST,
    }
    return render(request, "audit/search.html", context, status=status)


class _Echo:
    def write(self, value):
        return value


def _cell(value) -> str:
    # A spreadsheet runs a cell that starts like a formula (OWASP CSV injection): make it text.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


HEADER = ["When (local)", "Who (as recorded)", "What", "Record", "Record id", "Patient", "MRN", "From", "Emergency"]


def _csv_lines(asked: AuditSearch):
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    entries = audit_entries(search=asked)
    chunk = []
    for entry in entries.iterator(chunk_size=EXPORT_CHUNK):
        chunk.append(entry)
        if len(chunk) == EXPORT_CHUNK:
            yield from _csv_rows(writer, chunk)
            chunk = []
    yield from _csv_rows(writer, chunk)


def _csv_rows(writer, chunk):
    for row in audit_rows(chunk):
        yield writer.writerow(
            [
                _cell(f"{row.when:%Y-%m-%d %H:%M:%S %Z}"),
                _cell(row.who),
                _cell(row.what),
                _cell(row.record),
                _cell(row.entry.object_pk),
                _cell(row.patient.full_name if row.patient else ""),
                _cell(row.patient.mrn if row.patient else ""),
                _cell(row.address),
                "emergency access" if row.emergency else "",
            ]
        )


@role_required(is_privacy_officer)
@require_GET
def export(request):
    asked, _ = _kept(request)
    if asked is None:
        messages.info(request, "Search first; the export holds the same entries as the search.")
        return redirect("audit:search")
    _audit_the_officer(request, asked, EXPORT_MARK)
    response = StreamingHttpResponse(_csv_lines(asked), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-trail-{timezone.localdate():%Y-%m-%d}.csv"'
    return response
