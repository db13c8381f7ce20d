"""What is ordered: the product catalog from the labels, and therapy orders with their dose and regimen."""

from dataclasses import dataclass, replace
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from patients.models import Patient
from visits import clinical

__all__ = [
    "Therapy",
    "Competency",
    "Indication",
    "Product",
    "LabelLimit",
    "AppliedLimits",
    "TherapyOrderQuerySet",
    "TherapyOrder",
    "THERAPY_COMPETENCY",
]


class Therapy(models.TextChoices):
    IVIG = "ivig", "IVIG"
    SCIG = "scig", "SCIG"
    RITUXIMAB = "rituximab", "Rituximab"
    INFLIXIMAB = "infliximab", "Infliximab"
    ABATACEPT = "abatacept", "Abatacept"
    METHYLPREDNISOLONE = "methylprednisolone", "Methylprednisolone"
    CYCLOPHOSPHAMIDE = "cyclophosphamide", "Cyclophosphamide"


class Competency(models.TextChoices):
    IVIG = "ivig", "IVIG"
    SCIG = "scig", "SCIG"
    BIOLOGICS = "biologics", "Biologic infusions (rituximab, infliximab, abatacept)"
    STEROID_PULSE = "steroid_pulse", "IV steroid pulses"
    CHEMOTHERAPY = "chemotherapy", "Chemotherapy (cyclophosphamide)"
    PORT_ACCESS = "port_access", "Implanted port access"


class Indication(models.TextChoices):
    """What an order treats, from the patient's ICD-10 diagnosis; the label's limits depend on it."""

    DERMATOMYOSITIS = "dm", "Dermatomyositis (M33.x)"
    CIDP = "cidp", "CIDP (G61.81)"
    PRIMARY_IMMUNODEFICIENCY = "pi", "Primary immunodeficiency (D80–D84)"
    ITP = "itp", "Immune thrombocytopenia (D69.3)"
    PEMPHIGUS = "pemphigus", "Pemphigus (L10.x)"
    PEMPHIGOID = "pemphigoid", "Pemphigoid (L12.x)"
    OTHER = "other", "Other, as entered"

    @classmethod
    def for_icd10(cls, code: str | None) -> str:
        """The indication an ICD-10 code falls under: M33.* dermatomyositis, G61.81 CIDP, D80-D84 primary
        immunodeficiency, D69.3 ITP, L10.* pemphigus, L12.* pemphigoid; anything else is other."""
        code = (code or "").strip().upper()
        if not code:
            return ""
        if code.startswith("M33"):
            return cls.DERMATOMYOSITIS
        if code.startswith("G61.81"):
            return cls.CIDP
        if code[:3] in ("D80", "D81", "D82", "D83", "D84"):
            return cls.PRIMARY_IMMUNODEFICIENCY
        if code.startswith("D69.3"):
            return cls.ITP
        if code.startswith("L10"):
            return cls.PEMPHIGUS
        if code.startswith("L12"):
            return cls.PEMPHIGOID
        return cls.OTHER


THERAPY_COMPETENCY = {
    Therapy.IVIG: Competency.IVIG,
    Therapy.SCIG: Competency.SCIG,
    Therapy.RITUXIMAB: Competency.BIOLOGICS,
    Therapy.INFLIXIMAB: Competency.BIOLOGICS,
    Therapy.ABATACEPT: Competency.BIOLOGICS,
    Therapy.METHYLPREDNISOLONE: Competency.STEROID_PULSE,
    Therapy.CYCLOPHOSPHAMIDE: Competency.CHEMOTHERAPY,
}


