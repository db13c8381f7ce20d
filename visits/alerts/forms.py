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


class AlertKeyForm(forms.Form):
    """Which alert: its key, as the queue printed it (letters, digits, "_" and "-")."""

    key = forms.RegexField(
        regex=r"^[a-z_]+-[A-Za-z0-9_-]+$",
        max_length=120,
        error_messages={
            "required": "That alert is not on the queue any more; the page is up to date now.",
            "invalid": "That alert is not on the queue any more; the page is up to date now.",
            "max_length": "That alert is not on the queue any more; the page is up to date now.",
            "null_characters_not_allowed": "That alert is not on the queue any more; the page is up to date now.",
        },
    )


class ResolveAlertForm(AlertKeyForm):
    note = forms.CharField(
        label="What was done",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": "Write what was done, e.g. “Called the nurse: patient assessed, no reaction”.",
            "max_length": "Keep the note under 2000 characters.",
            "null_characters_not_allowed": "The note has a character that cannot be saved; type it again.",
        },
    )
