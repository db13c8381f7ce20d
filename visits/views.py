from django.shortcuts import render

from infusion_site.access import role_required
from infusion_site.roles import is_nurse
from patients import selectors as patient_selectors


@role_required(is_nurse)
def my_day(request):
    patients = patient_selectors.patient_list(user=request.user)
    return render(request, "visits/my_day.html", {"patients": patients})
