from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from infusion_site.access import role_required
from infusion_site.audit import record_patient_accesses
from infusion_site.roles import is_coordinator, is_nurse
from patients.emergency import selectors, services
from patients.emergency.forms import EmergencyAccessForm
from patients.models import EmergencyAccess
from patients.services import ServiceError


@role_required(is_nurse)
@require_http_methods(["GET", "POST"])
def emergency_access_start(request):
    """The MRN travels in the form's body, never the address; a patient's name is shown only once access is open."""
    form = EmergencyAccessForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                access = services.emergency_access_start(
                    nurse=request.user, mrn=form.cleaned_data["mrn"], reason=form.cleaned_data["reason"]
                )
            except services.NoSuchPatient as error:
                form.add_error("mrn", str(error))
            except ServiceError as error:
                form.add_error(None, str(error))
            else:
                until = timezone.localtime(access.expires_at)
                messages.warning(
                    request,
                    f"Emergency access open until {until:%H:%M}. The coordinators have been told.",
                )
                return redirect("patients:detail", access.patient_id)
    return render(
        request,
        "patients/emergency/start.html",
        {"form": form, "hours": services.emergency_access_hours()},
        status=status,
    )


@role_required(is_coordinator)
def emergency_access_list(request):
    now = timezone.now()
    accesses = list(selectors.emergency_accesses_for_coordinators(now=now))
    record_patient_accesses({access.patient_id for access in accesses})
    return render(request, "patients/emergency/list.html", {"accesses": accesses, "now": now})


@role_required(is_coordinator)
@require_POST
def emergency_access_end(request, pk):
    access = get_object_or_404(EmergencyAccess, pk=pk)
    try:
        access = services.emergency_access_end(access_id=access.pk, coordinator=request.user)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Emergency access #{access.pk} ended. The nurse no longer sees the record.")
    return redirect("emergency:list")
