"""The visit chart: what a nurse documents in the home (DESIGN §2 visit documentation, §3 rules).

Each section of the chart is its own row with a ``version``: a save must name the
version it was edited from, so two tablets never overwrite each other's work.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

__all__ = [
    "ChartSection",
    "VisitVerification",
    "PreInfusionChecklist",
    "PremedicationGiven",
    "VialUsed",
    "InfusionRecord",
    "RateChange",
    "VitalSigns",
    "Reaction",
    "Assessment",
    "VisitSignature",
    "Addendum",
    "OutcomeMeasure",
    "ClientWrite",
]


class ChartSection(models.Model):
    """Optimistic concurrency: the version a form was opened on must still be current when it is saved."""

    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True


class VisitVerification(ChartSection):
    """Electronic visit verification: service, patient, nurse, date, location, time in and out.

    A check-in made by mistake is voided, never deleted: the row keeps its times and who voided it and why, and a
    visit has at most one live (not voided) record.
    """

    visit = models.ForeignKey("visits.Visit", on_delete=models.CASCADE, related_name="verifications")
    nurse = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    service = models.CharField(max_length=120)
    checked_in_at = models.DateTimeField()
    check_in_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    check_in_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    check_in_accuracy_m = models.PositiveIntegerField(null=True, blank=True)
    check_in_distance_m = models.PositiveIntegerField(null=True, blank=True)
    check_in_verified = models.BooleanField(default=False)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    check_out_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    check_out_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    check_out_distance_m = models.PositiveIntegerField(null=True, blank=True)
    check_out_verified = models.BooleanField(default=False)
    # Checked in outside the window (before it opens or after the local day ended): the nurse's reason.
    window_override_reason = models.CharField(max_length=300, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    void_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["checked_in_at", "pk"]
        # Recent check-ins not verified, for the alert queue (migration 0013).
        indexes = [
            models.Index(fields=["checked_in_at"], name="verification_checked_in_at"),
            # The notification sweep's "check-ins saved since its last run".
            models.Index(fields=["updated_at"], name="verification_updated_at"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["visit"], condition=models.Q(voided_at__isnull=True), name="one_live_verification_per_visit"
            )
        ]

    def __str__(self) -> str:
        return f"Verification of visit {self.visit_id}"


class PreInfusionChecklist(ChartSection):
    """The safety checks before an infusion starts (DESIGN §3). Hard stops are evaluated on the server."""

    visit = models.OneToOneField("visits.Visit", on_delete=models.CASCADE, related_name="checklist")
    identifiers_confirmed = models.BooleanField("Two identifiers confirmed (name and date of birth)", default=False)
    weight_today_kg = models.DecimalField(
        "Weight today (kg)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(2), MaxValueValidator(350)],
    )
    kit_epinephrine = models.BooleanField("Epinephrine 0.3 mg IM", default=False)
    kit_diphenhydramine = models.BooleanField("Diphenhydramine", default=False)
    kit_saline = models.BooleanField("Normal saline 250 mL", default=False)
    kit_expires_on = models.DateField("Anaphylaxis kit expires on", null=True, blank=True)
    no_fever_or_infection = models.BooleanField("No fever or active infection", default=False)
    premedications_given = models.BooleanField("Premedications given as ordered", default=False)
    overrides = models.JSONField(default=dict, blank=True, help_text="Hard stop code → the nurse's reason.")
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Checklist of visit {self.visit_id}"


class PremedicationGiven(models.Model):
    visit = models.ForeignKey("visits.Visit", on_delete=models.CASCADE, related_name="premedications")
    drug = models.CharField(max_length=100)
    dose = models.CharField(max_length=40, help_text="With its unit, e.g. 650 mg.")
    route = models.CharField(max_length=10, default="PO")
    given_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["given_at", "pk"]

    def __str__(self) -> str:
        return f"{self.drug} {self.dose} {self.route}"


class VialUsed(models.Model):
    """A vial given at the visit. One entered by mistake is voided, never deleted: a lot recall must still find
    that it was in the home, and the chart shows it struck through with who voided it and why."""

    visit = models.ForeignKey("visits.Visit", on_delete=models.CASCADE, related_name="vials")
    product = models.ForeignKey("visits.Product", on_delete=models.PROTECT, related_name="+")
    lot_number = models.CharField(max_length=40, db_index=True)
    expires_on = models.DateField()
    size_mg = models.PositiveIntegerField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    void_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["recorded_at", "pk"]
        constraints = [
            # A void without its reason would be a silent delete.
            models.CheckConstraint(
                condition=models.Q(voided_at__isnull=True) | ~models.Q(void_reason=""),
                name="voided_vial_has_reason",
            )
        ]

    def __str__(self) -> str:
        return f"Lot {self.lot_number}"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


class InfusionRecord(ChartSection):
    visit = models.OneToOneField("visits.Visit", on_delete=models.CASCADE, related_name="infusion")
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    volume_infused_ml = models.DecimalField(
        max_digits=7, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    # Why the volume infused is well below the plan (stopped early, a reaction, the pump occluded, …).
    short_reason = models.CharField(max_length=20, blank=True)
    short_note = models.CharField(max_length=200, blank=True)
    # The dose, volume and titration plan frozen when the infusion started; later weights or edits never change it.
    plan_snapshot = models.JSONField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return f"Infusion of visit {self.visit_id}"


class RateChange(models.Model):
    class Kind(models.TextChoices):
        START = "start", "Started"
        INCREASE = "increase", "Rate raised"
        DECREASE = "decrease", "Back to a lower rate"
        PAUSE = "pause", "Paused"
        RESUME = "resume", "Resumed"
        STOP = "stop", "Stopped"

    visit = models.ForeignKey("visits.Visit", on_delete=models.CASCADE, related_name="rate_changes")
    at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    rate_ml_per_hr = models.DecimalField(
        max_digits=6, decimal_places=1, validators=[MinValueValidator(0), MaxValueValidator(1000)]
    )
    note = models.CharField(max_length=200, blank=True)
    # A raise before the plan's step time: when the plan had it, and the nurse's reason for going early.
    planned_at = models.DateTimeField(null=True, blank=True)
    early_reason = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.rate_ml_per_hr} mL/hr"

    @property
    def is_early(self) -> bool:
        return self.planned_at is not None and self.at < self.planned_at


class VitalSigns(models.Model):
    class Phase(models.TextChoices):
        BASELINE = "baseline", "Baseline"
        TITRATION = "titration", "Titration"
        MAXIMUM = "maximum", "At maximum rate"
        END = "end", "End of infusion"
        POST_30 = "post_30", "30 min after"
        POST_60 = "post_60", "60 min after"

    visit = models.ForeignKey("visits.Visit", on_delete=models.CASCADE, related_name="vitals")
    taken_at = models.DateTimeField()
    phase = models.CharField(max_length=10, choices=Phase.choices)
    temperature_c = models.DecimalField(max_digits=4, decimal_places=1)
    pulse = models.PositiveSmallIntegerField()
    systolic = models.PositiveSmallIntegerField()
    diastolic = models.PositiveSmallIntegerField()
    respiratory_rate = models.PositiveSmallIntegerField()
    spo2 = models.PositiveSmallIntegerField("SpO₂", null=True, blank=True)
    pain = models.PositiveSmallIntegerField(null=True, blank=True)
    flags = models.JSONField(default=list, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["taken_at", "pk"]
        verbose_name_plural = "vital signs"
        # Recent flagged sets on the alert queue (migration 0013).
        indexes = [models.Index(fields=["taken_at"], name="vitalsigns_taken_at")]

    def __str__(self) -> str:
        return f"{self.get_phase_display()} vitals at {self.taken_at:%H:%M}"


class Reaction(models.Model):
    class Action(models.TextChoices):
        CONTINUED = "continued", "Continued"
        PREVIOUS_RATE = "previous_rate", "Back to the previous rate"
        PAUSED = "paused", "Paused"
        STOPPED = "stopped", "Stopped"

    visit = models.ForeignKey("visits.Visit", on_delete=models.CASCADE, related_name="reactions")
    onset_at = models.DateTimeField()
    symptoms = models.JSONField(default=list)
    other_symptom = models.CharField(max_length=200, blank=True)
    # A delayed reaction reported by the patient is graded by a clinician later, so it may have no grade yet.
    grade = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    action = models.CharField(max_length=15, choices=Action.choices, blank=True)
    medications_given = models.TextField(blank=True)
    physician_notified_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True)
    is_delayed = models.BooleanField(default=False, help_text="Reported after the visit (follow-up).")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["onset_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_delayed=True) | (models.Q(grade__isnull=False) & ~models.Q(action="")),
                name="reaction_in_visit_is_graded",
            )
        ]

    def __str__(self) -> str:
        return f"Grade {self.grade} reaction" if self.grade else "Delayed reaction, not graded yet"


class Assessment(models.Model):
    """The nurse's assessment after a warning sign: flagged vitals ("assessed, no reaction") or a reaction that has
    resolved. Until one is recorded, no rate increase is accepted (DESIGN §3)."""

    class Finding(models.TextChoices):
        NO_REACTION = "no_reaction", "Assessed, no reaction"
        RESOLVED = "resolved", "Reaction resolved"

    visit = models.ForeignKey("visits.Visit", on_delete=models.CASCADE, related_name="assessments")
    assessed_at = models.DateTimeField()
    finding = models.CharField(max_length=12, choices=Finding.choices)
    note = models.CharField(max_length=500)
    vitals = models.ForeignKey(VitalSigns, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reaction = models.ForeignKey(Reaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_finding_display()} at {self.assessed_at:%H:%M}"


class VisitSignature(models.Model):
    """The nurse's note and signature; once signed, the chart is locked and only addenda follow."""

    visit = models.OneToOneField("visits.Visit", on_delete=models.CASCADE, related_name="signature")
    note = models.TextField()
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(default=timezone.now)
    # What was still missing at signing, waived with the nurse's reason: code → {"item": …, "reason": …}.
    waivers = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"Signature of visit {self.visit_id}"


