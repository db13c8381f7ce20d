"""People and their clinical profile (DESIGN §2, patients)."""

import zoneinfo
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from infusion_site.roles import COORDINATOR, NURSE, PATIENT, role_of
from patients import units


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a time zone name such as America/New_York.")


def validate_not_future(value: date) -> None:
    if value > timezone.localdate():
        raise ValidationError("This date is in the future.")


class PatientQuerySet(models.QuerySet):
    def visible_to(self, user) -> "PatientQuerySet":
        """Coordinators see every patient, nurses their care team (and a patient they hold emergency access to, for
        its few hours), a patient only themself."""
        role = role_of(user)
        if role == COORDINATOR:
            return self.all()
        if role == NURSE:
            # Two subqueries rather than a join, so a patient with several care-team nurses is listed once.
            care_team = CareTeamMember.objects.filter(nurse=user).values("patient_id")
            emergency = EmergencyAccess.objects.active().filter(nurse=user).values("patient_id")
            return self.filter(Q(pk__in=care_team) | Q(pk__in=emergency))
        if role == PATIENT:
            return self.filter(user=user)
        return self.none()

    def search(self, query: str) -> "PatientQuerySet":
        """Match a name, an MRN or a date of birth typed as YYYY-MM-DD or MM/DD/YYYY."""
        query = query.strip()
        if not query:
            return self
        born = units.parse_date(query)
        if born is not None:
            return self.filter(date_of_birth=born)
        every_word_in_name = Q()
        for word in query.split():
            every_word_in_name &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
        return self.filter(Q(mrn__iexact=query) | every_word_in_name)


class HomeLocationSource(models.TextChoices):
    ENTERED = "entered", "Entered by hand"
    TABLET = "tablet", "The nurse's tablet at the home"


