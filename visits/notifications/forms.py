"""Forms for notification preferences, the follow-up questions after IVIG, and the coordinator's call note."""

from crispy_forms.layout import Div, Fieldset
from django import forms
from django.utils import timezone

from infusion_site import messaging
from infusion_site.forms import inline_helper
from visits.models import REMINDER_LEAD_CHOICES, FollowUp, NotificationPreference
from visits.notifications.followups import questions_for


class PreferenceForm(forms.ModelForm):
    """Patients choose channels, lead times and quiet hours; staff choose channels."""

    reminder_hours = forms.TypedMultipleChoiceField(
        label="Remind me before each visit",
        choices=REMINDER_LEAD_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    quiet = forms.BooleanField(
        label="Keep quiet hours (nothing is sent then; it waits until they end)", required=False, initial=True
    )

    class Meta:
        model = NotificationPreference
        fields = ["by_email", "by_sms", "in_app", "phone", "reminder_hours", "quiet_start", "quiet_end"]
        widgets = {
            "quiet_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        }

    def __init__(self, *args, for_patient: bool, fallback_phone: str = "", zone_name: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.for_patient = for_patient
        self.fallback_phone = fallback_phone
        if self.instance.pk:
            self.fields["quiet"].initial = self.instance.quiet_start is not None
        if for_patient:
            del self.fields["in_app"]
            self.fields["by_email"].label = "Email me"
            self.fields["by_sms"].label = "Text me (SMS)"
            self.fields["phone"].help_text = (
                f"Leave empty to use the number we have on file ({fallback_phone})."
                if fallback_phone
                else "We have no phone number on file for you."
            )
            self.fields["quiet_start"].help_text = f"Your time ({zone_name})." if zone_name else ""
            layout = [
                Fieldset("How to reach me", "by_email", "by_sms", "phone"),
                Fieldset("When", "reminder_hours", "quiet", Div("quiet_start", "quiet_end", css_class="d-flex gap-3")),
            ]
        else:
            for name in ("reminder_hours", "quiet", "quiet_start", "quiet_end"):
                del self.fields[name]
            self.fields["by_email"].label = "Email"
            self.fields["in_app"].label = "In the app (the bell in the menu)"
            self.fields["in_app"].help_text = ""
            self.fields["phone"].help_text = "Needed for texts."
            layout = [Fieldset("How to reach me", "in_app", "by_email", "by_sms", "phone")]
        self.helper = inline_helper(*layout)

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if phone:
            try:
                return messaging.normalise_phone(phone)
            except messaging.PermanentDeliveryError:
                raise forms.ValidationError("Enter a mobile number with its area code, e.g. 555 201 3344.") from None
        return phone

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("by_sms") and not (cleaned.get("phone") or self.fallback_phone) and "phone" not in self.errors:
            self.add_error("phone", f"Give a mobile number for texts, or untick “{self.fields['by_sms'].label}”.")
        if self.for_patient:
            if cleaned.get("quiet"):
                for name in ("quiet_start", "quiet_end"):
                    if cleaned.get(name) is None and name not in self.errors:
                        self.add_error(name, "Give a time, or untick quiet hours.")
                start, end = cleaned.get("quiet_start"), cleaned.get("quiet_end")
                if start is not None and start == end:
                    self.add_error("quiet_end", "Quiet hours must end at a different time than they start.")
            else:
                cleaned["quiet_start"] = cleaned["quiet_end"] = None
        return cleaned

    def _post_clean(self):
        # A refused quiet time keeps the saved one on the instance, so the model's own quiet-hours checks would
        # add a second, contradictory message ("Give both ends…") below the one given above.
        if self.has_error("quiet_start") or self.has_error("quiet_end"):
            return
        super()._post_clean()


class FollowUpForm(forms.Form):
    """Yes/no for each question, when it started, and a note."""

    started_on = forms.DateField(
        label="If yes: on what day did it start?",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = forms.CharField(
        label="Anything you want to tell us (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, follow_up: FollowUp, **kwargs):
        super().__init__(*args, **kwargs)
        self.follow_up = follow_up
        self.questions = questions_for(follow_up)
        for question in self.questions:
            self.fields[question.key] = forms.TypedChoiceField(
                label=question.text,
                choices=[("yes", "Yes"), ("no", "No")],
                coerce=lambda value: value == "yes",
                widget=forms.RadioSelect,  # crispy-bootstrap5 gives each radio its form-check-input class
                error_messages={"required": "Please answer yes or no."},
            )
        self.order_fields([question.key for question in self.questions] + ["started_on", "note"])
        self.helper = inline_helper()

    def clean_started_on(self):
        started_on = self.cleaned_data["started_on"]
        if started_on is None:
            return None
        zone = self.follow_up.visit.patient.zone
        if started_on > timezone.localdate(timezone.now(), zone):
            raise forms.ValidationError("That day has not come yet; give the day it started.")
        if started_on < timezone.localtime(self.follow_up.visit.planned_start, zone).date():
            raise forms.ValidationError("That is before the infusion; give a day after it.")
        return started_on

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("other") and not (cleaned.get("note") or "").strip():
            self.add_error("note", "Tell us in a few words what else is new.")
        return cleaned

    def answers(self) -> dict[str, bool]:
        return {question.key: self.cleaned_data[question.key] for question in self.questions}