class Addendum(models.Model):
    visit = models.ForeignKey("visits.Visit", on_delete=models.CASCADE, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField(default=timezone.now)
    text = models.TextField()

    class Meta:
        ordering = ["written_at", "pk"]
        verbose_name_plural = "addenda"

    def __str__(self) -> str:
        return f"Addendum {self.pk}"


class OutcomeMeasure(models.Model):
    """Disease activity once per cycle (dermatomyositis: MMT-8, CDASI, patient global)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="outcome_measures")
    visit = models.ForeignKey(
        "visits.Visit", null=True, blank=True, on_delete=models.SET_NULL, related_name="outcome_measures"
    )
    measured_on = models.DateField()
    mmt8 = models.PositiveSmallIntegerField("MMT-8 (0-150)", validators=[MaxValueValidator(150)])
    cdasi_activity = models.PositiveSmallIntegerField("CDASI activity (0-100)", validators=[MaxValueValidator(100)])
    cdasi_damage = models.PositiveSmallIntegerField("CDASI damage (0-32)", validators=[MaxValueValidator(32)])
    patient_global = models.PositiveSmallIntegerField("Patient global (0-10)", validators=[MaxValueValidator(10)])
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["measured_on", "pk"]

    def __str__(self) -> str:
        return f"Outcome measures on {self.measured_on:%Y-%m-%d}"


class ClientWrite(models.Model):
    """A chart write the tablet named with its own id: applied once, whatever the retries, double taps or replays.

    The unique ``client_id`` is the guarantee (not a cache): a second request with the same id finds this row and
    is answered as the first was, changing nothing. ``client_at`` is when the nurse recorded it on the tablet,
    ``received_at`` when the server applied it; far apart, it was recorded offline.

    An entry the nurse discarded from her tablet's outbox (it could not be applied as recorded) is kept here too,
    with what it was and her reason, so nothing recorded disappears without a trace and a late replay of it is
    refused.
    """

    client_id = models.UUIDField(unique=True)
    visit = models.ForeignKey("visits.Visit", on_delete=models.CASCADE, related_name="client_writes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=40)
    client_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    # The tablet could not send it when the nurse recorded it (no connection, or her session had ended).
    kept_on_tablet = models.BooleanField(default=False)
    summary = models.CharField(max_length=300, blank=True)
    discarded_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["received_at", "pk"]

    def __str__(self) -> str:
        return f"{self.action} {self.client_id}"

    @property
    def is_discarded(self) -> bool:
        return bool(self.discarded_reason)

    @property
    def recorded_offline(self) -> bool:
        """It waited on the tablet: kept there when it could not be sent, or sent well after the nurse recorded it
        (RECORDED_OFFLINE_AFTER_S)."""
        if self.kept_on_tablet:
            return True
        if self.client_at is None:
            return False
        return (self.received_at - self.client_at).total_seconds() > settings.RECORDED_OFFLINE_AFTER_S
