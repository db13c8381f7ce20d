from datetime import timedelta
from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Fieldset, Layout, Row
from django import forms
from django.utils import timezone

from infusion_site.forms import BoundedInputMixin
from visits.models import Indication, Product, TherapyOrder
from visits.orders import services as order_services
from visits.orders.presets import PRESETS

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

Regimen = TherapyOrder.Regimen

# A start further ahead, or an end further away, is a typing error (year 9999), not a prescription; orders are
# renewed with their authorizations, usually every year.
MAX_START_AHEAD_DAYS = 366
MAX_ORDER_SPAN_DAYS = 3 * 366

# The regimen fields each regimen uses; the others are hidden on the form and cleared when it is saved, so a value
# typed for another regimen cannot change the plan. A field not named here (start, number of cycles, end date)
# belongs to every regimen.
REGIMEN_FIELDS = {
    "days_per_cycle": (Regimen.CYCLE, Regimen.PULSE),
    "interval_weeks": (Regimen.CYCLE, Regimen.INDUCTION),
    "induction_weeks": (Regimen.INDUCTION,),
    "second_dose_day": (Regimen.PAIRED,),
    "interval_months": (Regimen.PAIRED,),
}
UNUSED_VALUE = {
    "days_per_cycle": 1,
    "interval_weeks": None,
    "induction_weeks": [],
    "second_dose_day": None,
    "interval_months": None,
}

# Plausible dose ranges per rule: a number outside is a typing error, not a prescription (IVIG up to
# 2 g/kg per cycle, infliximab up to 10 mg/kg, methylprednisolone high-dose 30 mg/kg, cyclophosphamide
# 500-1,000 mg/m2, flat doses up to 1 g).
DOSE_LIMITS = {
    TherapyOrder.DoseRule.G_PER_KG: (Decimal("0.1"), Decimal("3")),
    TherapyOrder.DoseRule.MG_PER_KG: (Decimal("0.5"), Decimal("30")),
    TherapyOrder.DoseRule.MG_PER_M2: (Decimal("50"), Decimal("1500")),
    TherapyOrder.DoseRule.FLAT_MG: (Decimal("1"), Decimal("2000")),
}


