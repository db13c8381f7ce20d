"""The coordinator's alert queue, and the actions taken right on it."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from infusion_site.access import role_required
from infusion_site.roles import is_coordinator
from visits.alerts.forms import FollowUpCallForm, ResolveRequestForm
from visits.alerts.registry import Severity
from visits.alerts.selectors import collect_alerts, group_alerts
from visits.alerts.services import follow_up_record_call, reschedule_request_resolve
from visits.alerts.services import notification_retry as service_notification_retry
from visits.models import FollowUp, Notification, RescheduleRequest


def _queue(request, *, failed=None, status=200):
    """The queue page; ``failed`` is (alert key, bound form) when an action on one alert was refused."""
    alerts = collect_alerts()
    context = {
        "groups": group_alerts(alerts),
        "total": len(alerts),
        "urgent": sum(alert.severity == Severity.URGENT for alert in alerts),
        "failed_key": failed[0] if failed else None,
        "failed_form": failed[1] if failed else None,
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
