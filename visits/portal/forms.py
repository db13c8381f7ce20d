from crispy_forms.helper import FormHelper
from django import forms

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
