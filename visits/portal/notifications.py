"""The patient's side of notifications: how to be reminded, and the follow-up questions after IVIG."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from infusion_site.access import role_required
from infusion_site.audit import record_access
from infusion_site.roles import is_patient
from patients import selectors as patient_selectors
from visits.models import FollowUp
from visits.notifications.followups import FollowUpError, follow_up_answer, questions_for
from visits.notifications.forms import FollowUpForm
from visits.notifications.views import preferences_page
from visits.portal.views import day_text


@role_required(is_patient)
@require_http_methods(["GET", "POST"])
def preferences(request):
    patient = patient_selectors.own_record(user=request.user)
    record_access(patient)  # the page shows the patient's phone and email
    return preferences_page(
        request,
        for_patient=True,
        template="portal/preferences.html",
        fallback_phone=patient.phone,
        zone_name=patient.time_zone,
    )


@role_required(is_patient)
@require_http_methods(["GET", "POST"])
def follow_up(request, pk):
    item = get_object_or_404(
        FollowUp.objects.filter(visit__patient__user=request.user).select_related(
            "visit__patient", "visit__order__product"
        ),
        pk=pk,
    )
    visit = item.visit
    record_access(visit.patient)
    infusion_day = day_text(visit.local_start, timezone.localdate(timezone.now(), visit.patient.zone))
    context = {
        "follow_up": item,
        "infusion_day": infusion_day,
        "product": visit.order.product.name,
        "questions": questions_for(item),
    }
    if item.answered_at is not None:
        return render(request, "portal/follow_up.html", {**context, "answered": True})
    form = FollowUpForm(request.POST or None, follow_up=item)
    if request.method == "POST":
        if form.is_valid():
            try:
                answered = follow_up_answer(
                    follow_up=item,
                    answers=form.answers(),
                    note=form.cleaned_data["note"],
                    started_on=form.cleaned_data["started_on"],
                    by=request.user,
                )
            except FollowUpError as error:
                form.add_error(None, str(error))
            else:
                item.refresh_from_db()
                if answered.emergency:
                    return render(request, "portal/follow_up.html", {**context, "answered": True, "emergency": True})
                if answered.positive:
                    messages.warning(request, "Thank you. A nurse will call you today about what you told us.")
                else:
                    messages.success(request, "Thank you. We are glad you are well.")
                return redirect("portal:home")
        return render(request, "portal/follow_up.html", {**context, "form": form}, status=400)
    return render(request, "portal/follow_up.html", {**context, "form": form})
