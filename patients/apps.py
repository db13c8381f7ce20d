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
        ):
            auditlog.register(model)
