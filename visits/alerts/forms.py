"""The small forms of the alert queue, each handled right under its alert."""

from django import forms


class ResolveRequestForm(forms.Form):
    resolution = forms.CharField(
        label="What was done",
        max_length=300,
        error_messages={"required": "Write a short note on what was done, e.g. “Moved to Thu 26 Nov, 10 am”."},
    )


class FollowUpCallForm(forms.Form):
    call_note = forms.CharField(
        label="What the patient said",
        max_length=2000,
        error_messages={"required": "Write what the patient said, e.g. “No symptoms; feeling well”."},
    )
