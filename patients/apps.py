from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"

    def ready(self):
        from auditlog.registry import auditlog

        from patients import models

        for model in (
            models.Patient,
            models.CareTeamMember,
            models.Diagnosis,
            models.WeightMeasurement,
            models.LabResult,
            models.PriorAuthorization,
            models.PortalInvitation,
            models.SymptomEntry,
            models.EmergencyAccess,
        ):
            auditlog.register(model)

        from patients.emergency import audit  # noqa: F401  (marks the entries written under emergency access)
