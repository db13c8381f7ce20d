import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core import validators
from django.core.exceptions import ValidationError
from django.utils import timezone

from infusion_site import login_throttle

USERNAME_MAX_LENGTH = 150  # Django's User.username
# Django hashes whatever it is given; a megabyte "password" would cost a PBKDF2 run over a megabyte.
PASSWORD_MAX_LENGTH = 4096


def has_control_characters(value: str) -> bool:
    """NUL, tabs, newlines, escape sequences…: nothing a person types as a username, and NUL cannot be stored."""
    return any(unicodedata.category(character) == "Cc" for character in value)


class LoginForm(AuthenticationForm):
    """Django's login form with labels and attributes that suit a tablet.

    A value no account can have is refused at its field before anything (authentication, axes' records) touches
    the database; an account being guessed at from many places is refused for a while without checking the
    password (``login_throttle``).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocapitalize": "none", "autocomplete": "username"})
        self.fields["password"].widget = forms.PasswordInput(attrs={"autocomplete": "current-password"})

    def clean_username(self):
        username = self.cleaned_data["username"]
        # Django sets the field's max_length after the field is built, so its own length check never runs.
        if len(username) > USERNAME_MAX_LENGTH:
            raise ValidationError(
                f"A username has at most {USERNAME_MAX_LENGTH} characters; this one has {len(username)}.",
                code="username_too_long",
            )
        if has_control_characters(username):
            raise ValidationError(
                "A username has only letters, digits and @ . + - _; this one has an invisible control character.",
                code="username_control_character",
            )
        return username

    # A NUL in either field is refused by Django's own validator on every CharField.
    def clean_password(self):
        password = self.cleaned_data["password"]
        if len(password) > PASSWORD_MAX_LENGTH:
            raise ValidationError(
                f"A password has at most {PASSWORD_MAX_LENGTH} characters; this one has {len(password)}.",
                code="password_too_long",
            )
        return password

    def clean(self):
        username = self.cleaned_data.get("username")
        if username and self.cleaned_data.get("password"):
            wait = login_throttle.seconds_to_wait(request=self.request, username=username)
            if wait:
                raise ValidationError(login_throttle.wait_message(wait), code="throttled")
        return super().clean()


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


# --- Bounded input: every value a form accepts fits the column it goes to and makes sense as a date ---------------

# The range of an integer column on every database we run on (PostgreSQL's integer; SQLite holds more). A larger
# number typed into a form is refused next to its field instead of overflowing in the database (a 500).
DB_INTEGER_MIN, DB_INTEGER_MAX = -(2**31), 2**31 - 1
# A free-text field (a note, a reason) with no length of its own: about two typed pages.
TEXT_MAX = 5_000
# A decimal field with no digits or range of its own: no quantity in this app (a dose, a volume, a rate) is larger.
DECIMAL_MAX = Decimal("1000000000")
# A date with no range of its own: clinical dates are recorded or planned within a few years of today.
CLINICAL_YEARS = 10


def _years_from(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class DateRange:
    """The dates a field accepts, worked out when the form is used (so "today" is today), each end with its message."""

    earliest: Callable[[], date]
    latest: Callable[[], date]
    too_early: str = "Check the year: this date is more than {years} years ago."
    too_late: str = "Check the year: this date is more than {years} years ahead."
    years: int = CLINICAL_YEARS

    def __call__(self, value) -> None:
        if value is None:
            return
        if isinstance(value, datetime):
            value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
        if value < self.earliest():
            raise ValidationError(self.too_early.format(years=self.years, day=self.earliest()), code="too_early")
        if value > self.latest():
            raise ValidationError(self.too_late.format(years=self.years, day=self.latest()), code="too_late")


def clinical_dates(*, years_back: int = CLINICAL_YEARS, years_ahead: int = CLINICAL_YEARS) -> DateRange:
    return DateRange(
        earliest=lambda: _years_from(timezone.localdate(), -years_back),
        latest=lambda: _years_from(timezone.localdate(), years_ahead),
        too_early=f"Check the year: this date is more than {years_back} year{'s' if years_back != 1 else ''} ago.",
        too_late=(
            "This date cannot be in the future."
            if years_ahead == 0
            else f"Check the year: this date is more than {years_ahead} year{'s' if years_ahead != 1 else ''} ahead."
        ),
    )


DATE_OF_BIRTH = DateRange(
    earliest=lambda: date(1900, 1, 1),
    latest=timezone.localdate,
    too_early="Check the year: the date of birth is before 1900.",
    too_late="The date of birth cannot be in the future.",
)


def bound_inputs(form: forms.BaseForm, *, dates: dict[str, DateRange | None] | None = None) -> None:
    """Give every field of ``form`` a bound it lacks: text a length, integers the database's range, decimals a
    magnitude, dates a range (``dates`` names a field's own, or None where the form's clean method bounds it; any
    other date is a clinical date within ``CLINICAL_YEARS`` of today). A bound the field already has is kept."""
    dates = dates or {}
    for name, field in form.fields.items():
        if isinstance(field, forms.CharField) and field.max_length is None:
            field.max_length = TEXT_MAX
            field.validators.append(validators.MaxLengthValidator(TEXT_MAX))
            if not field.widget.is_hidden:
                field.widget.attrs.setdefault("maxlength", str(TEXT_MAX))
        elif isinstance(field, forms.DecimalField):
            if field.max_digits is None and field.max_value is None:
                field.validators.append(validators.MaxValueValidator(DECIMAL_MAX))
            if field.max_digits is None and field.min_value is None:
                field.validators.append(validators.MinValueValidator(-DECIMAL_MAX))
        elif isinstance(field, forms.IntegerField) and not isinstance(field, forms.FloatField):
            if field.max_value is None:
                field.validators.append(validators.MaxValueValidator(DB_INTEGER_MAX))
            if field.min_value is None:
                field.validators.append(validators.MinValueValidator(DB_INTEGER_MIN))
        elif isinstance(field, (forms.DateField, forms.DateTimeField)):
            bound = dates[name] if name in dates else clinical_dates()
            if bound is not None:
                field.validators.append(bound)


class BoundedInputMixin:
    """A form whose fields are all bounded (see ``bound_inputs``); ``DATE_RANGES`` names the fields' own ranges."""

    DATE_RANGES: dict[str, DateRange | None] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bound_inputs(self, dates=self.DATE_RANGES)
