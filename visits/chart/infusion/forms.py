"""Forms of the chart's infusion and vital-sign sections: validation and layout only.

Times are typed as the local HH:MM on the visit's date (the patient's time zone), or left blank for now. Every
vital sign has an explicit unit and a message at the field when it cannot be right (limits in DESIGN §3).
"""

from datetime import datetime
from decimal import Decimal

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.layout import Column, Field, Row
from django import forms
from django.utils import timezone

from infusion_site.forms import inline_helper
from visits.chart.clock import recorded_now
from visits.chart.infusion import vitals
from visits.chart.infusion.services import SHORT_REASONS
from visits.models import Assessment, RateChange, Visit, VitalSigns

TIME_FORMATS = ("%H:%M", "%H.%M", "%H%M")
TIME_HELP = "HH:MM, or blank for now."


TIME_MESSAGE = "Give the time as HH:MM, e.g. 10:30, or leave it blank for now."


class LocalTimeField(forms.Field):
    """A time of day typed as HH:MM; blank (or "now") means now. The form puts it on the visit's date."""

    widget = forms.TextInput(attrs={"type": "time", "inputmode": "numeric"})
    default_error_messages = {"invalid": TIME_MESSAGE}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", TIME_HELP)
        super().__init__(**kwargs)

    def to_python(self, value):
        text = "" if value in self.empty_values else str(value).strip()
        if text.lower() in ("", "now"):
            return None
        if len(text) <= 8:
            for pattern in TIME_FORMATS:
                try:
                    return datetime.strptime(text, pattern).time()
                except ValueError:
                    continue
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class VisitTimeMixin:
    """Turns a LocalTimeField into an aware moment on the visit's date in the patient's time zone."""

    visit: Visit

    def moment(self, value) -> datetime:
        if value is None:
            return recorded_now()
        zone = self.visit.patient.zone
        day = timezone.localtime(self.visit.planned_start, zone).date()
        return datetime.combine(day, value, tzinfo=zone)


RATE_MESSAGES = {
    "required": "Give the rate in mL/hr, e.g. 42.0.",
    "invalid": "Give the rate as a number of mL/hr, e.g. 42.0.",
    "max_digits": "Give the rate in mL/hr, at most 1000.0.",
    "max_whole_digits": "Give the rate in mL/hr, at most 1000.0.",
    "max_decimal_places": "Give the rate to one decimal place, as the pump shows it (e.g. 42.5).",
    "min_value": "The rate must be more than 0 mL/hr.",
    "max_value": "Give the rate in mL/hr, at most 1000.0.",
}


def rate_field(*, required=True, label="Rate (mL/hr)"):
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=5,
        decimal_places=1,
        min_value=Decimal("0.1"),
        max_value=Decimal("1000"),
        error_messages=RATE_MESSAGES,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )


VERSION_MESSAGES = {
    "required": "This form is out of date: reload the chart and record again.",
    "invalid": "This form is out of date: reload the chart and record again.",
}


class StartForm(VisitTimeMixin, forms.Form):
    at = LocalTimeField(label="Started at")
    rate_ml_per_hr = rate_field(label="Start rate (mL/hr)")

    def __init__(self, *args, visit: Visit, **kwargs):
        self.visit = visit
        super().__init__(*args, **kwargs)
        self.helper = inline_helper(Row(Column("at"), Column("rate_ml_per_hr")))

    def clean_at(self):
        return self.moment(self.cleaned_data.get("at"))


CHANGE_KINDS = [(value, label) for value, label in RateChange.Kind.choices if value != RateChange.Kind.START]


