"""The coordinator's alert queue, and the actions taken right on it."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from infusion_site.access import role_required
from infusion_site.roles import is_coordinator
from visits.alerts import Severity, collect_alerts, group_alerts, reschedule_request_resolve
from visits.models import RescheduleRequest


class ResolveRequestForm(forms.Form):
    resolution = forms.CharField(
        label="What was done",
        max_length=300,
        error_messages={"required": "Write a short note on what was done, e.g. “Moved to Thu 26 Nov, 10 am”."},
    )


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
