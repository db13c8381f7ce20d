from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError


class LoginForm(AuthenticationForm):
    """Django's login form with labels and attributes that suit a tablet."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocapitalize": "none", "autocomplete": "username"})
        self.fields["password"].widget = forms.PasswordInput(attrs={"autocomplete": "current-password"})


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError at the form's fields, or above the form when it names none of them.

    Services name model fields; a form whose fields are named otherwise maps them in ``SERVICE_FIELDS``.
    """
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    renamed = getattr(form, "SERVICE_FIELDS", {})
    for name, messages in error.message_dict.items():
        field = renamed.get(name, name)
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


def inline_helper(*layout) -> FormHelper:
    """A crispy helper for a form the template wraps in its own <form> tag (with its own CSRF token)."""
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    if layout:
        helper.layout = Layout(*layout)
    return helper