class InductionWeeksField(forms.CharField):
    """Weeks typed as "0, 2, 6" stored as a list of whole numbers."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(str(week) for week in value)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return []
        try:
            weeks = [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
        except ValueError:
            raise forms.ValidationError("Give whole weeks separated by commas, e.g. 0, 2, 6.") from None
        if any(week < 0 or week > 104 for week in weeks):
            raise forms.ValidationError("Each induction week is between 0 and 104.")
        return weeks


class TherapyOrderForm(BoundedInputMixin, forms.ModelForm):
    induction_weeks = InductionWeeksField(required=False, help_text="Induction regimen only, e.g. 0, 2, 6.")
    # The start and the end are bounded by clean_start_date and clean_end_date; the order's length by
    # ORDER_MAX_YEARS and ORDER_MAX_VISITS (order_span_problems), which the preview shows before saving.
    DATE_RANGES = {"start_date": None, "end_date": None}

    class Meta:
        model = TherapyOrder
        fields = [
            "product",
            "diagnosis",
            "dose_rule",
            "dose_amount",
            "dose_outside_label_reason",
            "high_dose_confirmation",
            "weight_method",
            "regimen",
            "days_per_cycle",
            "interval_weeks",
            "induction_weeks",
            "second_dose_day",
            "interval_months",
            "number_of_cycles",
            "end_date",
            "start_date",
            "preferred_start_time",
            "premedications",
            "first_infusion",
            "product_switch",
            "prescriber",
            "status",
            "notes",
        ]
        widgets = {
            "start_date": DATE_WIDGET,
            "end_date": DATE_WIDGET,
            "preferred_start_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "premedications": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, patient, preset=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.patient = patient
        self.calc = None
        self.fields["product"].queryset = Product.objects.filter(is_active=True)
        self.fields["product"].label_from_instance = lambda product: (
            f"{product.name} ({product.get_therapy_display()}, {product.manufacturer})"
        )
        diagnoses = list(patient.diagnoses.all())
        diagnosis = self.fields["diagnosis"]
        diagnosis.queryset = patient.diagnoses.all()
        diagnosis.label = "Diagnosis treated (the indication)"
        diagnosis.empty_label = "No indication named"
        diagnosis.label_from_instance = lambda item: (
            f"{item.icd10_code} {item.description} → {Indication(Indication.for_icd10(item.icd10_code)).label}"
        )
        diagnosis.help_text = "The label's limits for this indication apply; another indication is off-label."
        self.fields["dose_outside_label_reason"].help_text = "Needed when the dose is outside the label's range."
        self.fields[
            "high_dose_confirmation"
        ].help_text = "Needed above the product's single-dose ceiling: the second person's name and the reason."
        if not self.instance.pk:
            self.fields["prescriber"].initial = patient.prescriber_name
            self.fields.pop("status")
            if diagnoses:
                diagnosis.initial = diagnoses[0].pk  # primary first
        self.preset = PRESETS.get(preset) if preset else None
        if self.preset and not self.is_bound:
            self._apply_preset(self.preset, diagnoses)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Fieldset(
                "Product and dose",
                Row(Column("diagnosis", css_class="col-xl-6"), Column("product", css_class="col-xl-6")),
                Row(Column("dose_rule"), Column("dose_amount")),
                Row(Column("dose_outside_label_reason"), Column("high_dose_confirmation")),
                Row(Column("weight_method"), Column("first_infusion"), Column("product_switch")),
            ),
            Fieldset(
                "Regimen",
                Row(Column("regimen", css_class="col-12")),
                Row(*(self._regimen_column(name) for name in REGIMEN_FIELDS)),
                HTML(
                    '<noscript><p class="small text-muted">Only the fields of the regimen chosen are shown: after '
                    "choosing or changing the regimen, press Preview to see its fields.</p></noscript>"
                ),
                Row(Column("number_of_cycles"), Column("end_date")),
                Row(Column("start_date"), Column("preferred_start_time")),
            ),
            Fieldset(
                "Prescription",
                Row(Column("premedications", css_class="col-12"), Column("prescriber", css_class="col-12")),
                Row(*([Column("status")] if "status" in self.fields else []), Column("notes", css_class="col-12")),
            ),
        )

    def current_regimen(self) -> str:
        """The regimen the form shows: as posted, else the order's, else the preset's."""
        if self.is_bound:
            return self.data.get(self.add_prefix("regimen"), "")
        return self.initial.get("regimen") or self.instance.regimen or ""

    def _regimen_column(self, name: str) -> Column:
        """A regimen field, marked with the regimens that use it (static/js/order_form.js shows and hides it), and
        hidden from the start unless the regimen chosen uses it."""
        regimens = REGIMEN_FIELDS[name]
        current = self.current_regimen()
        hidden = current not in regimens  # none chosen yet: none of them
        return Column(
            name,
            css_class="col-md" + (" d-none" if hidden else ""),
            data_regimens=" ".join(regimens),
        )

    def _apply_preset(self, preset, diagnoses):
        for name, value in preset.fields.items():
            self.initial[name] = value
        if preset.product:
            product = Product.objects.filter(name=preset.product, is_active=True).first()
            if product is not None:
                self.initial["product"] = product.pk
        matching = [item for item in diagnoses if Indication.for_icd10(item.icd10_code) in preset.indications]
        if matching:
            self.initial["diagnosis"] = matching[0].pk

    def clean_start_date(self):
        start = self.cleaned_data["start_date"]
        if not self.instance.pk and start < timezone.localdate():
            raise forms.ValidationError("A new order starts today or later.")
        if start > timezone.localdate() + timedelta(days=MAX_START_AHEAD_DAYS):
            raise forms.ValidationError("Check the year: an order starts within a year of today.")
        return start

    def clean_end_date(self):
        end = self.cleaned_data.get("end_date")
        if end and end > timezone.localdate() + timedelta(days=MAX_START_AHEAD_DAYS + MAX_ORDER_SPAN_DAYS):
            raise forms.ValidationError(
                "Check the year: an order ends within three years of its start; renew it for longer."
            )
        return end

    def clean(self):
        cleaned = super().clean()
        rule, amount = cleaned.get("dose_rule"), cleaned.get("dose_amount")
        if rule in DOSE_LIMITS and amount is not None:
            low, high = DOSE_LIMITS[rule]
            if not low <= amount <= high:
                label = TherapyOrder.DoseRule(rule).label
                self.add_error("dose_amount", f"A dose in {label} is between {low:g} and {high:g}; check the number.")
        regimen = cleaned.get("regimen")
        if regimen:
            for name, used_by in REGIMEN_FIELDS.items():
                if regimen not in used_by:
                    cleaned[name] = UNUSED_VALUE[name]
                    self._errors.pop(name, None)
        diagnosis = cleaned.get("diagnosis")
        self.instance.indication = Indication.for_icd10(diagnosis.icd10_code) if diagnosis else ""
        return cleaned

    def _post_clean(self):
        """With the order complete, the label's checks that need its dose: a dose outside the indication's range
        needs the prescriber's reason, a dose above the product's ceiling a second person's confirmation."""
        super()._post_clean()
        if self.errors:
            return
        self.calc = order_services.order_calculate(order=self.instance)
        for name, message in self.calc.confirmations_needed.items():
            self.add_error(name, message)
