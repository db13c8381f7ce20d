"""The patient's forms: a reschedule request, and the symptom journal (a day, four scores from 0 to 10, a note)."""

from datetime import date

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout
from django import forms

from patients.models import (
    FUTURE_DAY_MESSAGE,
    SYMPTOM_FIELDS,
    SYMPTOM_NOTE_MAX,
    SYMPTOM_SCORE_MAX,
    SYMPTOM_SCORE_MIN,
)
from visits.models import RescheduleRequest


class RescheduleRequestForm(forms.ModelForm):
    class Meta:
        model = RescheduleRequest
        fields = ["reason", "preferred_dates"]
        labels = {
            "reason": "Why do you need to change this visit?",
            "preferred_dates": "Which days and times would suit you?",
        }
        help_texts = {
            "preferred_dates": "For example: “Thursday or Friday morning, not before 9 am”.",
        }
        widgets = {
            "reason": forms.Textarea(attrs={"rows": 3, "class": "form-control-lg"}),
            "preferred_dates": forms.TextInput(attrs={"class": "form-control-lg"}),
        }
        error_messages = {
            "reason": {"required": "Please tell us why you need to change this visit."},
            "preferred_dates": {"required": "Please tell us which days and times would suit you."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


# --- The symptom journal ---------------------------------------------------------------------------------

SCORE_HELP = "0 none – 10 worst"
SCORE_MESSAGE = "Please give a whole number from 0 (none) to 10 (worst)."


def score_field(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=SYMPTOM_SCORE_MIN,
        max_value=SYMPTOM_SCORE_MAX,
        help_text=SCORE_HELP,
        error_messages={
            "required": SCORE_MESSAGE,
            "invalid": SCORE_MESSAGE,
            "min_value": SCORE_MESSAGE,
            "max_value": SCORE_MESSAGE,
        },
        # A number keypad on phones; novalidate on the form lets the server explain a wrong value.
        widget=forms.NumberInput(attrs={"class": "form-control-lg", "inputmode": "numeric", "step": 1}),
    )


class SymptomEntryForm(forms.Form):
    recorded_on = forms.DateField(
        label="Day",
        help_text="The day this entry is about.",
        error_messages={
            "required": "Please give the day this entry is about.",
            "invalid": "Please give the day as a date, for example 2026-11-20.",
        },
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control-lg"}, format="%Y-%m-%d"),
    )
    muscle_weakness = score_field("Muscle weakness")
    rash = score_field("Rash")
    fatigue = score_field("Tiredness (fatigue)")
    pain = score_field("Pain")
    note = forms.CharField(
        label="Anything else you want your care team to know? (optional)",
        required=False,
        max_length=SYMPTOM_NOTE_MAX,
        error_messages={"max_length": f"Please keep the note to {SYMPTOM_NOTE_MAX:,} characters or fewer."},
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control-lg"}),
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["recorded_on"].widget.attrs["max"] = today.isoformat()
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            "recorded_on",
            Div(
                *(Field(name, wrapper_class="col-6 col-xl-3") for name in SYMPTOM_FIELDS),
                css_class="row",
            ),
            "note",
        )

    def clean_recorded_on(self):
        day = self.cleaned_data["recorded_on"]
        if day > self.today:
            raise forms.ValidationError(FUTURE_DAY_MESSAGE, code="future_day")
        return day