class RateChangeForm(VisitTimeMixin, forms.Form):
    kind = forms.ChoiceField(
        label="What changed",
        choices=CHANGE_KINDS,
        error_messages={
            "required": "Choose what changed: raised, lower, paused, resumed or stopped.",
            "invalid_choice": "Choose what changed: raised, lower, paused, resumed or stopped.",
        },
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    rate_ml_per_hr = rate_field(
        required=False, label="New rate (mL/hr; blank for the previous rate when lowering or resuming)"
    )
    at = LocalTimeField(label="At")
    note = forms.CharField(
        label="Note", required=False, max_length=200, error_messages={"max_length": "Keep the note to 200 characters."}
    )
    early_reason = forms.CharField(
        label="Reason to raise before the plan's time",
        required=False,
        max_length=200,
        help_text="Only for a raise earlier than the plan.",
        error_messages={"max_length": "Keep the reason to 200 characters."},
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, error_messages=VERSION_MESSAGES)

    def __init__(self, *args, visit: Visit, **kwargs):
        self.visit = visit
        super().__init__(*args, **kwargs)
        self.helper = inline_helper(
            Row(Column("kind"), Column("rate_ml_per_hr"), Column("at")), "note", "early_reason", "version"
        )

    def clean_at(self):
        return self.moment(self.cleaned_data.get("at"))


class EndForm(VisitTimeMixin, forms.Form):
    at = LocalTimeField(label="Ended at")
    volume_infused_ml = forms.DecimalField(
        label="Volume infused (mL)",
        max_digits=6,
        decimal_places=1,
        min_value=0,
        max_value=Decimal("10000"),
        error_messages={
            "required": "Give the volume infused, in mL.",
            "invalid": "Give the volume infused as a number of mL, e.g. 280.",
            "min_value": "The volume infused cannot be negative.",
            "max_value": "Give the volume infused in mL (at most 10000).",
            "max_digits": "Give the volume infused in mL (at most 10000).",
            "max_whole_digits": "Give the volume infused in mL (at most 10000).",
            "max_decimal_places": "Give the volume to one decimal place.",
        },
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    short_reason = forms.ChoiceField(
        label="If less than planned was infused, why",
        required=False,
        choices=[("", "—"), *SHORT_REASONS.items()],
        error_messages={"invalid_choice": "Choose why less was infused from the list."},
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    short_note = forms.CharField(
        label="Note on the volume",
        required=False,
        max_length=200,
        error_messages={"max_length": "Keep the note to 200 characters."},
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, error_messages=VERSION_MESSAGES)

    def __init__(self, *args, visit: Visit, **kwargs):
        self.visit = visit
        super().__init__(*args, **kwargs)
        self.helper = inline_helper(
            Row(Column("at"), Column("volume_infused_ml")), Row(Column("short_reason"), Column("short_note")), "version"
        )

    def clean_at(self):
        return self.moment(self.cleaned_data.get("at"))


class AssessmentForm(VisitTimeMixin, forms.Form):
    """After a warning sign: "assessed, no reaction" (flagged vitals) or "reaction resolved", with a note."""

    finding = forms.ChoiceField(
        choices=Assessment.Finding.choices,
        widget=forms.HiddenInput,
        error_messages={
            "required": "Reload the chart: the assessment form is incomplete.",
            "invalid_choice": "Reload the chart: the assessment form is incomplete.",
        },
    )
    note = forms.CharField(
        label="What you assessed",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "e.g. no headache, chills or rash; rechecked, 37.4 °C"}),
        error_messages={
            "required": "Write what you assessed (symptoms asked about, findings).",
            "max_length": "Keep the note to 500 characters.",
        },
    )
    at = LocalTimeField(label="Assessed at")

    def __init__(self, *args, visit: Visit, **kwargs):
        self.visit = visit
        super().__init__(*args, auto_id="assessment-%s", **kwargs)
        self.helper = inline_helper("finding", Row(Column("note", css_class="col-md-8"), Column("at")))

    def clean_at(self):
        return self.moment(self.cleaned_data.get("at"))


# --- vital signs -------------------------------------------------------------------------------------------------


def _whole(name: str, label: str, *, required: bool = True) -> forms.IntegerField:
    limit = vitals.LIMITS[name]
    message = f"Give the {limit.label.lower()} as a whole number, e.g. {limit.example}."
    return forms.IntegerField(
        label=label,
        required=required,
        error_messages={"required": f"Give the {limit.label.lower()} ({limit.unit}).", "invalid": message},
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": limit.low, "max": limit.high}),
    )


TEMPERATURE_UNIT_CHOICES = [(vitals.CELSIUS, "°C"), (vitals.FAHRENHEIT, "°F")]
TEMPERATURE_TOO_LONG = "That is not a possible temperature: it must be between 30 and 45 °C, or 86 and 113 °F."


class VitalsForm(VisitTimeMixin, forms.Form):
    # Service errors name model fields; this form names the temperature as typed.
    SERVICE_FIELDS = {"temperature_c": "temperature"}

    taken_at = LocalTimeField(label="Taken at")
    phase = forms.ChoiceField(
        choices=VitalSigns.Phase.choices,
        error_messages={
            "required": "Choose the phase of this set.",
            "invalid_choice": "Choose the phase of this set.",
        },
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    temperature = forms.DecimalField(
        label="Temperature",
        max_digits=4,
        decimal_places=1,
        error_messages={
            "required": "Give the temperature, e.g. 36.8 °C or 98.2 °F.",
            "invalid": "Give the temperature as a number, e.g. 36.8 °C or 98.2 °F.",
            "max_digits": TEMPERATURE_TOO_LONG,
            "max_whole_digits": TEMPERATURE_TOO_LONG,
            "max_decimal_places": "Give the temperature to one decimal place, e.g. 36.8.",
        },
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    temperature_unit = forms.ChoiceField(
        label="Unit",
        choices=TEMPERATURE_UNIT_CHOICES,
        initial=vitals.CELSIUS,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the unit of the temperature: °C or °F.",
            "invalid_choice": "Choose the unit of the temperature: °C or °F.",
        },
    )
    pulse = _whole("pulse", "Pulse (beats/min)")
    systolic = _whole("systolic", "Systolic (mmHg)")
    diastolic = _whole("diastolic", "Diastolic (mmHg)")
    respiratory_rate = _whole("respiratory_rate", "Respiratory rate (breaths/min)")
    spo2 = _whole("spo2", "SpO₂ (%)", required=False)
    pain = _whole("pain", "Pain (0–10)", required=False)

    WHOLE_FIELDS = ("pulse", "systolic", "diastolic", "respiratory_rate", "spo2", "pain")

    def __init__(self, *args, visit: Visit, **kwargs):
        self.visit = visit
        super().__init__(*args, **kwargs)
        self.helper = inline_helper(
            Row(Column("taken_at"), Column("phase")),
            Row(Column("temperature"), Column(InlineRadios("temperature_unit"))),
            Row(Column("pulse"), Column("systolic"), Column("diastolic")),
            Row(Column("respiratory_rate"), Column(Field("spo2")), Column("pain")),
        )

    def clean_taken_at(self):
        return self.moment(self.cleaned_data.get("taken_at"))

    def _clean_whole(self, name):
        value = self.cleaned_data.get(name)
        if value is not None:
            problem = vitals.limit_problem(name, value)
            if problem:
                raise forms.ValidationError(problem, code="out_of_range")
        return value

    def clean_pulse(self):
        return self._clean_whole("pulse")

    def clean_systolic(self):
        return self._clean_whole("systolic")

    def clean_diastolic(self):
        return self._clean_whole("diastolic")

    def clean_respiratory_rate(self):
        return self._clean_whole("respiratory_rate")

    def clean_spo2(self):
        return self._clean_whole("spo2")

    def clean_pain(self):
        return self._clean_whole("pain")

    def clean(self):
        data = super().clean()
        temperature, unit = data.get("temperature"), data.get("temperature_unit")
        if temperature is not None and unit:
            problem = vitals.temperature_problem(temperature, unit)
            if problem:
                self.add_error("temperature", problem)
            else:
                data["temperature_c"] = vitals.temperature_celsius(temperature, unit)
        systolic, diastolic = data.get("systolic"), data.get("diastolic")
        if systolic is not None and diastolic is not None and diastolic >= systolic:
            self.add_error(
                "diastolic",
                f"The diastolic pressure ({diastolic}) must be below the systolic ({systolic}): "
                "check the order of the two numbers.",
            )
        if data.get("phase") == VitalSigns.Phase.BASELINE and data.get("spo2") is None and "spo2" not in self.errors:
            self.add_error("spo2", "The baseline set needs SpO₂.")
        return data

    def reading(self) -> vitals.Reading:
        data = self.cleaned_data
        return vitals.Reading(
            temperature_c=data["temperature_c"],
            pulse=data["pulse"],
            systolic=data["systolic"],
            diastolic=data["diastolic"],
            respiratory_rate=data["respiratory_rate"],
            spo2=data.get("spo2"),
            pain=data.get("pain"),
        )
