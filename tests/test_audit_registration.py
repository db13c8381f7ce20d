"""Every model that holds patient data is in the audit trail: a new one with a patient or visit key that is not
registered fails here, and the rest are excluded by name, each with its reason."""

from auditlog.registry import auditlog
from django.apps import apps

from infusion_site.audit import patient_path

# Models of the two apps that are not audited, and why.
NOT_AUDITED = {
    "patients.Team": "a branch or region: no patient data",
    "visits.Product": "the product catalog (admin data), no patient",
    "visits.LabelLimit": "the label's limits per indication, no patient",
    "visits.NotificationPreference": "how a user likes to be reminded: the user's setting, not a record of care",
    "visits.SweepWatermark": "how far the notification sweep has derived: a job's bookkeeping, no patient",
}


def models_of_the_apps():
    return [model for label in ("patients", "visits") for model in apps.get_app_config(label).get_models()]


def leads_to_a_patient(model) -> bool:
    return any(
        field.is_relation
        and field.related_model is not None
        and field.related_model._meta.label in ("patients.Patient", "visits.Visit")
        for field in model._meta.fields
    )


def test_every_model_with_a_patient_or_visit_key_is_audited():
    missing = [
        model._meta.label
        for model in models_of_the_apps()
        if leads_to_a_patient(model) and not auditlog.contains(model)
    ]
    assert missing == [], f"Register these in their app's ready() (patient data without an audit trail): {missing}"


def test_every_model_is_audited_or_excluded_with_a_reason():
    unaccounted = [
        model._meta.label
        for model in models_of_the_apps()
        if not auditlog.contains(model) and model._meta.label not in NOT_AUDITED
    ]
    assert unaccounted == [], f"Register these, or add them to NOT_AUDITED with the reason: {unaccounted}"


def test_no_excluded_model_holds_patient_data():
    for label in NOT_AUDITED:
        model = apps.get_model(label)
        assert not leads_to_a_patient(model), label
        assert patient_path(model) is None, label


def test_chart_rows_are_audited():
    # The rows a nurse writes in the home, named so a registration removed by mistake is caught by name.
    for name in (
        "VitalSigns",
        "Reaction",
        "PremedicationGiven",
        "OutcomeMeasure",
        "Addendum",
        "FollowUp",
        "PreInfusionChecklist",
        "VialUsed",
        "InfusionRecord",
        "RateChange",
        "ScigTeaching",
        "SelfInfusion",
        "SelfInfusionVial",
        "AlertHandling",
        "ClientWrite",
        "Notification",
    ):
        assert auditlog.contains(apps.get_model("visits", name)), name


def test_the_path_to_the_patient_is_known_for_chart_rows():
    assert patient_path(apps.get_model("visits", "VitalSigns")) == "visit__patient_id"
    assert patient_path(apps.get_model("visits", "SelfInfusionVial")) == "self_infusion__patient_id"
    assert patient_path(apps.get_model("patients", "Patient")) == "pk"
