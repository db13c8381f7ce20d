"""Therapy orders: create and edit with a live preview of the dose, the titration and the visits."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from infusion_site.access import role_required
from infusion_site.audit import record_access
from infusion_site.roles import is_coordinator, is_nurse
from patients.models import Patient
from visits.models import TherapyOrder
from visits.orders import selectors as order_selectors
from visits.orders import services as order_services
from visits.orders.forms import TherapyOrderForm
from visits.orders.presets import PRESETS


def _preview_context(form):
    """Calculate what the form would order, without saving anything."""
    if not form.is_valid():
        return {"form": form, "calc": None, "planned": []}
    order = form.save(commit=False)
    calc = form.calc or order_services.order_calculate(order=order)
    planned = [] if calc.blocks else order_services.order_plan_visits(order=order, calc=calc)
    return {
        "form": form,
        "calc": calc,
        "planned": planned,
        "flagged": sum(1 for visit in planned if visit.authorization_warning),
        "patient": order.patient,
    }


def _order_form_page(request, *, patient, order=None):
    preview_url = (
        reverse("orders:edit_preview", args=[order.pk]) if order else reverse("orders:preview", args=[patient.pk])
    )
    form = TherapyOrderForm(request.POST or None, instance=order, patient=patient, preset=request.GET.get("preset"))
    context = {
        "patient": patient,
        "order": order,
        "form": form,
        "preview_url": preview_url,
        "presets": PRESETS.values(),
        "preset": form.preset,
    }
    if request.method == "POST" and "save" in request.POST and form.is_valid():
        try:
            saved, visits = order_services.order_save(order=form.save(commit=False), by=request.user)
        except order_services.OrderBlocked as blocked:
            form.add_error(None, " ".join(blocked.blocks))
        else:
            messages.success(
                request, f"Order saved: {len(visits)} upcoming visit{'s' if len(visits) != 1 else ''} planned."
            )
            return redirect("orders:detail", pk=saved.pk)
    if request.method == "POST":
        context.update(_preview_context(form))
    status = 400 if request.method == "POST" and form.errors else 200
    record_access(patient)
    return render(request, "visits/orders/order_form.html", context, status=status)


@role_required(is_coordinator)
@require_http_methods(["GET", "POST"])
def order_create(request, patient_pk):
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=patient_pk)
    return _order_form_page(request, patient=patient)


@role_required(is_coordinator)
@require_http_methods(["GET", "POST"])
def order_edit(request, pk):
    order = get_object_or_404(TherapyOrder.objects.visible_to(request.user).select_related("patient", "product"), pk=pk)
    return _order_form_page(request, patient=order.patient, order=order)


def _preview(request, patient, order=None):
    form = TherapyOrderForm(request.POST, instance=order, patient=patient)
    return render(request, "visits/orders/partials/preview.html", _preview_context(form))


@role_required(is_coordinator)
@require_POST
def order_preview(request, patient_pk):
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=patient_pk)
    return _preview(request, patient)


@role_required(is_coordinator)
@require_POST
def order_edit_preview(request, pk):
    order = get_object_or_404(TherapyOrder.objects.visible_to(request.user).select_related("patient"), pk=pk)
    return _preview(request, order.patient, order)


@role_required(is_coordinator, is_nurse)
def order_detail(request, pk):
    order = get_object_or_404(
        TherapyOrder.objects.visible_to(request.user).select_related("patient", "product", "created_by", "diagnosis"),
        pk=pk,
    )
    record_access(order.patient)
    calc = order_services.order_calculate(order=order)
    visits = order_selectors.order_visits(order=order)
    return render(
        request,
        "visits/orders/order_detail.html",
        {
            "order": order,
            "patient": order.patient,
            "calc": calc,
            "visits": visits,
            "can_edit": is_coordinator.test(request.user),
        },
    )
