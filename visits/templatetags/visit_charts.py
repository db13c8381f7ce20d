"""The patient's baseline vital signs across visits, as plain data for the chart on their page (json_script)."""

from django import template
from django.utils import timezone

from visits.models import VitalSigns

register = template.Library()

MOST_RECENT_VISITS = 40  # about three years of 4-weekly cycles; older ones are in each visit's record
BASELINE_SETS_READ = MOST_RECENT_VISITS * 3  # a visit rarely has more than one baseline set; a retake or two


@register.simple_tag
def baseline_vitals(patient) -> dict:
    """One baseline set per visit (the last taken before the start), oldest first, in one query.

    Returns {"rows": [VitalSigns, ...], "chart": {"labels": [...], "temperature": [...], ...}}.
    """
    sets = (
        VitalSigns.objects.filter(visit__patient=patient, phase=VitalSigns.Phase.BASELINE)
        .select_related("visit__infusion")
        .order_by("-taken_at", "-pk")[:BASELINE_SETS_READ]
    )
    per_visit: dict[int, VitalSigns] = {}
    for row in sets:
        started = getattr(getattr(row.visit, "infusion", None), "started_at", None)
        if row.visit_id in per_visit or (started is not None and row.taken_at > started):
            continue
        per_visit[row.visit_id] = row
        if len(per_visit) >= MOST_RECENT_VISITS:
            break
    rows = sorted(per_visit.values(), key=lambda row: row.taken_at)
    zone = patient.zone
    return {
        "rows": rows,
        "chart": {
            "labels": [timezone.localtime(row.taken_at, zone).strftime("%Y-%m-%d") for row in rows],
            "temperature": [float(row.temperature_c) for row in rows],
            "pulse": [row.pulse for row in rows],
            "systolic": [row.systolic for row in rows],
            "diastolic": [row.diastolic for row in rows],
            "respiratory_rate": [row.respiratory_rate for row in rows],
            "spo2": [row.spo2 for row in rows],
        },
    }
