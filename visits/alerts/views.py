"""The coordinator's alert queue, and the actions taken right on it."""

from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from infusion_site.access import role_required
from infusion_site.audit import patient_id_of, record_patient_accesses
from infusion_site.roles import is_coordinator
from patients.services import ServiceError
from visits.alerts import registry
from visits.alerts.forms import AlertKeyForm, FollowUpCallForm, ResolveAlertForm, ResolveRequestForm
from visits.alerts.selectors import alert_by_key, alert_queue, kind_of_key, recently_resolved, taken_on
from visits.alerts.services import (
    alert_acknowledge,
    alert_resolve,
    follow_up_record_call,
    handling_resolve,
    reschedule_request_resolve,
)
from visits.alerts.services import notification_retry as service_notification_retry
from visits.board.selectors import own_team_ids
from visits.models import FollowUp, Notification, RescheduleRequest


def _short(label: str) -> str:
    """ "Check-in exceptions (location not verified, …)" → "check-in exceptions", for the one line of empty kinds."""
    short = label.split(" (")[0]
    return short[:1].lower() + short[1:]


MAX_PAGES = 50  # a thousand alerts of one kind at most on one page


def _pages_asked(request) -> dict[str, int]:
    """``?<kind>=<pages>`` (the "Show more" links): how many pages of each category to show; nonsense is ignored."""
    asked = {}
    for kind in registry.SOURCES:
        value = request.GET.get(kind, "")
        if value.isdigit() and 1 <= int(value) <= MAX_PAGES:
            asked[kind] = int(value)
    return asked


def _show_refused(groups, key: str) -> None:
    """An action refused on an alert beyond the pages shown: that alert is put on top of its kind, with its form."""
    kind = kind_of_key(key) if key else None
    group = next((group for group in groups if group.source.kind == kind), None)
    if group is None or key in [alert.key for alert in group.shown]:
        return
    alert = alert_by_key(key)
    if alert is not None:
        alert.is_own_team = False
        group.shown.insert(0, alert)


def _queue(request, *, failed=None, resolve_failed=None, status=200):
    """The queue page; ``failed`` is (alert key, bound form) when an action on one alert was refused, and
    ``resolve_failed`` the same for resolving an alert with a note. Each category shows a page (20) of its alerts,
    the coordinator's own teams' first, and "Show more" adds a page; the counts are of every alert."""
    pages = _pages_asked(request)
    queue = alert_queue(own_team_ids=own_team_ids(user=request.user), pages=pages)
    groups = queue.groups
    refused_key = (failed or resolve_failed or ("",))[0] or ""
    _show_refused(groups, refused_key)
    for group in groups:
        group.more_url = f"?{urlencode(pages | {group.source.kind: group.pages + 1})}#{group.source.kind}"
    shown = [alert for group in groups for alert in group.shown]
    # Each patient the page names, in one insert (the rows its sources loaded already lead to the patient).
    record_patient_accesses(
        [patient_id_of(alert.about, cached_only=True) for alert in shown]
        + [handling.patient_id for handling in queue.in_hand]
    )
    context = {
        "in_hand": queue.in_hand,
        "groups": groups,
        "busy_groups": [group for group in groups if group.count],
        "empty_labels": ", ".join(_short(group.source.label) for group in groups if not group.count),
        "total": queue.count,
        "urgent": queue.urgent_count,
        "failed_key": failed[0] if failed else None,
        "failed_form": failed[1] if failed else None,
        "resolve_failed_key": resolve_failed[0] if resolve_failed else None,
        "resolve_failed_form": resolve_failed[1] if resolve_failed else None,
    }
    return render(request, "visits/alerts/queue.html", context, status=status)


@role_required(is_coordinator)
@require_GET
def queue(request):
    return _queue(request)


