"""Forms of the chart's reactions, sign-off and outcome sections: parsing and field messages only.

The clinical rules (grade 3 or more must stop, once per cycle, …) are the services'; a service's field errors are
added back to these forms by the views, so every message shows next to its field.
"""

from collections.abc import Sequence
from datetime import datetime

from django import forms
from django.utils import timezone

from visits.chart.signoff.services import GRADE_MEANINGS, SYMPTOMS, WAIVER_REASON_MAX, Missing
from visits.models import Reaction

EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
TEXT_MAX = 4000


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock time in the patient's time zone (the nurse is in the patient's home), stored aware."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
    zone = None

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "error_messages", {"invalid": "Give a date and time like 2026-11-21 10:30.", "required": "Give the time."}
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, datetime) and timezone.is_aware(value) and self.zone is not None:
            return timezone.localtime(value, self.zone)
        return value

    def to_python(self, value):
        with timezone.override(self.zone or timezone.get_current_timezone()):
            value = super().to_python(value)
        if value is not None and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            raise forms.ValidationError(f"Check the year: it must be between {EARLIEST_YEAR} and {LATEST_YEAR}.")
        return value


class ChartForm(forms.Form):
    """Ids unique on the chart page, where every section's forms sit side by side (names stay plain)."""

    id_prefix = "chart"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


class ZonedForm(ChartForm):
    """A form whose times are read and shown in ``zone`` (the patient's)."""

    def __init__(self, *args, zone, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, LocalDateTimeField):
                field.zone = zone


def grade_label(grade: int) -> str:
    return f"Grade {grade}: {GRADE_MEANINGS[grade]}"


class ReactionForm(ZonedForm):
    id_prefix = "reaction"
    onset_at = LocalDateTimeField(label="Onset")
    symptoms = forms.MultipleChoiceField(
        choices=list(SYMPTOMS.items()),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "btn-check"}),
        error_messages={
            "required": "Tick at least one symptom.",
            "invalid_choice": "Choose symptoms from the list; %(value)s is not one of them.",
        },
    )
    other_symptom = forms.CharField(label="Other symptom", max_length=200, required=False)
    grade = forms.TypedChoiceField(
        label="Grade (CTCAE v5)",
        coerce=int,
        choices=[(grade, grade_label(grade)) for grade in GRADE_MEANINGS],
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
        error_messages={"required": "Choose a grade.", "invalid_choice": "Choose a grade from 1 to 5."},
    )
    action = forms.ChoiceField(
        label="Action",
        choices=Reaction.Action.choices,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
        error_messages={"required": "Choose what was done.", "invalid_choice": "Choose an action from the list."},
    )
    medications_given = forms.CharField(
        label="Medications given",
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Drug, dose, route and time"}),
    )
    physician_notified_at = LocalDateTimeField(label="Physician notified at", required=False)
    outcome = forms.CharField(label="Outcome", required=False, max_length=TEXT_MAX, widget=forms.Textarea({"rows": 2}))


class SignForm(ChartForm):
    id_prefix = "sign"
    note = forms.CharField(
        label="Nurse's note",
        max_length=TEXT_MAX * 2,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Write the nurse's note before signing."},
    )
    password = forms.CharField(
        label="Your password, to sign",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Type your password to sign."},
    )

    def __init__(self, *args, missing: Sequence[Missing] = (), **kwargs):
        """``missing``: what sign-off still lacks (``signoff_missing``); each gets a waiver reason field, before the
        note and the password. Whether a reason is needed is the service's rule, so the fields are optional here."""
        super().__init__(*args, **kwargs)
        self.missing = list(missing)
        waivers = {waiver_field_name(item.code): waiver_field() for item in self.missing}
        self.fields = {**waivers, **self.fields}

    def waivers(self) -> dict[str, str]:
        """The reasons typed, by item code (blank when none was)."""
        return {item.code: self.cleaned_data.get(waiver_field_name(item.code), "") for item in self.missing}


def waiver_field_name(code: str) -> str:
    return f"waiver_{code}"


def waiver_field() -> forms.CharField:
    return forms.CharField(
        label="Waive: reason",
        required=False,
        max_length=WAIVER_REASON_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"max_length": f"Keep the reason to {WAIVER_REASON_MAX} characters."},
    )


class AddendumForm(ChartForm):
    id_prefix = "addendum"
    text = forms.CharField(
        label="Addendum",
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write the addendum."},
    )


def score_field(label: str, maximum: int) -> forms.IntegerField:
    message = f"{label} runs from 0 to {maximum}."
    return forms.IntegerField(
        label=f"{label} (0–{maximum})",
        min_value=0,
        max_value=maximum,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": f"Give the {label} score.",
            "invalid": f"{label} is a whole number from 0 to {maximum}.",
            "min_value": message,
            "max_value": message,
        },
    )


class OutcomeForm(ChartForm):
    id_prefix = "outcome"
    # Ranges from DESIGN §2 (outcome measures).
    mmt8 = score_field("MMT-8", 150)
    cdasi_activity = score_field("CDASI activity", 100)
    cdasi_damage = score_field("CDASI damage", 32)
    patient_global = score_field("Patient global", 10)