class Team(models.Model):
    """A branch or region: nurses belong to teams and coordinators coordinate them (DESIGN §2). The board and the
    alert queue open on one's own teams, so a page costs what that team holds, not what the agency holds."""

    name = models.CharField(max_length=100, unique=True)
    region = models.CharField(max_length=200, blank=True, help_text="Where the team works, e.g. “Springfield north”.")
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="teams",
        blank=True,
        help_text="The team's nurses and the coordinators who coordinate it.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Patient(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "F", "Female"
        MALE = "M", "Male"

    class IgAStatus(models.TextChoices):
        UNKNOWN = "unknown", "Not tested"
        NORMAL = "normal", "Normal IgA"
        DEFICIENT = "deficient", "IgA deficient"

    class AntiIgA(models.TextChoices):
        UNKNOWN = "unknown", "Not tested"
        ABSENT = "absent", "No anti-IgA antibodies"
        PRESENT = "present", "Anti-IgA antibodies present"

    mrn = models.CharField("MRN", max_length=20, unique=True, help_text="Medical record number.")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(validators=[validate_not_future])
    sex = models.CharField(
        max_length=1, choices=Sex.choices, help_text="Sex assigned at birth; used for ideal body weight."
    )
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)

    address_line1 = models.CharField("Street address", max_length=200)
    address_line2 = models.CharField("Apartment, suite, access notes", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=50)
    postal_code = models.CharField(max_length=20)
    latitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
        help_text="Of the home, for check-in verification.",
    )
    longitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    time_zone = models.CharField(max_length=64, default=settings.TIME_ZONE, validators=[validate_time_zone])
    # Who set the home's coordinates and how, so a check-in compared with them can be trusted or questioned.
    home_location_source = models.CharField(
        "Home location from", max_length=10, choices=HomeLocationSource.choices, blank=True
    )
    home_located_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    home_located_at = models.DateTimeField(null=True, blank=True)

    height_cm = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(units.HEIGHT_CM_MIN), MaxValueValidator(units.HEIGHT_CM_MAX)],
    )
    allergies = models.TextField(
        blank=True, help_text="Allergen and reaction, one per line. Leave empty for none known."
    )
    no_known_allergies = models.BooleanField("No known allergies", default=False)
    iga_status = models.CharField("IgA status", max_length=10, choices=IgAStatus.choices, default=IgAStatus.UNKNOWN)
    anti_iga_antibodies = models.CharField(
        "Anti-IgA antibodies", max_length=10, choices=AntiIgA.choices, default=AntiIgA.UNKNOWN
    )
    renal_risk = models.BooleanField(
        "Renal risk", default=False, help_text="Renal insufficiency, diabetes, age over 65, nephrotoxic drugs…"
    )
    thrombosis_risk = models.BooleanField(
        "Thrombosis risk", default=False, help_text="Prior clot, estrogens, immobility, hyperviscosity…"
    )
    risk_notes = models.TextField(blank=True)

    prescriber_name = models.CharField("Prescribing physician", max_length=200)
    prescriber_phone = models.CharField("Prescriber phone", max_length=30, blank=True)
    prescriber_npi = models.CharField("Prescriber NPI", max_length=10, blank=True)

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patient_record",
        help_text="The patient's portal account.",
    )
    care_team = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="CareTeamMember", related_name="care_team_patients", blank=True
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patients",
        help_text="The team that staffs this patient's visits.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        indexes = [models.Index(fields=["last_name", "first_name"]), models.Index(fields=["date_of_birth"])]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name} ({self.mrn})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def age(self) -> int:
        today = timezone.localdate()
        born = self.date_of_birth
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    @property
    def iga_contraindicated(self) -> bool:
        """IgA deficiency with anti-IgA antibodies contraindicates IVIG (DESIGN §3)."""
        return self.iga_status == self.IgAStatus.DEFICIENT and self.anti_iga_antibodies == self.AntiIgA.PRESENT

    @property
    def iga_summary(self) -> str:
        """“IgA level: not tested · Anti-IgA antibodies: not tested”: each result named, as the prescriber reads it."""
        level = {
            self.IgAStatus.UNKNOWN: "not tested",
            self.IgAStatus.NORMAL: "normal",
            self.IgAStatus.DEFICIENT: "deficient",
        }.get(self.iga_status, self.get_iga_status_display())
        antibodies = {
            self.AntiIgA.UNKNOWN: "not tested",
            self.AntiIgA.ABSENT: "none found",
            self.AntiIgA.PRESENT: "present",
        }.get(self.anti_iga_antibodies, self.get_anti_iga_antibodies_display())
        return f"IgA level: {level} · Anti-IgA antibodies: {antibodies}"

    @property
    def has_home_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def at_renal_or_thrombosis_risk(self) -> bool:
        return self.renal_risk or self.thrombosis_risk

    @property
    def height_in(self):
        return units.cm_to_in(self.height_cm)

    def clean(self):
        if self.allergies.strip() and self.no_known_allergies:
            raise ValidationError({"no_known_allergies": "Allergies are listed; untick “No known allergies”."})
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError({"longitude": "Give both latitude and longitude of the home, or neither."})


class CareTeamMember(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="care_team_members")
    nurse = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="care_team_memberships")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patient", "nurse"], name="unique_care_team_member")]
        ordering = ["nurse__last_name", "nurse__first_name"]

    def __str__(self) -> str:
        return f"{self.nurse.get_full_name() or self.nurse.username} on the care team"


class Diagnosis(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="diagnoses")
    icd10_code = models.CharField("ICD-10 code", max_length=10, help_text="For example M33.10 (dermatomyositis).")
    description = models.CharField(max_length=200)
    is_primary = models.BooleanField("Primary diagnosis", default=False)

    class Meta:
        verbose_name_plural = "diagnoses"
        ordering = ["-is_primary", "icd10_code"]
        constraints = [models.UniqueConstraint(fields=["patient", "icd10_code"], name="unique_patient_diagnosis")]

    def __str__(self) -> str:
        return f"{self.icd10_code} {self.description}"


# DESIGN §3: a weight older than 6 months, or a creatinine older than 3 months before
# IVIG, is a hard stop before an infusion.
WEIGHT_VALID_DAYS = 183
CREATININE_VALID_DAYS = 92


