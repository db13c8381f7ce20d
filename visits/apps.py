from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "visits"

    def ready(self):
        from auditlog.registry import auditlog

        from visits import models

        for model in (
            models.TherapyOrder,
            models.Visit,
            models.VisitEvent,
            models.RescheduleRequest,
            models.NurseProfile,
            models.WorkingHours,
            models.TimeOff,
            models.ClientWrite,
            models.AlertHandling,
        ):
            auditlog.register(model)
        # The feed token is a secret: the audit trail records that it changed, not its value.
        auditlog.register(models.CalendarFeed, mask_fields=["token"])
