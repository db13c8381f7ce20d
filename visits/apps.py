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
            # The chart, row by row (DESIGN §2 visit documentation).
            models.VisitVerification,
            models.PreInfusionChecklist,
            models.PremedicationGiven,
            models.VialUsed,
            models.InfusionRecord,
            models.RateChange,
            models.VitalSigns,
            models.Reaction,
            models.Assessment,
            models.VisitSignature,
            models.Addendum,
            models.OutcomeMeasure,
            # After the visit and at home.
            models.FollowUp,
            models.ScigTeaching,
            models.SelfInfusion,
            models.SelfInfusionVial,
        ):
            auditlog.register(model)
        # A notification says something about a patient to someone; the sending machinery (claims, retries, the
        # next attempt) is no part of the record and would flood the trail.
        auditlog.register(
            models.Notification,
            exclude_fields=["queued_at", "claimed_until", "claim_token", "attempts", "next_attempt_at", "last_error"],
        )
        # The feed token is a secret: the audit trail records that it changed, not its value.
        auditlog.register(models.CalendarFeed, mask_fields=["token"])
