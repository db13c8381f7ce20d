"""Forms of the checklist and vials sections: validation only; the rules live in visits/services/checklist.py."""

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django import forms
from django.utils import timezone

from patients import units
from patients.forms import MeasurementFormMixin, weight_fields
from visits.chart.checklist.services import CHECK_LABELS, mass_text
from visits.models import PreInfusionChecklist, Product

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
BIG_CHECK = forms.CheckboxInput(attrs={"class": "form-check-input fs-3 flex-shrink-0 m-0"})

# Dates typed on a tablet stay in a sensible range, so no arithmetic on them can leave the calendar.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def _check_year(value: date | None, what: str) -> None:
    if value is not None and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise forms.ValidationError(
            f"Check the year of the {what}: it must be between {EARLIEST_YEAR} and {LATEST_YEAR}."
        )


class MarksInvalidMixin:
    """Widgets render with Bootstrap's classes, and ``is-invalid`` once their field has an error."""

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = (widget.attrs.get("class", "") + " is-invalid").strip()


def _style(form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput | forms.CheckboxInput):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)


def version_field():
    return forms.IntegerField(min_value=0, widget=forms.HiddenInput, error_messages={"required": "Reload the section."})


def _label(name: str) -> str:
    return PreInfusionChecklist._meta.get_field(name).verbose_name


class ChecklistForm(MarksInvalidMixin, MeasurementFormMixin, forms.Form):
    version = version_field()
    identifiers_confirmed = forms.BooleanField(label=_label("identifiers_confirmed"), required=False, widget=BIG_CHECK)
    weight_value, weight_unit = weight_fields(required=False)
    kit_epinephrine = forms.BooleanField(label=_label("kit_epinephrine"), required=False, widget=BIG_CHECK)
    kit_diphenhydramine = forms.BooleanField(label=_label("kit_diphenhydramine"), required=False, widget=BIG_CHECK)
    kit_saline = forms.BooleanField(label=_label("kit_saline"), required=False, widget=BIG_CHECK)
    kit_expires_on = forms.DateField(
        label=_label("kit_expires_on"),
        required=False,
        widget=DATE_WIDGET,
        error_messages={"invalid": "Give the kit's expiry as a date like 2026-11-30."},
    )
    no_fever_or_infection = forms.BooleanField(label=_label("no_fever_or_infection"), required=False, widget=BIG_CHECK)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["weight_value"].label = "Weight today"
        self.fields["weight_value"].widget.attrs.update({"inputmode": "decimal", "step": "0.1"})
        _style(self)

    def patient_checks(self):
        return [self["identifiers_confirmed"], self["no_fever_or_infection"]]

    def kit_checks(self):
        return [self["kit_epinephrine"], self["kit_diphenhydramine"], self["kit_saline"]]

    @classmethod
    def initial_for(cls, checklist: PreInfusionChecklist) -> dict:
        return {
            "version": checklist.version,
            "identifiers_confirmed": checklist.identifiers_confirmed,
            "weight_value": checklist.weight_today_kg,
            "weight_unit": units.KG,
            "kit_epinephrine": checklist.kit_epinephrine,
            "kit_diphenhydramine": checklist.kit_diphenhydramine,
            "kit_saline": checklist.kit_saline,
            "kit_expires_on": checklist.kit_expires_on,
            "no_fever_or_infection": checklist.no_fever_or_infection,
        }

    def clean_kit_expires_on(self):
        value = self.cleaned_data["kit_expires_on"]
        _check_year(value, "kit's expiry")
        return value

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("weight_value") is not None and not cleaned.get("weight_unit"):
            self.add_error("weight_unit", "Choose kg or lb.")
        cleaned["weight_today_kg"] = self.clean_weight_kg()
        return cleaned

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "identifiers_confirmed": data["identifiers_confirmed"],
            "weight_today_kg": data["weight_today_kg"],
            "kit_epinephrine": data["kit_epinephrine"],
            "kit_diphenhydramine": data["kit_diphenhydramine"],
            "kit_saline": data["kit_saline"],
            "kit_expires_on": data["kit_expires_on"],
            "no_fever_or_infection": data["no_fever_or_infection"],
        }