@role_required(is_coordinator)
@require_POST
def resolve_request(request, pk):
    reschedule = get_object_or_404(RescheduleRequest.objects.select_related("visit__patient"), pk=pk)
    form = ResolveRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"The request from {reschedule.visit.patient.full_name} is still open: add a note.")
        return _queue(request, failed=(f"reschedule_request-{reschedule.pk}", form), status=400)
    if reschedule_request_resolve(request=reschedule, resolution=form.cleaned_data["resolution"], by=request.user):
        messages.success(request, f"The request from {reschedule.visit.patient.full_name} is resolved.")
    else:
        messages.info(request, f"The request from {reschedule.visit.patient.full_name} was already resolved.")
    return redirect("alerts:queue")


@role_required(is_coordinator)
@require_POST
def follow_up_call(request, pk):
    follow_up = get_object_or_404(FollowUp.objects.select_related("visit__patient"), pk=pk)
    name = follow_up.visit.patient.full_name
    form = FollowUpCallForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"The call to {name} is not recorded: write what they said.")
        return _queue(request, failed=(f"follow_up_call-{follow_up.pk}", form), status=400)
    if follow_up_record_call(follow_up=follow_up, note=form.cleaned_data["call_note"], by=request.user):
        messages.success(request, f"The follow-up call to {name} is recorded.")
    else:
        messages.info(request, f"The follow-up call to {name} was already recorded.")
    return redirect("alerts:queue")


@role_required(is_coordinator)
@require_POST
def notification_retry(request, pk):
    notification = get_object_or_404(Notification, pk=pk)
    if notification.failed_at is None:
        messages.info(request, "That message is no longer marked as failed.")
        return redirect("alerts:queue")
    service_notification_retry(notification=notification, by=request.user)
    messages.success(request, "The message will be sent again in a moment.")
    return redirect("alerts:queue")


GONE = "That alert is not on the queue any more; the page is up to date now."


@role_required(is_coordinator)
@require_POST
def acknowledge(request):
    """ "I am on it": the alert stays on the queue, marked with who and when."""
    form = AlertKeyForm(request.POST)
    alert = alert_by_key(form.cleaned_data["key"]) if form.is_valid() else None
    if alert is None:
        messages.error(request, GONE)
        return redirect("alerts:queue")
    if alert_acknowledge(alert=alert, by=request.user):
        messages.success(request, f"You are on it: {alert.title}.")
    else:
        messages.info(request, f"Already taken: {alert.title}.")
    return redirect(reverse("alerts:queue") + f"#{alert.anchor}")


@role_required(is_coordinator)
@require_POST
def resolve(request):
    """Resolved with a note: the alert leaves the queue and stays in the visit's and the patient's history.

    An alert taken on earlier whose source no longer raises it (aged out of its window) is closed from its record.
    """
    form = ResolveAlertForm(request.POST)
    form.is_valid()  # a valid key is in cleaned_data even when the note is refused
    key = form.cleaned_data.get("key")
    alert = alert_by_key(key) if key else None
    if alert is not None:
        if alert.resolved_by_own_form:
            messages.error(request, f"Use the form under the alert to resolve it: {alert.title}.")
            return redirect(reverse("alerts:queue") + f"#{alert.anchor}")
        title, close = alert.title, lambda note: alert_resolve(alert=alert, note=note, by=request.user)
    else:
        handling = taken_on(key) if key else None
        if handling is None:
            messages.error(request, GONE)
            return redirect("alerts:queue")
        title, close = handling.title, lambda note: handling_resolve(handling=handling, note=note, by=request.user)
    if not form.errors:
        try:
            resolved = close(form.cleaned_data["note"])
        except ServiceError as error:
            form.add_error("note", str(error))
    if form.errors:
        messages.error(request, f"Not resolved yet: {title}. Add a note on what was done.")
        return _queue(request, resolve_failed=(key, form), status=400)
    if resolved:
        messages.success(request, f"Resolved: {title}. It is kept in the patient's history.")
    else:
        messages.info(request, f"Already resolved: {title}.")
    return redirect("alerts:queue")


@role_required(is_coordinator)
@require_GET
def resolved(request):
    """The latest resolved alerts, newest first, with who resolved them, when and the note."""
    handlings = recently_resolved()
    record_patient_accesses([handling.patient_id for handling in handlings])
    return render(request, "visits/alerts/resolved.html", {"handlings": handlings})
