from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from infusion_site.access import role_required
from infusion_site.audit import record_access
from infusion_site.roles import is_coordinator, is_nurse
from patients import selectors, services
from patients.forms import (
    AuthorizationForm,
    CareTeamForm,
    CreatinineForm,
    DiagnosisForm,
    InviteForm,
    PatientCreateForm,
    PatientForm,
    PatientSearchForm,
    WeightForm,
)
from patients.models import Patient

PAGE_SIZE = 25

# The dated sections of the patient page, each with its own small add form.
SECTIONS = {
    "weights": ("Weights", WeightForm),
    "creatinine": ("Serum creatinine", CreatinineForm),
    "authorizations": ("Payer and prior authorizations", AuthorizationForm),
    "diagnoses": ("Diagnoses", DiagnosisForm),
}


@role_required(is_coordinator, is_nurse)
def patient_list(request):
    form = PatientSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    page = Paginator(selectors.patient_list(user=request.user, query=query), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "patients/patient_list.html", {"form": form, "page": page, "query": query})


@role_required(is_coordinator)
@require_http_methods(["GET", "POST"])
def patient_create(request):
    form = PatientCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        patient = services.patient_create(
            patient=form.save(commit=False),
            weight_kg=form.cleaned_data["weight_kg"],
            weight_unit=form.cleaned_data["weight_unit"],
            weighed_on=form.cleaned_data["weight_measured_on"],
            diagnosis_code=form.cleaned_data["diagnosis_code"],
            diagnosis_description=form.cleaned_data["diagnosis_description"],
            by=request.user,
        )
        messages.success(request, f"{patient.full_name} is registered.")
        return redirect("patients:detail", pk=patient.pk)
    return render(request, "patients/patient_form.html", {"form": form, "title": "Register a patient"})


@role_required(is_coordinator)
@require_http_methods(["GET", "POST"])
def patient_edit(request, pk):
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=pk)
    form = PatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        services.patient_update(patient=form.save(commit=False))
        messages.success(request, "Changes saved.")
        return redirect("patients:detail", pk=patient.pk)
    return render(
        request, "patients/patient_form.html", {"form": form, "title": f"Edit {patient.full_name}", "patient": patient}
    )


def _detail_context(request, patient, bound=None):
    """The patient page; ``bound`` replaces one section's empty form with a form that has errors."""
    bound = bound or {}
    context = {"patient": patient, "can_edit": is_coordinator.test(request.user), "today": timezone.localdate()}
    if context["can_edit"]:
        context["sections"] = {
            key: {"title": title, "form": bound.get(key) or form_class(prefix=key)}
            for key, (title, form_class) in SECTIONS.items()
        }
        context["care_team_form"] = bound.get("care-team") or CareTeamForm(patient=patient)
        context["invite_form"] = bound.get("invite") or InviteForm(initial={"email": patient.email})
    return context


def patient_detail(request, pk):
    patient = selectors.patient_for_page(user=request.user, pk=pk)
    record_access(patient)
    return render(request, "patients/patient_detail.html", _detail_context(request, patient))


@role_required(is_coordinator)
@require_POST
def record_add(request, pk, section):
    if section not in SECTIONS:
        raise Http404
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=pk)
    title, form_class = SECTIONS[section]
    form = form_class(request.POST, prefix=section, instance=form_class._meta.model(patient=patient))
    if form.is_valid():
        services.record_add(record=form.save(commit=False), by=request.user)
        messages.success(request, f"{title}: added.")
        return redirect(f"{patient_url(patient)}#{section}")
    messages.error(request, f"{title}: not added. Correct the fields marked below.")
    patient = selectors.patient_for_page(user=request.user, pk=pk)
    return render(
        request, "patients/patient_detail.html", _detail_context(request, patient, {section: form}), status=400
    )


def patient_url(patient):
    return reverse("patients:detail", args=[patient.pk])


@role_required(is_coordinator)
@require_POST
def care_team_add(request, pk):
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=pk)
    form = CareTeamForm(request.POST, patient=patient)
    if form.is_valid():
        services.care_team_add(patient=patient, nurse=form.cleaned_data["nurse"])
        messages.success(request, "Care team updated.")
        return redirect(f"{patient_url(patient)}#care-team")
    patient = selectors.patient_for_page(user=request.user, pk=pk)
    return render(
        request, "patients/patient_detail.html", _detail_context(request, patient, {"care-team": form}), status=400
    )


@role_required(is_coordinator)
@require_POST
def care_team_remove(request, pk, nurse_id):
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=pk)
    nurse = get_object_or_404(get_user_model(), pk=nurse_id, care_team_memberships__patient=patient)
    services.care_team_remove(patient=patient, nurse=nurse)
    messages.success(request, f"{nurse.get_full_name() or nurse.username} left the care team.")
    return redirect(f"{patient_url(patient)}#care-team")


@role_required(is_coordinator)
@require_POST
def invite(request, pk):
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=pk)
    form = InviteForm(request.POST)
    if patient.user_id is not None:
        # The invite form is not shown for a patient with an account, so say it at the top of the page.
        form.add_error(None, "This patient already has a portal account.")
        messages.error(request, "This patient already has a portal account.")
    if form.is_valid():
        services.patient_invite_to_portal(patient=patient, email=form.cleaned_data["email"], by=request.user)
        messages.success(request, "Portal invitation queued; the patient will receive an email to set a password.")
        return redirect(f"{patient_url(patient)}#portal")
    patient = selectors.patient_for_page(user=request.user, pk=pk)
    return render(
        request, "patients/patient_detail.html", _detail_context(request, patient, {"invite": form}), status=400
    )