class WeightMeasurement(models.Model):
    """A dated weight; the latest one feeds dosing."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="weights")
    measured_on = models.DateField(validators=[validate_not_future])
    weight_kg = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(units.WEIGHT_KG_MIN), MaxValueValidator(units.WEIGHT_KG_MAX)],
    )
    entered_unit = models.CharField(max_length=2, choices=units.WEIGHT_UNITS, default=units.KG)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-measured_on", "-recorded_at"]
        get_latest_by = ["measured_on", "recorded_at"]

    def __str__(self) -> str:
        return f"{self.weight_kg} kg on {self.measured_on:%Y-%m-%d}"

    @property
    def weight_lb(self):
        return units.kg_to_lb(self.weight_kg)

    def is_stale(self, on: date | None = None) -> bool:
        return ((on or timezone.localdate()) - self.measured_on).days > WEIGHT_VALID_DAYS


class LabResult(models.Model):
    """A lab value that gates infusions; serum creatinine before IVIG (DESIGN §3)."""

    class Test(models.TextChoices):
        CREATININE = "creatinine", "Serum creatinine"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="lab_results")
    test = models.CharField(max_length=20, choices=Test.choices, default=Test.CREATININE)
    collected_on = models.DateField(validators=[validate_not_future])
    value = models.DecimalField(
        max_digits=5, decimal_places=2, validators=[MinValueValidator(0.1), MaxValueValidator(20)]
    )
    unit = models.CharField(max_length=10, default="mg/dL", editable=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-collected_on", "-recorded_at"]

    def __str__(self) -> str:
        return f"{self.get_test_display()} {self.value} {self.unit} on {self.collected_on:%Y-%m-%d}"

    def is_stale(self, on: date | None = None) -> bool:
        return ((on or timezone.localdate()) - self.collected_on).days > CREATININE_VALID_DAYS


class PriorAuthorization(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="authorizations")
    payer = models.CharField(max_length=120)
    member_id = models.CharField("Member ID", max_length=40, blank=True)
    number = models.CharField("Authorization number", max_length=40)
    therapy = models.CharField(max_length=120, blank=True, help_text="What the payer authorized, e.g. IVIG 2 g/kg q4w.")
    valid_from = models.DateField()
    valid_to = models.DateField()
    visits_authorized = models.PositiveIntegerField(
        "Visits or doses authorized", validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )

    class Meta:
        ordering = ["-valid_to"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__gt=models.F("valid_from")), name="authorization_ends_after_start"
            ),
            models.UniqueConstraint(fields=["payer", "number"], name="unique_authorization_number"),
        ]

    def __str__(self) -> str:
        return f"{self.payer} #{self.number} ({self.valid_from:%Y-%m-%d} to {self.valid_to:%Y-%m-%d})"

    def clean(self):
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise ValidationError({"valid_to": "The authorization must end after it starts."})

    def is_current(self, on: date | None = None) -> bool:
        on = on or timezone.localdate()
        return self.valid_from <= on <= self.valid_to

    def days_left(self, on: date | None = None) -> int:
        return (self.valid_to - (on or timezone.localdate())).days

    @property
    def ends_soon(self) -> bool:
        """Ends within 14 days: time to ask the payer for a renewal."""
        return 0 <= self.days_left() <= 14


class PortalInvitation(models.Model):
    """An email inviting a patient to set their portal password; sent once by a sweep."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Portal invitation {self.pk}"


# The patient's symptom journal scores each symptom from 0 (none) to 10 (the worst they can imagine).
SYMPTOM_SCORE_MIN = 0
SYMPTOM_SCORE_MAX = 10
SYMPTOM_FIELDS = ("muscle_weakness", "rash", "fatigue", "pain")
SYMPTOM_NOTE_MAX = 1000
FUTURE_DAY_MESSAGE = "A journal entry can't be for a day that hasn't happened yet."
BEFORE_BIRTH_MESSAGE = "This day is before your date of birth. Please check the year."


def patient_today(patient: Patient) -> date:
    """Today where the patient lives: the journal day turns at their midnight, not the server's."""
    return timezone.localdate(timezone=patient.zone)


