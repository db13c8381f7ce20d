"""The teaching checklist form: parsing and field messages only; what signing needs is the service's rule."""

from django import forms

from visits.scig.services import TEACHING_ITEMS

TEXT_MAX = 4000


class TeachingForm(forms.Form):
    items = forms.MultipleChoiceField(
        label="Shown back by the patient",
        choices=list(TEACHING_ITEMS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    notes = forms.CharField(
        label="Teaching notes", required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 4})
    )
    # Only signing needs it (the service asks for it again); saving the checklist does not.
    password = forms.CharField(
        label="Your password, to sign as ready to self-infuse",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
