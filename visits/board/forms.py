"""Forms of the coordinator's board and the nurse availability page: validation and layout only."""

import zoneinfo
from datetime import UTC, date, datetime, timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Fieldset, Layout, Row
from django import forms
from django.utils import timezone

from patients.forms import TIME_ZONE_CHOICES
from visits.models import Competency, NurseProfile, Therapy, WorkingHours

TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
REASON_MAX = 300  # Visit.status_reason

# Dates typed into the board stay in a sensible range, so no arithmetic on them can leave the calendar.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def _check_year(value: date | datetime | None, field_label: str) -> None:
    if value is not None and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise forms.ValidationError(
            f"Check the year of the {field_label}: it must be between {EARLIEST_YEAR} and {LATEST_YEAR}."
        )


# --- the board ---------------------------------------------------------------------------------------------------


SELECT = {"class": "form-select"}


class WeekForm(forms.Form):
    week = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Give the week as a date like 2026-11-23; showing this week instead."},
    )

    def clean_week(self):
        week = self.cleaned_data["week"]
        _check_year(week, "week")
        return week


BOARD_VIEWS = [("day", "Day"), ("3day", "3 days"), ("week", "Week")]


class BoardViewForm(forms.Form):
    """Which days the board shows: the view, the first day (day and 3 days), or a visit to open it on."""

    view = forms.ChoiceField(
        choices=BOARD_VIEWS,
        required=False,
        error_messages={"invalid_choice": "Unknown board view; choose Day, 3 days or Week."},
    )
    day = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Give the day as a date like 2026-11-24; showing today instead."},
    )
    visit = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        error_messages={
            "invalid": "That is not a visit number; showing the board without it.",
            "min_value": "That is not a visit number; showing the board without it.",
            "max_value": "That is not a visit number; showing the board without it.",
        },
    )

    def clean_day(self):
        day = self.cleaned_data["day"]
        _check_year(day, "day")
        return day


PAGE_ERROR = {
    key: "That is not a page number; showing the first page." for key in ("invalid", "min_value", "max_value")
}
ALL_TEAMS, MY_TEAMS = "all", "mine"


class BoardFilterForm(forms.Form):
    """What the board shows beyond its days. Ids only in the address: a patient is found with the search
    (PatientSearchForm, posted) and then filtered by id; a nurse by id (from a link) or by the name typed."""

    team = forms.ChoiceField(
        required=False,
        widget=forms.Select(attrs=SELECT),
        error_messages={"invalid_choice": "There is no team with that id; showing your own teams."},
    )
    nurse = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        error_messages={
            key: "There is no active nurse with that id; showing every nurse."
            for key in ("invalid", "min_value", "max_value")
        },
    )
    nurse_q = forms.CharField(required=False, max_length=100, strip=True)
    patient = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        error_messages={
            key: "There is no patient with that id; showing every patient."
            for key in ("invalid", "min_value", "max_value")
        },
    )
    therapy = forms.ChoiceField(
        choices=[("", "All therapies"), *Therapy.choices],
        required=False,
        widget=forms.Select(attrs=SELECT),
        error_messages={"invalid_choice": "Unknown therapy; showing every therapy."},
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000, error_messages=PAGE_ERROR)
    open_page = forms.IntegerField(required=False, min_value=1, max_value=100_000, error_messages=PAGE_ERROR)

    def __init__(self, *args, teams, find_nurse, find_patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [
            (MY_TEAMS, "My teams"),
            (ALL_TEAMS, "All teams"),
            *[(str(team.pk), team.name) for team in teams],
        ]
        self.find_nurse, self.find_patient = find_nurse, find_patient
        self.nurse_shown = self.patient_shown = None

    def clean_nurse(self):
        nurse_id = self.cleaned_data["nurse"]
        if nurse_id is None:
            return None
        self.nurse_shown = self.find_nurse(nurse_id)
        if self.nurse_shown is None:
            raise forms.ValidationError("There is no active nurse with that id; showing every nurse.")
        return nurse_id

    def clean_patient(self):
        patient_id = self.cleaned_data["patient"]
        if patient_id is None:
            return None
        self.patient_shown = self.find_patient(patient_id)
        if self.patient_shown is None:
            raise forms.ValidationError("There is no patient with that id; showing every patient.")
        return patient_id


class PatientSearchForm(forms.Form):
    """Posted, so the name typed never reaches an address or a log line."""

    q = forms.CharField(
        label="Find a patient",
        max_length=100,
        strip=True,
        error_messages={"required": "Type a name, an MRN or a date of birth."},
    )


class NursePickerForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, strip=True)
    scope = forms.ChoiceField(choices=[("", "The patient's team"), (ALL_TEAMS, "Every team")], required=False)


