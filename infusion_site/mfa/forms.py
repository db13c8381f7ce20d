from django import forms

from infusion_site.forms import inline_helper


class CodeField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=64, strip=True, **kwargs)


class SecondStepForm(forms.Form):
    """The code from the authenticator app (or a recovery code) typed after the password."""

    token = CodeField(
        label="Enter the 6-digit code from your authenticator app",
        help_text="No phone? Type one of your recovery codes instead.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false", "autofocus": ""}
        ),
        error_messages={"required": "Type the 6-digit code from your authenticator app, or a recovery code."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = inline_helper()


class EnrolForm(forms.Form):
    """The first code the newly set-up authenticator app shows: proof that it holds the secret."""

    token = CodeField(
        label="Enter the 6-digit code your app now shows",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*", "autofocus": ""}
        ),
        error_messages={"required": "Type the 6-digit code your authenticator app shows."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = inline_helper()
