"""SCIG at home: the nurse teaches, signs the patient's competency, and the patient logs each self-infusion."""

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["ScigTeaching", "SelfInfusion", "SelfInfusionVial"]


class ScigTeaching(models.Model):
    """A teaching visit's competency checklist; signed by the nurse when the patient is ready to self-infuse."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="scig_teachings")
    order = models.ForeignKey("visits.TherapyOrder", on_delete=models.PROTECT, related_name="scig_teachings")
    visit = models.OneToOneField(
        "visits.Visit", null=True, blank=True, on_delete=models.SET_NULL, related_name="scig_teaching"
    )
    items = models.JSONField(default=dict, blank=True, help_text="Checklist item code → shown back and done.")
    notes = models.TextField(blank=True)
    ready_to_self_infuse = models.BooleanField(default=False)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"SCIG teaching {self.pk}"


class SelfInfusion(models.Model):
    """One self-infusion the patient logged: when, through which sites, how much, and any reaction."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="self_infusions")
    order = models.ForeignKey("visits.TherapyOrder", on_delete=models.PROTECT, related_name="self_infusions")
    infused_at = models.DateTimeField()
    sites = models.JSONField(default=list, help_text='[{"site": "abdomen_left", "volume_ml": "14.3"}, …]')
    volume_ml = models.DecimalField(max_digits=6, decimal_places=1)
    local_reactions = models.JSONField(default=list, blank=True)
    systemic_reaction = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-infused_at", "-pk"]

    def __str__(self) -> str:
        return f"Self-infusion {self.pk}"


class SelfInfusionVial(models.Model):
    self_infusion = models.ForeignKey(SelfInfusion, on_delete=models.CASCADE, related_name="vials")
    product = models.ForeignKey("visits.Product", on_delete=models.PROTECT, related_name="+")
    lot_number = models.CharField(max_length=40, db_index=True)
    expires_on = models.DateField()
    size_mg = models.PositiveIntegerField()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"Lot {self.lot_number}"