class OverrideForm(MarksInvalidMixin, forms.Form):
    version = version_field()
    code = forms.ChoiceField(
        choices=list(CHECK_LABELS.items()),
        widget=forms.HiddenInput,
        error_messages={
            "required": "Say which hard stop to override; reload the section.",
            "invalid_choice": "There is no such hard stop; reload the section.",
        },
    )
    reason = forms.CharField(
        label="Reason to go ahead",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Give a reason to override this stop."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason to override this stop.")
        return reason


class CompleteForm(forms.Form):
    version = version_field()


# --- premedications -------------------------------------------------------------------------------------------

DOSE_UNITS = [("mg", "mg"), ("g", "g"), ("mcg", "mcg"), ("mL", "mL"), ("units", "units")]
ROUTES = [("PO", "PO (mouth)"), ("IV", "IV"), ("IM", "IM"), ("SC", "SC")]
COMMON_PREMEDICATIONS = ["acetaminophen", "diphenhydramine", "cetirizine", "loratadine", "hydrocortisone"]


class PremedicationForm(MarksInvalidMixin, forms.Form):
    drug = forms.CharField(max_length=100, error_messages={"required": "Name the drug given."})
    dose_amount = forms.DecimalField(
        label="Dose",
        min_value=Decimal("0.001"),
        max_value=Decimal("100000"),
        max_digits=9,
        decimal_places=3,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
        error_messages={
            "required": "Give the dose.",
            "invalid": "Give the dose as a number, e.g. 650.",
            "min_value": "Give a dose above 0.",
            "max_value": "Check the dose: it is larger than any premedication dose.",
        },
    )
    dose_unit = forms.ChoiceField(label="Unit", choices=DOSE_UNITS, initial="mg")
    route = forms.ChoiceField(choices=ROUTES, initial="PO")
    given_at = forms.TimeField(
        label="Time given",
        widget=TIME_WIDGET,
        error_messages={"required": "Give the time it was given.", "invalid": "Give the time as 09:45."},
    )

    def __init__(self, *args, zone, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone, self.today = zone, today
        self.fields["drug"].widget.attrs.update({"list": "premedication-drugs", "autocomplete": "off"})
        _style(self)

    def clean_drug(self):
        drug = self.cleaned_data["drug"].strip()
        if not drug:
            raise forms.ValidationError("Name the drug given.")
        return drug

    def clean_given_at(self):
        """A time today in the patient's home."""
        given = self.cleaned_data["given_at"]
        return timezone.make_aware(datetime.combine(self.today, given), self.zone)

    def dose_text(self) -> str:
        amount = self.cleaned_data["dose_amount"].normalize()
        return f"{amount:f} {self.cleaned_data['dose_unit']}"


# --- vials ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScannedVial:
    gtin: str
    lot_number: str
    expires_on: date | None


class BarcodeError(ValueError):
    pass


# GS1 application identifiers on drug vials: fixed-length ones with their lengths; 10 (lot) and 21 (serial)
# are variable and end at a group separator (ASCII 29) or at the end of the code.
_FIXED = {"01": 14, "11": 6, "17": 6}
_VARIABLE = {"10", "21"}
_GROUP_SEPARATOR = "\x1d"


def _gs1_date(text: str) -> date:
    """YYMMDD; day 00 means the last day of the month (GS1 General Specifications 3.4.6)."""
    if not re.fullmatch(r"\d{6}", text):
        raise BarcodeError("the expiry date in the code is not YYMMDD")
    year, month, day = 2000 + int(text[:2]), int(text[2:4]), int(text[4:])
    if not 1 <= month <= 12:
        raise BarcodeError("the expiry month in the code is not 01-12")
    if day == 0:
        day = calendar.monthrange(year, month)[1]
    try:
        return date(year, month, day)
    except ValueError as error:
        raise BarcodeError("the expiry date in the code is not a real date") from error


def parse_vial_barcode(text: str) -> ScannedVial:
    """Read the lot and expiry from a scanned GS1 code: "(01)…(17)YYMMDD(10)LOT", or the raw form with separators."""
    code = text.strip()
    code = re.sub(r"^\][A-Za-z]\d", "", code)  # symbology identifier some scanners send first, e.g. "]d2"
    fields: dict[str, str] = {}
    if code.startswith("("):
        for ai, value in re.findall(r"\((\d{2,4})\)([^(]*)", code):
            fields[ai] = value.strip().rstrip(_GROUP_SEPARATOR)
    else:
        position = 0
        while position < len(code):
            if code[position] == _GROUP_SEPARATOR:
                position += 1
                continue
            ai = code[position : position + 2]
            position += 2
            if ai in _FIXED:
                value = code[position : position + _FIXED[ai]]
                if len(value) != _FIXED[ai]:
                    raise BarcodeError("the code is cut short")
                position += _FIXED[ai]
            elif ai in _VARIABLE:
                end = code.find(_GROUP_SEPARATOR, position)
                end = len(code) if end == -1 else end
                value, position = code[position:end], end
            else:
                raise BarcodeError("the code is not a GS1 drug code")
            fields[ai] = value
    lot = fields.get("10", "").strip()
    if not lot:
        raise BarcodeError("the code holds no lot number")
    expires_on = _gs1_date(fields["17"]) if "17" in fields else None
    return ScannedVial(gtin=fields.get("01", ""), lot_number=lot[:40], expires_on=expires_on)


class VialForm(MarksInvalidMixin, forms.Form):
    scan = forms.CharField(
        label="Scan the vial's barcode",
        required=False,
        max_length=200,
        help_text="Or type the lot and expiry below.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "(01)…(17)…(10)…"}),
    )
    product = forms.ModelChoiceField(
        queryset=Product.objects.order_by("name"),
        empty_label=None,
        error_messages={"invalid_choice": "Choose the product from the list.", "required": "Choose the product."},
    )
    lot_number = forms.CharField(label="Lot number", max_length=40, required=False)
    expires_on = forms.DateField(
        label="Expires on",
        required=False,
        widget=DATE_WIDGET,
        error_messages={"invalid": "Give the expiry as a date like 2027-06-30."},
    )
    size_mg = forms.TypedChoiceField(
        label="Vial size",
        coerce=int,
        error_messages={"required": "Choose the vial size.", "invalid_choice": "Choose one of the vial sizes listed."},
    )

    def __init__(self, *args, product: Product, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("product", product.pk)
        super().__init__(*args, **kwargs)
        sizes = [int(size) for size in product.vial_sizes_mg]
        self.fields["size_mg"].choices = [("", "Choose…")] + [(size, mass_text(size, sizes)) for size in sizes]
        self.fields["lot_number"].widget.attrs.update({"autocomplete": "off", "autocapitalize": "characters"})
        _style(self)

    def clean(self):
        cleaned = super().clean()
        scan = cleaned.get("scan", "")
        if scan:
            try:
                scanned = parse_vial_barcode(scan)
            except BarcodeError as error:
                self.add_error("scan", f"Could not read this code ({error}); type the lot and expiry instead.")
                return cleaned
            if not cleaned.get("lot_number"):
                cleaned["lot_number"] = scanned.lot_number
            if not cleaned.get("expires_on") and scanned.expires_on:
                cleaned["expires_on"] = scanned.expires_on
        lot = (cleaned.get("lot_number") or "").strip()
        cleaned["lot_number"] = lot
        if not lot and "lot_number" not in self.errors:
            self.add_error("lot_number", "Give the lot number printed on the vial.")
        if cleaned.get("expires_on") is None and "expires_on" not in self.errors:
            self.add_error("expires_on", "Give the expiry date printed on the vial.")
        else:
            try:
                _check_year(cleaned.get("expires_on"), "expiry")
            except forms.ValidationError as error:
                self.add_error("expires_on", error)
        return cleaned


class VialVoidForm(MarksInvalidMixin, forms.Form):
    """Taking back a vial entered by mistake: the reason is kept on the voided row and printed with it."""

    reason = forms.CharField(
        label="Why take it back?",
        max_length=300,
        error_messages={"required": "Say why this vial is taken back (e.g. entered twice, wrong lot)."},
    )

    def __init__(self, *args, vial, **kwargs):
        # One form per vial row: the prefix keeps each row's field ids and errors apart.
        kwargs.setdefault("prefix", f"void-{vial.pk}")
        super().__init__(*args, **kwargs)
        self.vial = vial
        self.fields["reason"].widget.attrs.update({"autocomplete": "off", "placeholder": "e.g. entered twice"})
        _style(self)