class AssignForm(forms.Form):
    """The nurse chosen in the shared picker, by id; looked up, not chosen from a list of every nurse."""

    NOT_A_NURSE = "That nurse is not on the list of active nurses; choose one from the list."

    nurse = forms.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        error_messages={
            "required": "Choose a nurse.",
            "invalid": NOT_A_NURSE,
            "min_value": NOT_A_NURSE,
            "max_value": NOT_A_NURSE,
        },
    )
    override_reason = forms.CharField(required=False, max_length=REASON_MAX)

    def __init__(self, *args, find_nurse, **kwargs):
        super().__init__(*args, **kwargs)
        self.find_nurse = find_nurse

    def clean_nurse(self):
        nurse = self.find_nurse(self.cleaned_data["nurse"])
        if nurse is None:
            raise forms.ValidationError(self.NOT_A_NURSE)
        return nurse


class UnassignForm(forms.Form):
    reason = forms.CharField(required=False, max_length=REASON_MAX)


class RescheduleForm(forms.Form):
    """A new local date and time in the patient's time zone."""

    new_date = forms.DateField(
        input_formats=["%Y-%m-%d"],
        error_messages={"required": "Choose the new date.", "invalid": "Give the date as YYYY-MM-DD."},
    )
    new_time = forms.TimeField(
        input_formats=["%H:%M", "%H:%M:%S"],
        error_messages={"required": "Choose the new time.", "invalid": "Give the time as HH:MM, e.g. 09:30."},
    )
    reason = forms.CharField(required=False, max_length=REASON_MAX)
    override_reason = forms.CharField(required=False, max_length=REASON_MAX)

    def __init__(self, *args, zone: zoneinfo.ZoneInfo, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone

    def clean_new_date(self):
        new_date = self.cleaned_data["new_date"]
        today = timezone.localdate(timezone=self.zone)
        if new_date < today:
            raise forms.ValidationError("This date has passed; choose today or a later date.")
        if new_date > today + timedelta(days=730):
            raise forms.ValidationError("Choose a date within the next two years.")
        return new_date

    def clean(self):
        cleaned = super().clean()
        new_date, new_time = cleaned.get("new_date"), cleaned.get("new_time")
        if new_date is None or new_time is None:
            return cleaned
        local = datetime.combine(new_date, new_time, tzinfo=self.zone)
        round_trip = local.astimezone(UTC).astimezone(self.zone)
        if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
            self.add_error(
                "new_time",
                f"{new_time:%H:%M} does not exist on {new_date:%Y-%m-%d} in {self.zone.key}: the clocks go "
                "forward then. Choose another time.",
            )
            return cleaned
        cleaned["new_start"] = local.astimezone(UTC)
        return cleaned


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX, error_messages={"required": "Give a reason for cancelling the visit."}
    )


class MissedForm(forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX, error_messages={"required": "Give a reason why the visit was missed."}
    )


# --- nurse availability ------------------------------------------------------------------------------------------


def _inline_helper() -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    return helper


