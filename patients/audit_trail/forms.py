"""The privacy officer's search form: a patient (name, MRN or date of birth), a user, a date range."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from patients.audit_trail.selectors import AuditSearch
from patients.models import Patient

# More matches than this and the officer is asked to be more precise (the MRN names one patient).
MATCHES_SHOWN = 8


def _names(people, text) -> str:
    return "; ".join(text(person) for person in people[:MATCHES_SHOWN])


class AuditSearchForm(forms.Form):
    patient = forms.CharField(
        label="Patient",
        required=False,
        max_length=100,
        help_text="Name, MRN or date of birth (YYYY-MM-DD). Sent with the form, never in the address.",
    )
    user = forms.CharField(
        label="User", required=False, max_length=150, help_text="Username or full name of a staff member or patient."
    )
    since = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Give the date like 2026-12-01."},
    )
    until = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Give the date like 2026-12-31."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")
            field.widget.attrs.setdefault("autocomplete", "off")
        self.found_patient = None
        self.found_user = None

    def clean_patient(self):
        text = self.cleaned_data["patient"].strip()
        if not text:
            return ""
        matches = list(Patient.objects.search(text).order_by("last_name", "first_name", "pk")[: MATCHES_SHOWN + 1])
        exact = [patient for patient in matches if patient.mrn.lower() == text.lower()]
        if exact:
            matches = exact
        if not matches:
            raise forms.ValidationError("No patient matches this name, MRN or date of birth.")
        if len(matches) > 1:
            more = " and more" if len(matches) > MATCHES_SHOWN else ""
            raise forms.ValidationError(
                "Several patients match: "
                + _names(matches, lambda p: f"{p.full_name} (MRN {p.mrn})")
                + f"{more}. Give the MRN to choose one."
            )
        self.found_patient = matches[0]
        return text

    def clean_user(self):
        text = self.cleaned_data["user"].strip()
        if not text:
            return ""
        users = get_user_model().objects.all()
        exact = list(users.filter(username__iexact=text)[:2])
        if len(exact) == 1:
            self.found_user = exact[0]
            return text
        every_word = Q()
        for word in text.split():
            every_word &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
        matches = list(users.filter(every_word).order_by("last_name", "first_name", "pk")[: MATCHES_SHOWN + 1])
        if not matches:
            raise forms.ValidationError("No user has this username or name.")
        if len(matches) > 1:
            raise forms.ValidationError(
                "Several users match: "
                + _names(matches, lambda u: f"{u.get_full_name()} ({u.get_username()})")
                + ". Give the username to choose one."
            )
        self.found_user = matches[0]
        return text

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "The end of the range is before its start.")
        return cleaned

    def search(self) -> AuditSearch:
        return AuditSearch(
            patient_id=self.found_patient.pk if self.found_patient else None,
            user_id=self.found_user.pk if self.found_user else None,
            since=self.cleaned_data.get("since"),
            until=self.cleaned_data.get("until"),
        )
