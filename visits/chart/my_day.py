import json

from django.shortcuts import render

from infusion_site.access import role_required
from infusion_site.audit import record_patient_accesses
from infusion_site.roles import is_nurse
from visits.chart import selectors as selectors_myday
from visits.chart.offline.selectors import pages_to_keep
from visits.models import Visit

STATUS_CSS = {
    Visit.Status.SCHEDULED: "text-bg-secondary",
    Visit.Status.CHECKED_IN: "text-bg-primary",
    Visit.Status.INFUSING: "text-bg-primary",
    Visit.Status.OBSERVING: "text-bg-primary",
    Visit.Status.COMPLETED: "text-bg-success",
    Visit.Status.SIGNED: "text-bg-success",
    Visit.Status.MISSED: "text-bg-dark",
}


@role_required(is_nurse)
def my_day(request):
    """Her visits today in time order, then the next days; one tap on a card opens the visit's chart."""
    days = selectors_myday.my_days(nurse=request.user)
    for day in days:
        for visit in day.visits:
            visit.map_url = selectors_myday.home_map_url(visit.patient)
            visit.dose_text = selectors_myday.dose_text(visit)
            visit.status_css = STATUS_CSS.get(visit.status, "text-bg-secondary")
    record_patient_accesses([visit.patient_id for day in days for visit in day.visits])
    context = {"days": days, "offline_pages": json.dumps(pages_to_keep(days))}
    return render(request, "visits/my_day.html", context)