class NurseProfileForm(forms.ModelForm):
    competencies = forms.MultipleChoiceField(
        choices=Competency.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="A visit whose therapy needs a competency the nurse lacks is flagged when assigning.",
    )
    time_zone = forms.ChoiceField(choices=TIME_ZONE_CHOICES, help_text="Working hours are in this time zone.")

    class Meta:
        model = NurseProfile
        fields = ["competencies", "max_visits_per_day", "travel_buffer_minutes", "time_zone"]
        labels = {
            "max_visits_per_day": "Maximum visits a day",
            "travel_buffer_minutes": "Travel buffer between visits (minutes)",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _inline_helper()
        self.helper.layout = Layout(
            Fieldset(
                "Workload",
                Row(Column("max_visits_per_day"), Column("travel_buffer_minutes"), Column("time_zone")),
            ),
            Field("competencies"),
        )


class WeeklyHoursForm(forms.Form):
    """Seven rows: a start and an end, or “Off”."""

    DAYS = [(weekday, label, label.lower()) for weekday, label in WorkingHours.Weekday.choices]

    def __init__(self, *args, shifts=(), **kwargs):
        super().__init__(*args, **kwargs)
        by_weekday = {shift.weekday: shift for shift in shifts}
        rows = []
        for weekday, label, key in self.DAYS:
            shift = by_weekday.get(weekday)
            self.fields[f"{key}_starts"] = forms.TimeField(
                label="Starts",
                required=False,
                widget=TIME_WIDGET,
                initial=shift.starts if shift else None,
                error_messages={"invalid": "Give the time as HH:MM, e.g. 08:00."},
            )
            self.fields[f"{key}_ends"] = forms.TimeField(
                label="Ends",
                required=False,
                widget=TIME_WIDGET,
                initial=shift.ends if shift else None,
                error_messages={"invalid": "Give the time as HH:MM, e.g. 17:00."},
            )
            self.fields[f"{key}_off"] = forms.BooleanField(label="Off", required=False, initial=shift is None)
            rows.append(
                Fieldset(
                    label,
                    Row(
                        Column(f"{key}_starts", css_class="col-5 col-md-4"),
                        Column(f"{key}_ends", css_class="col-5 col-md-4"),
                        Column(f"{key}_off", css_class="col-2 col-md-4 pt-4"),
                    ),
                )
            )
        self.helper = _inline_helper()
        self.helper.layout = Layout(*rows)

    def clean(self):
        cleaned = super().clean()
        week = {}
        for weekday, label, key in self.DAYS:
            if cleaned.get(f"{key}_off"):
                week[weekday] = None
                continue
            if f"{key}_starts" in self.errors or f"{key}_ends" in self.errors:
                continue
            starts, ends = cleaned.get(f"{key}_starts"), cleaned.get(f"{key}_ends")
            if starts is None and ends is None:
                self.add_error(f"{key}_starts", f"Give {label}'s hours, or tick “Off”.")
            elif starts is None:
                self.add_error(f"{key}_starts", "Give the start too, or tick “Off”.")
            elif ends is None:
                self.add_error(f"{key}_ends", "Give the end too, or tick “Off”.")
            elif ends <= starts:
                self.add_error(f"{key}_ends", f"The end ({ends:%H:%M}) must be after the start ({starts:%H:%M}).")
            else:
                week[weekday] = (starts, ends)
        cleaned["week"] = week
        return cleaned


class TimeOffForm(forms.Form):
    """Dates and times in the nurse's time zone (the view activates it)."""

    starts_at = forms.DateTimeField(
        label="Off from", widget=DATETIME_WIDGET, error_messages={"required": "Give when the time off starts."}
    )
    ends_at = forms.DateTimeField(
        label="Back at",
        widget=DATETIME_WIDGET,
        error_messages={"required": "Give when the nurse is back."},
        help_text="For whole days, the midnight after the last day off.",
    )
    reason = forms.CharField(required=False, max_length=200, help_text="Vacation, training, sick leave…")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _inline_helper()
        self.helper.layout = Layout(Row(Column("starts_at"), Column("ends_at"), Column("reason")))

    def clean_starts_at(self):
        starts_at = self.cleaned_data["starts_at"]
        _check_year(starts_at, "start")
        return starts_at

    def clean_ends_at(self):
        ends_at = self.cleaned_data["ends_at"]
        _check_year(ends_at, "end")
        return ends_at

    def clean(self):
        cleaned = super().clean()
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", "The time off must end after it starts.")
        return cleaned
