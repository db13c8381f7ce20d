"""Forms of the chart's check-in section: validation only; the rules live in visits/chart/checkin/services.py."""

from django import forms

from visits.models import VisitVerification

REASON_MAX = VisitVerification._meta.get_field("void_reason").max_length

INCOMPLETE = "This form is incomplete. Reload the chart and try again."


class LocationForm(forms.Form):
    """What the check-in and check-out buttons send: the section version they were opened on and, when the
    nurse's browser shares it, where the tablet is. Every field but the version may be empty."""

    version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    latitude = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    longitude = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    accuracy_m = forms.FloatField(required=False, min_value=0, widget=forms.HiddenInput)

    error_messages = {"version": INCOMPLETE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].error_messages["required"] = self.error_messages["version"]
        self.fields["version"].error_messages["invalid"] = self.error_messages["version"]
        self.fields["latitude"].label = "Location (latitude)"
        self.fields["longitude"].label = "Location (longitude)"
        self.fields["accuracy_m"].label = "Location accuracy (m)"

    def clean(self):
        cleaned = super().clean()
        latitude, longitude = cleaned.get("latitude"), cleaned.get("longitude")
        if not self.errors and (latitude is None) != (longitude is None):
            raise forms.ValidationError("The location needs both latitude and longitude; it was sent incomplete.")
        return cleaned


class CheckInForm(LocationForm):
    """The check-in button, with the nurse's reason when she checks in outside the visit's window.

    Whether a reason is needed is the service's rule (it depends on the time the check-in reaches the server), so
    the field is optional here.
    """

    window_override_reason = forms.CharField(
        label="Reason for checking in outside the visit's window",
        required=False,
        max_length=VisitVerification._meta.get_field("window_override_reason").max_length,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class UndoCheckInForm(forms.Form):
    """Undoing a mistaken check-in: the version of the check-in the nurse saw, and why."""

    version = forms.IntegerField(
        min_value=0, widget=forms.HiddenInput, error_messages={"required": INCOMPLETE, "invalid": INCOMPLETE}
    )
    void_reason = forms.CharField(
        label="Reason for undoing the check-in",
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Give the reason for undoing the check-in (for example: wrong patient)."},
    )
