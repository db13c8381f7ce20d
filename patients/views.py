from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from infusion_site.access import role_required
from infusion_site.audit import record_access, record_accesses
from infusion_site.roles import is_coordinator, is_nurse, is_staff_member
from patients import selectors, services
from patients.forms import (
    AuthorizationForm,
    CareTeamForm,
    CreatinineForm,
    DiagnosisForm,
    HomeLocationForm,
    InviteForm,
    PatientCreateForm,
    PatientForm,
    PatientSearchForm,
    WeightForm,
)
from patients.models import Patient

PAGE_SIZE = 25
VISIT_PAGE_SIZE = 50
RECORD_PAGE_SIZE = 50

# The dated sections of the patient page, each with its own small add form.
SECTIONS = {
    "weights": ("Weights", WeightForm),
    "creatinine": ("Serum creatinine", CreatinineForm),
    "authorizations": ("Payer and prior authorizations", AuthorizationForm),
    "diagnoses": ("Diagnoses", DiagnosisForm),
}


# The registry's search is held in the session, never in the address: a surname, a date of birth or an MRN in a
# URL would land in server logs, browser history and the Referer of the next page.
REGISTRY_QUERY = "patients_registry_query"


@role_required(is_coordinator, is_nurse)
@require_http_methods(["GET", "POST"])
def patient_list(request):
    """GET shows the results of the query held in the session; POST sets it (or clears it) and comes back."""
    status = 200
    if request.method == "POST":
        if "clear" in request.POST:
            request.session.pop(REGISTRY_QUERY, None)
            return redirect("patients:list")
        form = PatientSearchForm(request.POST)
        if form.is_valid():
            request.session[REGISTRY_QUERY] = form.cleaned_data["q"]
            return redirect("patients:list")
        status = 400  # the message is shown next to the field; the held query and its results stay
    query = request.session.get(REGISTRY_QUERY, "")
    if request.method == "GET":
        form = PatientSearchForm(initial={"q": query})
    page = Paginator(selectors.patient_list(user=request.user, query=query), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    record_accesses(list(page))  # each patient on the page, in one insert
    return render(request, "patients/patient_list.html", {"form": form, "page": page, "query": query}, status=status)


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
        services.patient_update(patient=form.save(commit=False), by=request.user)
        messages.success(request, "Changes saved.")
        return redirect("patients:detail", pk=patient.pk)
    record_access(patient)
    return render(
        request, "patients/patient_form.html", {"form": form, "title": f"Edit {patient.full_name}", "patient": patient}
    )


def care_team_form(patient, data=None) -> CareTeamForm:
    """Offers the nurses of the patient's team (all nurses only for a patient without one): a select of the whole
    agency's nurses on every patient page is what issue 15 rules out."""
    form = CareTeamForm(data, patient=patient)
    if patient.team_id is not None:
        form.fields["nurse"].queryset = form.fields["nurse"].queryset.filter(teams=patient.team_id)
    return form


def _detail_context(request, patient, bound=None):
    """The patient page; ``bound`` replaces one section's empty form with a form that has errors."""
    bound = bound or {}
    records = selectors.patient_page_records(patient=patient)
    context = {
        "patient": patient,
        "can_edit": is_coordinator.test(request.user),
        "can_open_charts": is_staff_member(request.user),
        "today": timezone.localdate(),
        "history": selectors.patient_visit_history(patient=patient),
        "records": records,
        "invitations": selectors.patient_invitations(patient=patient),
    }
    if context["can_open_charts"]:  # the coordinators' handling of alerts is staff work, not for the portal
        context["alert_history"] = records["alerts"].rows
    if context["can_edit"]:
        context["sections"] = {
            key: {"title": title, "form": bound.get(key) or form_class(prefix=key)}
            for key, (title, form_class) in SECTIONS.items()
        }
        context["care_team_form"] = bound.get("care-team") or care_team_form(patient)
        context["invite_form"] = bound.get("invite") or InviteForm(initial={"email": patient.email})
    return context


def patient_detail(request, pk):
    patient = selectors.patient_for_page(user=request.user, pk=pk)
    record_access(patient)
    return render(request, "patients/patient_detail.html", _detail_context(request, patient))


def patient_visit_list(request, pk):
    """Every visit in the patient's history, paged; the patient page shows the most recent."""
    patient = selectors.patient_visible(user=request.user, pk=pk)
    record_access(patient)
    page = Paginator(selectors.patient_visits(patient=patient), VISIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "patients/patient_visits.html",
        {"patient": patient, "page": page, "can_open_charts": is_staff_member(request.user)},
    )


# The patient page's growing lists that have a page of their own, by the name in its address.
RECORD_TITLES = {
    "weights": "Weights",
    "creatinine": "Serum creatinine",
    "authorizations": "Payer and prior authorizations",
    "diagnoses": "Diagnoses",
    "orders": "Therapy orders",
    "outcomes": "Outcome measures",
    "alerts": "Alerts handled",
}
STAFF_RECORDS = {"alerts"}


def patient_record_list(request, pk, section):
    """One list of the patient page in full, latest first, paged; the patient page shows its latest rows."""
    if section not in RECORD_TITLES or (section in STAFF_RECORDS and not is_staff_member(request.user)):
        raise Http404
    patient = selectors.patient_visible(user=request.user, pk=pk)
    record_access(patient)
    rows = selectors.patient_records(patient=patient, section=section)
    page = Paginator(rows, RECORD_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "patient": patient,
        "page": page,
        "section": section,
        "title": RECORD_TITLES[section],
        "latest_first": page.number == 1,
    }
    return render(request, "patients/patient_records.html", context)


def _local_path(path: str, request) -> str | None:
    if (
        path
        and len(path) <= 200
        and "\x00" not in path
        and path.startswith("/")
        and url_has_allowed_host_and_scheme(path, allowed_hosts={request.get_host()})
    ):
        return path
    return None


@role_required(is_nurse)
@require_POST
def home_locate(request, pk):
    """The nurse at the home sets its location from her tablet (offered on the visit's check-in section)."""
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=pk)
    form = HomeLocationForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            patient = services.patient_home_located_from_tablet(
                patient=patient,
                nurse=request.user,
                latitude=form.cleaned_data["latitude"],
                longitude=form.cleaned_data["longitude"],
                accuracy_m=form.cleaned_data["accuracy_m"],
            )
        except services.ServiceError as refused:
            error = str(refused)
    saved = form.is_valid() and not error
    # Where she came from (the chart); read as a path on this site only, never followed elsewhere.
    back = _local_path(request.POST.get("next", ""), request) or patient_url(patient)
    if not request.headers.get("HX-Request"):
        if saved:
            messages.success(request, "The home's location is saved; check-ins from now on are compared with it.")
        else:
            messages.error(request, error or " ".join(form.errors.get("confirm", []) + form.non_field_errors()))
        return redirect(back)
    context = {"patient": patient, "home_form": form, "home_error": error, "home_saved": saved, "home_next": back}
    return render(request, "patients/partials/home_location.html", context, status=200 if saved else 400)


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
    form = care_team_form(patient, request.POST)
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
