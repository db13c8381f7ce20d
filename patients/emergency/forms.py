from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout, Submit
from django import forms

from patients.models import EMERGENCY_REASON_MIN_LENGTH, validate_emergency_reason


class EmergencyAccessForm(forms.Form):
    mrn = forms.CharField(
        label="MRN",
        max_length=20,
        help_text="The patient's medical record number, exactly. There is no search here.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )
    reason = forms.CharField(
        label="Why you need this record now",
        min_length=EMERGENCY_REASON_MIN_LENGTH,
        max_length=2000,
        validators=[validate_emergency_reason],
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="At least a sentence. The coordinators and the privacy officer read it.",
    )
    confirm = forms.BooleanField(
        label="I need this record for a patient's care now, and I understand that every page I open is recorded "
        "and the coordinators are told at once.",
        error_messages={"required": "Tick this box to confirm."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].error_messages["min_length"] = (
            "Write at least a sentence saying why you need this record now."
        )
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "mrn", "reason", "confirm", Submit("submit", "Open the record", css_class="btn-danger btn-lg")
        )
