from datetime import datetime

from django import forms
from django.urls import Resolver404, resolve

from visits.chart.clock import plausible_recorded_time
from visits.chart.offline.selectors import ENTRY_WORDS


class DiscardForm(forms.Form):
    """What the tablet says of an entry the nurse discards: its id, its address, a summary and her reason."""

    client_id = forms.UUIDField(
        error_messages={"required": "The entry's id is missing.", "invalid": "The entry's id is not readable."}
    )
    action_url = forms.CharField(max_length=200)
    summary = forms.CharField(max_length=300, required=False)
    client_at = forms.CharField(max_length=40, required=False)  # ISO 8601 with the tablet's offset
    reason = forms.CharField(
        max_length=300,
        error_messages={
            "required": "Give the reason for discarding it.",
            "max_length": "Keep the reason under 300 characters.",
        },
    )

    def __init__(self, *args, visit, **kwargs):
        super().__init__(*args, **kwargs)
        self.visit = visit

    def clean_action_url(self):
        """The entry must have been a write to this visit's chart."""
        try:
            match = resolve(self.cleaned_data["action_url"])
        except Resolver404:
            match = None
        if match is None or match.url_name not in ENTRY_WORDS or match.kwargs.get("pk") != self.visit.pk:
            raise forms.ValidationError("That entry is not a write to this visit's chart.")
        return match.url_name

    def clean_client_at(self):
        text = self.cleaned_data.get("client_at")
        try:
            return plausible_recorded_time(datetime.fromisoformat(text)) if text else None
        except ValueError:
            raise forms.ValidationError("The time the entry was recorded is not readable.") from None