def symptom_score(verbose_name: str):
    return models.PositiveSmallIntegerField(
        verbose_name,
        validators=[MinValueValidator(SYMPTOM_SCORE_MIN), MaxValueValidator(SYMPTOM_SCORE_MAX)],
        help_text="0 none – 10 worst",
    )


class SymptomEntry(models.Model):
    """One day of the patient's symptom journal, entered by the patient in the portal."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="symptom_entries")
    # Blank means today in the patient's time zone (filled in by clean() and save()).
    recorded_on = models.DateField("Day", blank=True, help_text="The day this entry describes.")
    muscle_weakness = symptom_score("Muscle weakness")
    rash = symptom_score("Rash")
    fatigue = symptom_score("Tiredness (fatigue)")
    pain = symptom_score("Pain")
    note = models.TextField(blank=True, max_length=SYMPTOM_NOTE_MAX, validators=[MaxLengthValidator(SYMPTOM_NOTE_MAX)])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "symptom entries"
        ordering = ["-recorded_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "recorded_on"], name="one_symptom_entry_per_patient_day"),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{field}__gte": SYMPTOM_SCORE_MIN, f"{field}__lte": SYMPTOM_SCORE_MAX}),
                    name=f"symptom_entry_{field}_0_to_10",
                )
                for field in SYMPTOM_FIELDS
            ),
        ]

    def __str__(self) -> str:
        return f"Symptom journal entry for {self.recorded_on}"

    def save(self, *args, **kwargs):
        if self.recorded_on is None:
            self.recorded_on = patient_today(self.patient)
        super().save(*args, **kwargs)

    def clean(self):
        if self.patient_id is None:
            return
        today = patient_today(self.patient)
        if self.recorded_on is None:
            self.recorded_on = today
        elif self.recorded_on > today:
            raise ValidationError({"recorded_on": FUTURE_DAY_MESSAGE})
        elif self.recorded_on < self.patient.date_of_birth:  # a mistyped year
            raise ValidationError({"recorded_on": BEFORE_BIRTH_MESSAGE})


# "At least a sentence": a reason a privacy officer can later judge, not "emergency" or "pt".
EMERGENCY_REASON_MIN_LENGTH = 20
EMERGENCY_REASON_MIN_WORDS = 4


def validate_emergency_reason(value: str) -> None:
    text = " ".join(value.split())
    if len(text) < EMERGENCY_REASON_MIN_LENGTH or len(text.split()) < EMERGENCY_REASON_MIN_WORDS:
        raise ValidationError(
            "Write at least a sentence saying why you need this record now "
            f"({EMERGENCY_REASON_MIN_WORDS} words or more)."
        )


class EmergencyAccessQuerySet(models.QuerySet):
    def active(self, now=None) -> "EmergencyAccessQuerySet":
        """Accesses still open: not ended by a coordinator and not yet expired."""
        return self.filter(ended_at=None, expires_at__gt=now or timezone.now())


class EmergencyAccess(models.Model):
    """A nurse outside the care team opening a record in an emergency ("break the glass").

    It lasts ``EMERGENCY_ACCESS_HOURS``; while it lasts she sees the record and charts as a care-team nurse would.
    The coordinators are alerted at once (visits.alerts), and every page she opens is in the audit trail with
    ``{"emergency_access": <id>}`` (patients.emergency.middleware).
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="emergency_accesses")
    nurse = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="emergency_accesses")
    reason = models.TextField(validators=[validate_emergency_reason, MaxLengthValidator(2000)])
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True, help_text="Ended early by a coordinator.")
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = EmergencyAccessQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["nurse", "expires_at"]), models.Index(fields=["started_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("started_at")), name="emergency_access_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"Emergency access #{self.pk}"

    def is_active(self, now=None) -> bool:
        return self.ended_at is None and self.expires_at > (now or timezone.now())

    def get_additional_data(self) -> dict:
        """auditlog's hook: the entries about this row carry the same mark as the pages opened under it."""
        return {"emergency_access": self.pk}
