import zoneinfo

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row, Submit
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from infusion_site.forms import DATE_OF_BIRTH, BoundedInputMixin
from infusion_site.roles import NURSE
from patients import units
from patients.models import Diagnosis, LabResult, Patient, PriorAuthorization, WeightMeasurement

TIME_ZONE_CHOICES = [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones()) if "/" in name]


def time_zone_choices():
    """Region/City names, and the agency's own zone even when it is not one (e.g. "UTC")."""
    if any(name == settings.TIME_ZONE for name, _ in TIME_ZONE_CHOICES):
        return TIME_ZONE_CHOICES
    return [(settings.TIME_ZONE, settings.TIME_ZONE), *TIME_ZONE_CHOICES]


DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def submit(label: str) -> Submit:
    return Submit("submit", label, css_class="btn-lg")


class MeasurementFormMixin:
    """Turn a (value, unit) pair typed by a person into SI, with the range in their unit."""

    def clean_measurement(self, value_field, unit_field, convert, range_message, low, high):
        value, unit = self.cleaned_data.get(value_field), self.cleaned_data.get(unit_field)
        if value is None or unit is None:
            return None
        si_value = convert(value, unit)
        if not low <= si_value <= high:
            self.add_error(value_field, range_message(unit))
            return None
        return si_value

    def clean_weight_kg(self, value_field="weight_value", unit_field="weight_unit"):
        return self.clean_measurement(
            value_field, unit_field, units.to_kg, units.weight_range_message, units.WEIGHT_KG_MIN, units.WEIGHT_KG_MAX
        )

    def clean_height_cm(self, value_field="height_value", unit_field="height_unit"):
        return self.clean_measurement(
            value_field, unit_field, units.to_cm, units.height_range_message, units.HEIGHT_CM_MIN, units.HEIGHT_CM_MAX
        )


def weight_fields(required=True):
    return (
        forms.DecimalField(label="Weight", max_digits=6, decimal_places=1, min_value=0, required=required),
        forms.ChoiceField(label="Unit", choices=units.WEIGHT_UNITS, initial=units.KG, required=required),
    )


class PatientForm(BoundedInputMixin, MeasurementFormMixin, forms.ModelForm):
    height_value = forms.DecimalField(label="Height", max_digits=6, decimal_places=1, min_value=0)
    height_unit = forms.ChoiceField(label="Unit", choices=units.HEIGHT_UNITS, initial=units.CM)
    time_zone = forms.ChoiceField(choices=TIME_ZONE_CHOICES)
    DATE_RANGES = {"date_of_birth": DATE_OF_BIRTH}

    class Meta:
        model = Patient
        fields = [
            "mrn",
            "first_name",
            "last_name",
            "date_of_birth",
            "sex",
            "phone",
            "email",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "postal_code",
            "latitude",
            "longitude",
            "time_zone",
            "allergies",
            "no_known_allergies",
            "iga_status",
            "anti_iga_antibodies",
            "renal_risk",
            "thrombosis_risk",
            "risk_notes",
            "prescriber_name",
            "prescriber_phone",
            "prescriber_npi",
            "team",
        ]
        widgets = {
            "date_of_birth": DATE_WIDGET,
            "allergies": forms.Textarea(attrs={"rows": 2}),
            "risk_notes": forms.Textarea(attrs={"rows": 2}),
        }
        error_messages = {"mrn": {"unique": "Another patient already has this MRN."}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zone_choices()
        self.fields["team"].empty_label = "No team yet"
        if self.instance.pk:
            self.fields["height_value"].initial = self.instance.height_cm
            self.fields["height_unit"].initial = units.CM
        else:
            # A new patient lives where the agency is, until told otherwise (the select would show its first zone).
            self.fields["time_zone"].initial = settings.TIME_ZONE
        self.fields["latitude"].help_text = (
            "Of the home, for check-in verification. Leave both empty and the nurse can set them from her tablet "
            "at the first visit."
        )
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Fieldset(
                "Identity",
                Row(Column("mrn"), Column("first_name"), Column("last_name")),
                Row(Column("date_of_birth"), Column("sex"), Column("phone"), Column("email")),
            ),
            Fieldset(
                "Home",
                Row(Column("address_line1"), Column("address_line2")),
                Row(Column("city"), Column("state"), Column("postal_code")),
                Row(Column("latitude"), Column("longitude"), Column("time_zone")),
                # Which team staffs the visits: the board and the alert queue open on a coordinator's own teams.
                Row(Column("team", css_class="col-md-4")),
            ),
            Fieldset(
                "Clinical profile",
                Row(Column("height_value"), Column("height_unit"), *self.extra_measurement_columns()),
                Row(Column("allergies", css_class="col-md-8"), Column("no_known_allergies")),
                Row(Column("iga_status"), Column("anti_iga_antibodies")),
                Row(Column("renal_risk"), Column("thrombosis_risk"), Column("risk_notes", css_class="col-md-6")),
                *self.extra_clinical_rows(),
            ),
            Fieldset(
                "Prescriber",
                Row(Column("prescriber_name"), Column("prescriber_phone"), Column("prescriber_npi")),
            ),
            submit("Save patient"),
        )

    def extra_measurement_columns(self):
        return []

    def extra_clinical_rows(self):
        return []

    def clean_mrn(self):
        return self.cleaned_data["mrn"].strip().upper()

    def clean(self):
        cleaned = super().clean()
        height_cm = self.clean_height_cm()
        if height_cm is not None:
            self.instance.height_cm = height_cm
        return cleaned


