"""Chart section "checkin": check-in and check-out with the browser's location (DESIGN §3 "Check-in")."""

from django import forms

from visits.chart.checkin.services import CHECK_OUT_STATUSES, checkin_radius_m, location_not_verified_reason
from visits.chart.rules import OPEN_STATUSES
from visits.models import Visit, VisitVerification


class LocationForm(forms.Form):
    """What the check-in and check-out buttons send: the section version they were opened on and, when the
    nurse's browser shares it, where the tablet is. Every field but the version may be empty."""

    version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    latitude = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    longitude = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    accuracy_m = forms.FloatField(required=False, min_value=0, widget=forms.HiddenInput)

    error_messages = {"version": "This form is incomplete. Reload the chart and try again."}

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


def verification_of(visit: Visit) -> VisitVerification | None:
    return VisitVerification.objects.select_related("nurse").filter(visit=visit, voided_at__isnull=True).first()


def context(*, visit, user, bound=None) -> dict:
    verification = verification_of(visit) if visit.pk else None
    can_check_in = verification is None and visit.status in OPEN_STATUSES
    can_check_out = (
        verification is not None and verification.checked_out_at is None and visit.status in CHECK_OUT_STATUSES
    )
    reasons = {}
    if verification is not None:
        if not verification.check_in_verified:
            reasons["in"] = location_not_verified_reason(verification)
        if verification.checked_out_at and not verification.check_out_verified:
            reasons["out"] = location_not_verified_reason(verification, out=True)
    return {
        "verification": verification,
        "version": verification.version if verification else 0,
        "form": bound if bound is not None else LocationForm(),
        "radius_m": checkin_radius_m(),
        "can_check_in": can_check_in,
        "can_check_out": can_check_out,
        "check_in_reason": reasons.get("in", ""),
        "check_out_reason": reasons.get("out", ""),
    }
