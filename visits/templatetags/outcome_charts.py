"""The patient's outcome measures as plain data for the chart on their page (read with json_script)."""

from django import template

register = template.Library()


@register.filter
def outcome_series(measures) -> list[dict]:
    return [
        {
            "measured_on": measure.measured_on.isoformat(),
            "mmt8": measure.mmt8,
            "cdasi_activity": measure.cdasi_activity,
            "cdasi_damage": measure.cdasi_damage,
            "patient_global": measure.patient_global,
        }
        for measure in sorted(measures, key=lambda measure: (measure.measured_on, measure.pk))
    ]