class PatientCreateForm(PatientForm):
    """Registration also takes today's weight and the primary diagnosis."""

    weight_value, weight_unit = weight_fields()
    weight_measured_on = forms.DateField(label="Weighed on", widget=DATE_WIDGET, initial=timezone.localdate)
    diagnosis_code = forms.CharField(label="Primary diagnosis ICD-10", max_length=10, initial="M33.10")
    diagnosis_description = forms.CharField(label="Description", max_length=200, initial="Dermatomyositis")

    def extra_measurement_columns(self):
        return [Column("weight_value"), Column("weight_unit"), Column("weight_measured_on")]

    def extra_clinical_rows(self):
        return [Row(Column("diagnosis_code"), Column("diagnosis_description", css_class="col-md-8"))]

    def clean_weight_measured_on(self):
        measured_on = self.cleaned_data["weight_measured_on"]
        if measured_on > timezone.localdate():
            raise forms.ValidationError("The weighing date cannot be in the future.")
        return measured_on

    def clean(self):
        cleaned = super().clean()
        cleaned["weight_kg"] = self.clean_weight_kg()
        return cleaned


class SectionForm(BoundedInputMixin, forms.ModelForm):
    """A small form on the patient page; one per dated section."""

    submit_label = "Add"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class WeightForm(MeasurementFormMixin, SectionForm):
    weight_value, weight_unit = weight_fields()
    submit_label = "Add weight"

    class Meta:
        model = WeightMeasurement
        fields = ["measured_on"]
        widgets = {"measured_on": DATE_WIDGET}
        labels = {"measured_on": "Weighed on"}

    def clean(self):
        cleaned = super().clean()
        weight_kg = self.clean_weight_kg()
        if weight_kg is not None:
            self.instance.weight_kg = weight_kg
            self.instance.entered_unit = cleaned["weight_unit"]
        return cleaned


class CreatinineForm(SectionForm):
    submit_label = "Add creatinine"

    class Meta:
        model = LabResult
        fields = ["collected_on", "value"]
        widgets = {"collected_on": DATE_WIDGET}
        labels = {"value": "Serum creatinine (mg/dL)", "collected_on": "Collected on"}
        error_messages = {
            "value": {
                "min_value": "Serum creatinine is at least 0.1 mg/dL; check the value and unit.",
                "max_value": "Serum creatinine above 20 mg/dL is not plausible; check the value and unit (mg/dL).",
            }
        }


class AuthorizationForm(SectionForm):
    submit_label = "Add authorization"

    class Meta:
        model = PriorAuthorization
        fields = ["payer", "member_id", "number", "therapy", "valid_from", "valid_to", "visits_authorized"]
        widgets = {"valid_from": DATE_WIDGET, "valid_to": DATE_WIDGET}


class DiagnosisForm(SectionForm):
    submit_label = "Add diagnosis"

    class Meta:
        model = Diagnosis
        fields = ["icd10_code", "description", "is_primary"]

    def clean_icd10_code(self):
        code = self.cleaned_data["icd10_code"].strip().upper()
        # The patient is not a form field, so ModelForm skips the (patient, code) constraint; check it here.
        recorded = Diagnosis.objects.filter(patient_id=self.instance.patient_id, icd10_code=code)
        if self.instance.patient_id and recorded.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("This diagnosis is already on the patient's list.")
        return code


class CareTeamForm(forms.Form):
    submit_label = "Add to care team"
    nurse = forms.ModelChoiceField(queryset=get_user_model().objects.none(), empty_label="Choose a nurse")

    def __init__(self, *args, patient=None, **kwargs):
        super().__init__(*args, **kwargs)
        nurses = get_user_model().objects.filter(groups__name=NURSE, is_active=True).order_by("last_name", "first_name")
        if patient is not None:
            nurses = nurses.exclude(care_team_memberships__patient=patient)
        self.fields["nurse"].queryset = nurses
        self.fields["nurse"].label_from_instance = lambda user: user.get_full_name() or user.username
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class InviteForm(BoundedInputMixin, forms.Form):
    email = forms.EmailField(label="Patient's email for the portal")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if get_user_model().objects.filter(username__iexact=email).exists():
            raise forms.ValidationError("An account with this email already exists.")
        return email


class HomeLocationForm(BoundedInputMixin, forms.Form):
    """The nurse at the home: her confirmation and what her tablet's browser measured (filled in by
    static/js/home_location.js)."""

    confirm = forms.BooleanField(
        label="I am at the patient's home: use this location as the home's",
        error_messages={"required": "Tick the box to confirm you are at the patient's home."},
    )
    latitude = forms.FloatField(min_value=-90, max_value=90, widget=forms.HiddenInput)
    longitude = forms.FloatField(min_value=-180, max_value=180, widget=forms.HiddenInput)
    accuracy_m = forms.FloatField(min_value=0, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        missing = [name for name in ("latitude", "longitude", "accuracy_m") if name in self.errors]
        for name in missing:
            del self.errors[name]
        if missing:
            raise forms.ValidationError(
                "Your tablet did not share a usable location; nothing was changed. Allow location for this site and "
                "try again, or ask the coordinator to enter the home's coordinates."
            )
        return cleaned


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "Name, MRN or date of birth (YYYY-MM-DD)", "type": "search"}),
    )