class Product(models.Model):
    """A product in the catalog, with its label's titration protocol. Data, editable in the admin."""

    class Route(models.TextChoices):
        IV = "IV", "Intravenous"
        SC = "SC", "Subcutaneous"

    class RateBasis(models.TextChoices):
        WEIGHT = "weight", "By weight (mL/kg), stepped up"
        MG_PER_HR = "mg_per_hr", "mg/hr, stepped up"
        FIXED_DURATION = "fixed_duration", "Whole volume over a fixed time"

    class LabelRateUnit(models.TextChoices):
        PER_KG_MIN = "mL/kg/min", "mL/kg/min"
        PER_KG_HR = "mL/kg/hr", "mL/kg/hr"

    name = models.CharField("Brand", max_length=80, unique=True)
    drug = models.CharField(max_length=120)
    therapy = models.CharField(max_length=20, choices=Therapy.choices)
    manufacturer = models.CharField(max_length=120)
    route = models.CharField(max_length=2, choices=Route.choices, default=Route.IV)
    concentration_mg_per_ml = models.DecimalField(
        "Concentration as infused (mg/mL)",
        max_digits=7,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="10% immune globulin = 100 mg/mL; rituximab diluted to 2 mg/mL.",
    )
    diluted_volume_ml = models.PositiveSmallIntegerField(
        "Bag volume (mL)", null=True, blank=True, help_text="When the dose is diluted into a fixed volume."
    )
    vial_sizes_mg = models.JSONField("Vial sizes (mg)", default=list, help_text="For example [1000, 2000, 5000].")
    rate_basis = models.CharField(max_length=20, choices=RateBasis.choices)
    # Weight-based rates are kept in mL/kg/hr, which holds both label units exactly
    # (0.01 mL/kg/min = 0.6 mL/kg/hr); label_rate_unit is the unit shown to nurses.
    label_rate_unit = models.CharField(max_length=10, choices=LabelRateUnit.choices, blank=True)
    start_ml_per_kg_hr = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    step_ml_per_kg_hr = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    max_ml_per_kg_hr = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    at_risk_max_ml_per_kg_hr = models.DecimalField(
        max_digits=7,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="Reduced maximum for patients at risk of renal dysfunction or thrombosis.",
    )
    first_start_mg_per_hr = models.DecimalField(
        max_digits=7, decimal_places=1, null=True, blank=True, help_text="First infusion (rituximab: 50)."
    )
    first_step_mg_per_hr = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    later_start_mg_per_hr = models.DecimalField(
        max_digits=7, decimal_places=1, null=True, blank=True, help_text="Later infusions (rituximab: 100)."
    )
    later_step_mg_per_hr = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    max_mg_per_hr = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    step_interval_min = models.PositiveSmallIntegerField("Step interval (min)", null=True, blank=True)
    infusion_duration_min = models.PositiveSmallIntegerField(
        "Infusion time (min)", null=True, blank=True, help_text="For products given over a fixed time."
    )
    at_risk_max_is_agency_policy = models.BooleanField(
        "At-risk maximum is agency policy",
        default=False,
        help_text="The label says only 'minimum rate practicable'; the agency's ceiling is used.",
    )
    min_concentration_mg_per_ml = models.DecimalField(
        "Lowest final concentration (mg/mL)", max_digits=7, decimal_places=2, null=True, blank=True
    )
    max_concentration_mg_per_ml = models.DecimalField(
        "Highest final concentration (mg/mL)", max_digits=7, decimal_places=2, null=True, blank=True
    )
    max_single_dose_mg = models.PositiveIntegerField(
        "Largest single dose without a second confirmation (mg)", null=True, blank=True
    )
    label_notes = models.TextField(blank=True, help_text="Where the numbers come from.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["therapy", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def required_competency(self) -> str:
        return THERAPY_COMPETENCY[self.therapy]

    @property
    def is_immune_globulin(self) -> bool:
        return self.therapy in (Therapy.IVIG, Therapy.SCIG)

    def protocol(self) -> clinical.TitrationProtocol:
        """The product's own titration protocol as plain data for the clinical arithmetic (no indication named)."""
        return clinical.TitrationProtocol(
            product_name=self.name,
            basis=self.rate_basis,
            step_interval_min=self.step_interval_min,
            label_rate_unit=self.label_rate_unit or None,
            start_ml_per_kg_hr=self.start_ml_per_kg_hr,
            step_ml_per_kg_hr=self.step_ml_per_kg_hr,
            max_ml_per_kg_hr=self.max_ml_per_kg_hr,
            at_risk_max_ml_per_kg_hr=self.at_risk_max_ml_per_kg_hr,
            first_start_mg_per_hr=self.first_start_mg_per_hr,
            first_step_mg_per_hr=self.first_step_mg_per_hr,
            later_start_mg_per_hr=self.later_start_mg_per_hr,
            later_step_mg_per_hr=self.later_step_mg_per_hr,
            max_mg_per_hr=self.max_mg_per_hr,
            infusion_duration_min=self.infusion_duration_min,
            min_concentration_mg_per_ml=(
                self.min_concentration_mg_per_ml if self.rate_basis == self.RateBasis.MG_PER_HR else None
            ),
            max_concentration_mg_per_ml=(
                self.max_concentration_mg_per_ml if self.rate_basis == self.RateBasis.MG_PER_HR else None
            ),
        )

    def limits_for(self, indication: str | None) -> "AppliedLimits":
        """The limits that apply to an order for ``indication``: that indication's label row over the product's own
        fields; with no indication named, the product's own; off-label (no row while the product has rows), the
        most conservative figure of every row and the product's own fields (lowest start, step, maximum and at-risk
        maximum, longest step interval)."""
        own = self.protocol()
        rows = list(self.label_limits.all())
        own_policy = self.at_risk_max_is_agency_policy
        if not indication or not rows:
            return AppliedLimits(
                protocol=own, indication=indication or "", at_risk_is_agency_policy=own_policy, label_rows=bool(rows)
            )
        row = next((row for row in rows if row.indication == indication), None)
        if self.rate_basis != self.RateBasis.WEIGHT:
            interval = row.step_interval_min if row and row.step_interval_min else own.step_interval_min
            if row is None:
                interval = max([own.step_interval_min or 0] + [r.step_interval_min or 0 for r in rows]) or None
            protocol = replace(own, step_interval_min=interval)
            return AppliedLimits(
                protocol=protocol,
                indication=indication,
                limit=row,
                off_label=row is None,
                at_risk_is_agency_policy=own_policy,
                label_rows=True,
            )
        if row is not None:
            at_risk = row.at_risk_max_ml_per_kg_hr
            policy = row.at_risk_is_agency_policy if at_risk is not None else own_policy
            maximum = row.max_ml_per_kg_hr or own.max_ml_per_kg_hr
            values = {
                "start_ml_per_kg_hr": row.start_ml_per_kg_hr or own.start_ml_per_kg_hr,
                "step_ml_per_kg_hr": row.step_ml_per_kg_hr or own.step_ml_per_kg_hr,
                "step_interval_min": row.step_interval_min or own.step_interval_min,
                "max_ml_per_kg_hr": maximum,
                "at_risk_max_ml_per_kg_hr": at_risk if at_risk is not None else own.at_risk_max_ml_per_kg_hr,
            }
        else:

            def lowest(name):
                found = [getattr(r, name) for r in rows if getattr(r, name) is not None]
                return min(found + [getattr(own, name)] if getattr(own, name) is not None else found, default=None)

            at_risk_candidates = [(r.at_risk_max_ml_per_kg_hr, r.at_risk_is_agency_policy) for r in rows]
            at_risk_candidates.append((own.at_risk_max_ml_per_kg_hr, own_policy))
            at_risk_candidates = [pair for pair in at_risk_candidates if pair[0] is not None]
            at_risk, policy = min(at_risk_candidates, key=lambda pair: pair[0], default=(None, own_policy))
            intervals = [r.step_interval_min for r in rows if r.step_interval_min] + [own.step_interval_min or 0]
            values = {
                "start_ml_per_kg_hr": lowest("start_ml_per_kg_hr"),
                "step_ml_per_kg_hr": lowest("step_ml_per_kg_hr"),
                "step_interval_min": max(intervals) or None,
                "max_ml_per_kg_hr": lowest("max_ml_per_kg_hr"),
                "at_risk_max_ml_per_kg_hr": at_risk,
            }
        maximum = values["max_ml_per_kg_hr"]
        values["start_ml_per_kg_hr"] = min(values["start_ml_per_kg_hr"], maximum)
        if values["at_risk_max_ml_per_kg_hr"] is not None:
            values["at_risk_max_ml_per_kg_hr"] = min(values["at_risk_max_ml_per_kg_hr"], maximum)
        return AppliedLimits(
            protocol=replace(own, **values),
            indication=indication,
            limit=row,
            off_label=row is None,
            at_risk_is_agency_policy=policy,
            label_rows=True,
        )

    def protocol_for(self, indication: str | None) -> clinical.TitrationProtocol:
        """The titration protocol for an order treating ``indication`` (see ``limits_for``)."""
        return self.limits_for(indication).protocol

    def clean(self):
        sizes = self.vial_sizes_mg
        if not isinstance(sizes, list) or not sizes or not all(isinstance(s, int) and s > 0 for s in sizes):
            raise ValidationError(
                {"vial_sizes_mg": "Give the vial sizes as a list of whole milligrams, e.g. [1000, 5000]."}
            )
        try:
            self.protocol()
        except ValueError as error:
            raise ValidationError(f"The titration protocol is incomplete: {error}") from error


class LabelLimit(models.Model):
    """A product's label limits for one indication, each figure with the label section or page it comes from.

    Weight-based rates in mL/kg/hr as on Product. SCIG limits are per infusion site: the first infusions' volume and
    rate per site, then the later ones'. An indication with no row is off-label: the most conservative row applies.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="label_limits")
    indication = models.CharField(max_length=12, choices=Indication.choices)
    start_ml_per_kg_hr = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    step_ml_per_kg_hr = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    step_interval_min = models.PositiveSmallIntegerField(null=True, blank=True)
    max_ml_per_kg_hr = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    at_risk_max_ml_per_kg_hr = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    at_risk_is_agency_policy = models.BooleanField(default=False)
    dose_rule = models.CharField(max_length=20, blank=True)
    dose_min = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    dose_max = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    first_infusions = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="SCIG: how many infusions keep the first-infusion site limits."
    )
    first_site_volume_ml = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    first_site_rate_ml_per_hr = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    later_site_volume_ml = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    later_site_rate_ml_per_hr = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    max_sites = models.PositiveSmallIntegerField(null=True, blank=True)
    source = models.CharField(max_length=300, help_text="The label section or page each number comes from.")

    class Meta:
        ordering = ["product", "indication"]
        constraints = [models.UniqueConstraint(fields=["product", "indication"], name="one_limit_per_indication")]

    def __str__(self) -> str:
        return f"{self.product} for {self.get_indication_display()}"


@dataclass(frozen=True, kw_only=True)
class AppliedLimits:
    """The limits an order is planned by, and where they come from, in words for the plan."""

    protocol: clinical.TitrationProtocol
    indication: str
    limit: LabelLimit | None = None
    off_label: bool = False
    at_risk_is_agency_policy: bool = False
    label_rows: bool = False  # the catalog holds per-indication limits for this product

    @property
    def indication_label(self) -> str:
        return Indication(self.indication).label if self.indication else ""

    def basis(self, *, at_risk: bool) -> str:
        """Which label's maximum applies, for the plan's "never above" line."""
        name = self.protocol.product_name
        if at_risk and self.protocol.at_risk_max_ml_per_kg_hr is not None and self.at_risk_is_agency_policy:
            return f"agency ceiling: {name}'s label asks for the minimum rate practicable"
        if not self.indication:
            return f"{name}'s own limits: no indication named"
        if self.off_label:
            return f"off-label for {self.indication_label}: the most conservative of {name}'s labelled indications"
        if not self.label_rows:
            return f"{name}'s own limits: the catalog holds no limits per indication for it"
        return f"{name} label for {self.indication_label}"


class TherapyOrderQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(patient__in=Patient.objects.visible_to(user))


class TherapyOrder(models.Model):
    class DoseRule(models.TextChoices):
        G_PER_KG = "g_per_kg", "g/kg"
        MG_PER_KG = "mg_per_kg", "mg/kg"
        MG_PER_M2 = "mg_per_m2", "mg/m²"
        FLAT_MG = "flat_mg", "Flat dose (mg)"
        WEIGHT_TIERED = "weight_tiered", "Weight-tiered (label tiers)"

    class WeightMethod(models.TextChoices):
        ACTUAL = "actual", "Actual body weight"
        IDEAL = "ideal", "Ideal body weight (Devine)"
        ADJUSTED = "adjusted", "Adjusted body weight"

    class Regimen(models.TextChoices):
        CYCLE = "cycle", "Consecutive days every N weeks"
        INDUCTION = "induction", "Induction weeks, then every N weeks"
        PAIRED = "paired", "Two doses N days apart, repeated every N months"
        WEEKLY = "weekly", "Weekly"
        PULSE = "pulse", "Pulse: consecutive days, once"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ON_HOLD = "on_hold", "On hold"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="orders")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="orders")
    diagnosis = models.ForeignKey(
        "patients.Diagnosis", null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    indication = models.CharField(max_length=12, choices=Indication.choices, blank=True)
    dose_outside_label_reason = models.CharField(
        "Prescriber's reason for a dose outside the label", max_length=300, blank=True
    )
    high_dose_confirmation = models.CharField(
        "Second confirmation of a dose above the product's ceiling", max_length=300, blank=True
    )
    # SCIG: the number of sites each infusion uses, and the IV dose it replaces (PI conversion).
    sites_per_infusion = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    previous_iv_dose_g = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    previous_iv_interval_weeks = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(8)]
    )
    dose_rule = models.CharField(max_length=20, choices=DoseRule.choices)
    dose_amount = models.DecimalField(
        max_digits=8,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="In the unit of the dose rule; not used for weight-tiered doses.",
    )
    weight_method = models.CharField(
        "Dosing weight", max_length=10, choices=WeightMethod.choices, default=WeightMethod.ACTUAL
    )
    regimen = models.CharField(max_length=12, choices=Regimen.choices)
    days_per_cycle = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(5)], help_text="Consecutive infusion days."
    )
    interval_weeks = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
        help_text="Weeks between cycles.",
    )
    induction_weeks = models.JSONField(
        default=list, blank=True, help_text="Weeks of the induction doses counted from the start, e.g. [0, 2, 6]."
    )
    second_dose_day = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(2), MaxValueValidator(60)],
        help_text="Paired doses: e.g. 15.",
    )
    interval_months = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(24)]
    )
    number_of_cycles = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(104)]
    )
    end_date = models.DateField(null=True, blank=True)
    premedications = models.TextField(
        blank=True, help_text="Drug, dose and route, e.g. acetaminophen 650 mg PO; diphenhydramine 25 mg PO."
    )
    first_infusion = models.BooleanField(
        "First infusion of this therapy", default=False, help_text="Longer observation; rituximab's slower start."
    )
    product_switch = models.BooleanField(
        "Switching from another IVIG product", default=False, help_text="Titration restarts at the minimum rate."
    )
    prescriber = models.CharField(max_length=200)
    start_date = models.DateField()
    preferred_start_time = models.TimeField(help_text="In the patient's time zone.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    notes = models.TextField(blank=True)

    # What the dose was calculated from, so a later weight change can be detected.
    dosing_weight_kg = models.DecimalField(max_digits=6, decimal_places=2, null=True, editable=False)
    calculated_from_weight_kg = models.DecimalField(max_digits=6, decimal_places=1, null=True, editable=False)
    dose_per_cycle_mg = models.DecimalField(max_digits=10, decimal_places=1, null=True, editable=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TherapyOrderQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "-pk"]

    def __str__(self) -> str:
        return f"{self.product} from {self.start_date:%Y-%m-%d}"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def clean(self):
        """A regimen must be turnable into dates; each problem is reported at its field."""
        errors = {}
        kind = self.regimen
        if kind in (self.Regimen.CYCLE, self.Regimen.INDUCTION) and not self.interval_weeks:
            errors["interval_weeks"] = "Give the weeks between cycles."
        if kind == self.Regimen.INDUCTION:
            weeks = self.induction_weeks
            if (
                not isinstance(weeks, list)
                or not weeks
                or weeks[0] != 0
                or any(later <= earlier for earlier, later in zip(weeks, weeks[1:], strict=False))
            ):
                errors["induction_weeks"] = "Give the induction weeks in order, starting at 0, e.g. 0, 2, 6."
        if kind == self.Regimen.PAIRED:
            if not self.second_dose_day:
                errors["second_dose_day"] = "Give the day of the second dose, e.g. 15."
            if not self.interval_months:
                errors["interval_months"] = "Give the months between courses, e.g. 6."
        if (
            kind in (self.Regimen.WEEKLY, self.Regimen.INDUCTION, self.Regimen.PAIRED)
            and (self.days_per_cycle or 1) != 1
        ):
            errors["days_per_cycle"] = "This regimen gives one infusion at a time; use 1."
        if not self.number_of_cycles and not self.end_date:
            errors["number_of_cycles"] = "Give a number of cycles or an end date."
        if self.end_date and self.start_date and self.end_date < self.start_date:
            errors["end_date"] = "The end date is before the start date."
        if self.dose_rule == self.DoseRule.WEIGHT_TIERED:
            if self.product_id and self.product.therapy != Therapy.ABATACEPT:
                errors["dose_rule"] = "Weight tiers are defined for abatacept only."
        elif self.dose_amount in (None, "") or self.dose_amount <= 0:
            errors["dose_amount"] = "Give the dose in the unit of the dose rule."
        if (
            self.product_id
            and self.product.is_immune_globulin
            and self.dose_rule
            not in (
                self.DoseRule.G_PER_KG,
                self.DoseRule.MG_PER_KG,
            )
        ):
            errors["dose_rule"] = "Immune globulin is dosed by weight (g/kg)."
        if errors:
            raise ValidationError(errors)
