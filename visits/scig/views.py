"""The SCIG teaching page of a visit: the visit's nurse ticks and signs; coordinators read."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from infusion_site.access import role_required
from infusion_site.audit import record_access
from infusion_site.forms import add_service_errors
from infusion_site.roles import is_coordinator, is_nurse
from patients.services import ServiceError
from visits.models import Visit
from visits.scig import services
from visits.scig.forms import TeachingForm


def teaching_visit(request, pk) -> Visit:
    """The SCIG visit, or 404 when it is not this user's to see or not an SCIG visit."""
    queryset = Visit.objects.visible_to(request.user).select_related("patient", "order__product", "nurse")
    visit = get_object_or_404(queryset, pk=pk)
    if not services.is_scig_visit(visit):
        raise Http404("Teaching visits are for SCIG orders.")
    return visit


def _initial(teaching) -> dict:
    if teaching is None:
        return {}
    return {"items": [code for code, done in (teaching.items or {}).items() if done], "notes": teaching.notes}


def _page(request, visit, *, form=None, status=200):
    teaching = services.teaching_for(visit)
    can_write = visit.nurse_id == request.user.pk and not (teaching and teaching.signed_at)
    initial = _initial(teaching)
    context = {
        "visit": visit,
        "patient": visit.patient,
        "teaching": teaching,
        "items": [
            (code, text, bool(teaching and (teaching.items or {}).get(code)))
            for code, text in services.TEACHING_ITEMS.items()
        ],
        "can_write": can_write,
        "form": form or TeachingForm(initial=initial),
    }
    return render(request, "visits/scig/teaching.html", context, status=status)


def _documenting(request, pk) -> Visit:
    visit = teaching_visit(request, pk)
    if visit.nurse_id != request.user.pk:
        raise PermissionDenied("Only the nurse assigned to this visit documents the teaching.")
    return visit


@require_http_methods(["GET", "POST"])
@role_required(is_nurse, is_coordinator)
def teaching(request, pk):
    """GET: the checklist as it stands. POST (the visit's nurse): save the items shown back and the notes."""
    if request.method == "GET":
        visit = teaching_visit(request, pk)
        record_access(visit.patient)
        return _page(request, visit)
    visit = _documenting(request, pk)
    form = TeachingForm(request.POST)
    if form.is_valid():
        try:
            services.teaching_save(
                visit=visit, nurse=request.user, items=form.cleaned_data["items"], notes=form.cleaned_data["notes"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Teaching saved.")
            return redirect(reverse("scig:teaching", args=[visit.pk]))
    return _page(request, visit, form=form, status=400)


@require_POST
@role_required(is_nurse)
def teaching_sign(request, pk):
    """The visit's nurse signs the patient off as ready to self-infuse, with her password."""
    visit = _documenting(request, pk)
    form = TeachingForm(request.POST)
    if form.is_valid():
        try:
            services.teaching_sign(
                visit=visit,
                nurse=request.user,
                items=form.cleaned_data["items"],
                notes=form.cleaned_data["notes"],
                password=form.cleaned_data["password"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Signed: the patient is ready to self-infuse.")
            return redirect(reverse("scig:teaching", args=[visit.pk]))
    return _page(request, visit, form=form, status=400)
