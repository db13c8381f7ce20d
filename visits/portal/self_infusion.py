"""The patient's SCIG self-infusion log in the portal: when, which sites and how much at each, the lots, and reactions.

A patient logs here only once a nurse has signed their teaching as ready to self-infuse. A systemic reaction and a
weekly dose not logged reach the coordinator's alert queue (``visits.alerts.scig_sources``); the lots are in the
lot recall like the nurses' vials.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from crispy_forms.helper import FormHelper
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from patients.models import Patient
from visits.alerts.scig_sources import missed_dose_grace_days, next_dose_day
from visits.models import LabelLimit, ScigTeaching, SelfInfusion, SelfInfusionVial, Therapy, TherapyOrder
from visits.scig.sites import SITES

# No single site takes more than this whatever the label: a larger number is a typing slip.
SITE_VOLUME_MAX = Decimal("100")
SITE_VOLUME_MIN = Decimal("0.1")
VIALS_MAX = 10
LOT_MAX_LENGTH = 40
TEXT_MAX = 2000
RECENT_SHOWN = 3

LOCAL_REACTIONS = {
    "swelling": "Swelling",
    "redness": "Redness",
    "itching": "Itching",
    "pain": "Pain or tenderness at a site",
}

# The body areas the map groups the sites by, top to bottom.
BODY_AREAS = {
    "upper_arm": "Upper arms",
    "abdomen": "Abdomen (belly)",
    "flank": "Flanks (sides of the hips)",
    "thigh": "Thighs",
}

NOT_TAUGHT_MESSAGE = "Your nurse will teach you first. You can log your infusions here once they have signed you off."
FUTURE_MESSAGE = "That time has not come yet. Please give the day and time you started the infusion."
VOLUME_MESSAGE = f"Please give the mL at this site, from {SITE_VOLUME_MIN} to {SITE_VOLUME_MAX:.0f}, e.g. 14.3."
NO_SITE_MESSAGE = "Please tick at least one site you used, and give the mL at each."
NO_VIAL_MESSAGE = "Please give the lot number and expiry date of at least one vial."
DUPLICATE_MESSAGE = "You have already logged an infusion at that time."


def site_area(code: str) -> str:
    return code.rsplit("_", 1)[0]


def volume_field(name: str) -> str:
    return f"volume_{name}"


def site_field(name: str) -> str:
    return f"site_{name}"


# --- Reads --------------------------------------------------------------------------------------


def scig_order_for(patient: Patient) -> TherapyOrder | None:
    """The patient's active SCIG order (the latest, if there are several)."""
    return (
        TherapyOrder.objects.filter(patient=patient, status=TherapyOrder.Status.ACTIVE, product__therapy=Therapy.SCIG)
        .select_related("product")
        .order_by("-start_date", "-pk")
        .first()
    )


def teaching_for(patient: Patient) -> ScigTeaching | None:
    """The latest teaching a nurse signed saying the patient is ready to self-infuse."""
    return (
        ScigTeaching.objects.filter(patient=patient, ready_to_self_infuse=True, signed_at__isnull=False)
        .order_by("-signed_at", "-pk")
        .first()
    )


def later_site_volume_limit(order: TherapyOrder) -> Decimal | None:
    """The label's per-site volume for later infusions, for the order's indication (else the product's lowest)."""
    limits = [
        limit
        for limit in LabelLimit.objects.filter(product_id=order.product_id, later_site_volume_ml__isnull=False)
        if limit.later_site_volume_ml > 0
    ]
    for limit in limits:
        if limit.indication == order.indication:
            return limit.later_site_volume_ml
    return min((limit.later_site_volume_ml for limit in limits), default=None)


def moment_text(moment: datetime, zone) -> str:
    """“Tue 24 Nov, 7:30 pm” in the patient's time zone (with the year when it is not this year)."""
    local = timezone.localtime(moment, zone)
    day = f"{local:%a} {local.day} {local:%b}"
    if local.year != timezone.localtime(timezone.now(), zone).year:
        day += f" {local.year}"
    return f"{day}, {local.hour % 12 or 12}:{local.minute:02d} {'am' if local.hour < 12 else 'pm'}"


def day_words(day: date, today: date) -> str:
    text = f"{day:%A} {day.day} {day:%B}"
    if day == today:
        return f"today, {text}"
    if day == today + timedelta(days=1):
        return f"tomorrow, {text}"
    return text


@dataclass
class LoggedInfusion:
    """One self-infusion as the patient (or their care team) reads it."""

    log: SelfInfusion
    when: str
    sites: list[tuple[str, str]]  # (label, volume)
    local_reactions: str
    lots: list[SelfInfusionVial]


def logged_infusion(log: SelfInfusion, zone) -> LoggedInfusion:
    return LoggedInfusion(
        log=log,
        when=moment_text(log.infused_at, zone),
        sites=[(SITES.get(entry.get("site"), entry.get("site")), entry.get("volume_ml")) for entry in log.sites],
        local_reactions=", ".join(LOCAL_REACTIONS.get(code, code).lower() for code in log.local_reactions) or "none",
        lots=list(log.vials.all()),
    )


@dataclass
class SelfInfusionSummary:
    """What the portal home says about SCIG at home."""

    order: TherapyOrder
    taught: bool
    recent: list[LoggedInfusion]
    next_due: str
    overdue: bool


def self_infusion_summary(*, patient: Patient, now: datetime) -> SelfInfusionSummary | None:
    """None for a patient without an active SCIG order (the home then says nothing about it)."""
    order = scig_order_for(patient)
    if order is None:
        return None
    teaching = teaching_for(patient)
    if teaching is None:
        return SelfInfusionSummary(order=order, taught=False, recent=[], next_due="", overdue=False)
    zone = patient.zone
    logs = list(SelfInfusion.objects.filter(patient=patient).prefetch_related("vials")[:RECENT_SHOWN])
    last = max([teaching.signed_at, *(log.infused_at for log in logs[:1])])
    due = next_dose_day(last=last, zone=zone)
    today = timezone.localtime(now, zone).date()
    return SelfInfusionSummary(
        order=order,
        taught=True,
        recent=[logged_infusion(log, zone) for log in logs],
        next_due=day_words(due, today),
        overdue=(today - due).days > missed_dose_grace_days(),
    )


# --- Rules the form and the service share -------------------------------------------------------------


def infused_at_problem(*, infused_at: datetime, now: datetime, signed_at: datetime, zone) -> str:
    """Why the infusion time cannot be right, or "". Compared as the patient's local wall time (no overflow)."""
    try:
        wall = timezone.localtime(infused_at, zone).replace(tzinfo=None)
    except OverflowError:  # the first or last day a datetime can hold, moved across zones
        return FUTURE_MESSAGE if infused_at.year > 1 else "Please give the day and time you started the infusion."
    if wall > timezone.localtime(now, zone).replace(tzinfo=None):
        return FUTURE_MESSAGE
    signed = timezone.localtime(signed_at, zone)
    if wall.date() < signed.date():
        signed_day = f"{signed:%a} {signed.day} {signed:%b} {signed.year}"
        return f"That is before your nurse signed off your teaching ({signed_day})."
    return ""


def expired_lot_problem(*, expires_on: date, infused_on: date) -> str:
    if expires_on < infused_on:
        return (
            f"This vial expired on {expires_on:%Y-%m-%d}, before the infusion. Do not use expired vials: call us at "
            f"{settings.AGENCY_PHONE} for new ones."
        )
    return ""


def site_volume_problem(volume: Decimal) -> str:
    return "" if SITE_VOLUME_MIN <= volume <= SITE_VOLUME_MAX else VOLUME_MESSAGE


# --- Writes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VialEntry:
    lot_number: str
    expires_on: date
    size_mg: int


def self_infusion_log(
    *,
    patient: Patient,
    order: TherapyOrder,
    infused_at: datetime,
    sites: dict[str, Decimal],
    vials: list[VialEntry],
    local_reactions: list[str],
    systemic_reaction: str = "",
    notes: str = "",
    by,
) -> SelfInfusion:
    """Record one self-infusion and its vials, or refuse with the reason next to the field it is about."""
    teaching = teaching_for(patient)
    if teaching is None:
        raise ValidationError(NOT_TAUGHT_MESSAGE, code="not_taught")
    if order.patient_id != patient.pk or order.status != TherapyOrder.Status.ACTIVE:
        raise ValidationError("This SCIG order is not active for you. Please call us.", code="order")
    if order.product.therapy != Therapy.SCIG:
        raise ValidationError("This order is not for SCIG at home.", code="order")
    zone = patient.zone
    errors: dict[str, list[str]] = {}
    now = timezone.now()
    if problem := infused_at_problem(infused_at=infused_at, now=now, signed_at=teaching.signed_at, zone=zone):
        errors["infused_at"] = [problem]
    if not sites:
        errors["sites"] = [NO_SITE_MESSAGE]
    for code, volume in sites.items():
        if code not in SITES:
            errors.setdefault("sites", []).append("Please choose the sites from the list.")
        elif problem := site_volume_problem(volume):
            errors[volume_field(code)] = [problem]
    if not vials:
        errors["vials"] = [NO_VIAL_MESSAGE]
    if "infused_at" not in errors:
        infused_on = timezone.localtime(infused_at, zone).date()
        for number, vial in enumerate(vials):
            if problem := expired_lot_problem(expires_on=vial.expires_on, infused_on=infused_on):
                errors[f"vial-{number}-expires_on"] = [problem]
    unknown = [code for code in local_reactions if code not in LOCAL_REACTIONS]
    if unknown:
        errors["local_reactions"] = ["Please choose from the list."]
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        # Lock the patient so a form sent twice (a double tap, a retry) is recorded once.
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        if SelfInfusion.objects.filter(patient=patient, infused_at=infused_at).exists():
            raise ValidationError({"infused_at": [DUPLICATE_MESSAGE]}, code="duplicate")
        log = SelfInfusion(
            patient=patient,
            order=order,
            infused_at=infused_at,
            sites=[{"site": code, "volume_ml": str(volume)} for code, volume in sites.items()],
            volume_ml=sum(sites.values(), Decimal("0")),
            local_reactions=list(local_reactions),
            systemic_reaction=systemic_reaction.strip(),
            notes=notes.strip(),
            recorded_by=by,
            recorded_at=now,
        )
        log.full_clean()
        log.save()
        for vial in vials:
            row = SelfInfusionVial(
                self_infusion=log,
                product=order.product,
                lot_number=vial.lot_number,
                expires_on=vial.expires_on,
                size_mg=vial.size_mg,
            )
            row.full_clean()
            row.save()
    return log


# --- Forms --------------------------------------------------------------------------------------------


class LocalDateTimeField(forms.DateTimeField):
    """A date and time read as the patient's wall-clock time, whatever the server's zone."""

    def __init__(self, *args, zone=None, **kwargs):
        self.zone = zone
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        with timezone.override(self.zone or timezone.get_current_timezone()):
            return super().to_python(value)


def text_field(label: str, *, help_text: str = "", rows: int = 3) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=TEXT_MAX,
        help_text=help_text,
        error_messages={
            "max_length": f"Please keep this to {TEXT_MAX:,} characters or fewer.",
            "null_characters_not_allowed": "This text has a character that cannot be saved. Please type it again.",
        },
        widget=forms.Textarea(attrs={"rows": rows, "class": "form-control-lg"}),
    )


VOLUME_ERRORS = {
    key: VOLUME_MESSAGE
    for key in ("invalid", "min_value", "max_value", "max_digits", "max_decimal_places", "max_whole_digits")
}


class SelfInfusionForm(forms.Form):
    infused_at = LocalDateTimeField(
        label="When did you start?",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={
            "required": "Please give the day and time you started the infusion.",
            "invalid": "Please give the day and time, for example 2026-11-20 at 7:30 pm.",
        },
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "class": "form-control-lg"}),
    )
    local_reactions = forms.MultipleChoiceField(
        label="At the sites, did you notice…",
        required=False,
        choices=list(LOCAL_REACTIONS.items()),
        help_text="Some swelling and redness is common and usually goes within a day or two. Leave all unticked if "
        "you noticed nothing.",
        error_messages={"invalid_choice": "Please choose from the list."},
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input-lg"}),
    )
    systemic_reaction = text_field(
        "Did you feel unwell in any other way? (optional)",
        help_text="For example: fever, chills, headache, feeling sick, dizzy or breathless. Write what you felt and "
        "when.",
    )
    notes = text_field("Anything else for your nurse? (optional)")
    volumes_confirmed = forms.BooleanField(
        label="These amounts are right", required=False, widget=forms.CheckboxInput(attrs={"class": "form-check-input"})
    )

    def __init__(self, *args, zone, now: datetime, signed_at: datetime, site_limit: Decimal | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone, self.now, self.signed_at, self.site_limit = zone, now, signed_at, site_limit
        self.fields["infused_at"].zone = zone
        self.fields["infused_at"].widget.attrs["max"] = timezone.localtime(now, zone).strftime("%Y-%m-%dT%H:%M")
        for code, label in SITES.items():
            self.fields[site_field(code)] = forms.BooleanField(label=label, required=False)
            self.fields[volume_field(code)] = forms.DecimalField(
                label=f"mL at {label.lower()}",
                required=False,
                max_digits=4,
                decimal_places=1,
                min_value=SITE_VOLUME_MIN,
                max_value=SITE_VOLUME_MAX,
                error_messages=VOLUME_ERRORS,
                widget=forms.NumberInput(attrs={"class": "form-control-lg", "inputmode": "decimal", "step": "0.1"}),
            )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def body_areas(self) -> list[tuple[str, list[tuple]]]:
        """The sites grouped by body area, each (checkbox, volume) as bound fields, for the template."""
        areas = []
        for area, title in BODY_AREAS.items():
            codes = [code for code in SITES if site_area(code) == area]
            areas.append((title, [(code, self[site_field(code)], self[volume_field(code)]) for code in codes]))
        return areas

    def clean_infused_at(self):
        infused_at = self.cleaned_data["infused_at"]
        problem = infused_at_problem(infused_at=infused_at, now=self.now, signed_at=self.signed_at, zone=self.zone)
        if problem:
            raise forms.ValidationError(problem, code="infused_at")
        return infused_at

    def clean(self):
        cleaned = super().clean()
        chosen = {}
        for code, label in SITES.items():
            ticked = cleaned.get(site_field(code))
            volume = cleaned.get(volume_field(code))
            if volume_field(code) in self.errors:
                continue
            if ticked and volume is None:
                self.add_error(volume_field(code), f"Please give the mL you put in at {label.lower()}.")
            elif volume is not None and not ticked:
                self.add_error(volume_field(code), f"Tick {label.lower()} too, or clear this amount.")
            elif ticked:
                chosen[code] = volume
        if not chosen and not any(volume_field(code) in self.errors for code in SITES):
            self.add_error(None, NO_SITE_MESSAGE)
        over = {code: volume for code, volume in chosen.items() if self.site_limit and volume > self.site_limit}
        if over and not cleaned.get("volumes_confirmed"):
            for code in over:
                self.add_error(
                    volume_field(code),
                    f"That is more than the {self.site_limit} mL per site your treatment allows. Check the amount; "
                    "if it is right, tick “These amounts are right” below and tell your nurse.",
                )
        cleaned["sites"] = chosen
        return cleaned

    def add_service_errors(self, refused: ValidationError) -> None:
        if not hasattr(refused, "error_dict"):
            self.add_error(None, refused)
            return
        for field, errors in refused.error_dict.items():
            self.add_error(field if field in self.fields else None, errors)


class VialForm(forms.Form):
    lot_number = forms.CharField(
        label="Lot number",
        max_length=LOT_MAX_LENGTH,
        error_messages={
            "required": "Please give the lot number printed on the vial (“Lot” or “LOT”).",
            "max_length": f"A lot number has at most {LOT_MAX_LENGTH} characters.",
            "null_characters_not_allowed": "This lot number has a character that cannot be saved. Type it again.",
        },
        widget=forms.TextInput(
            attrs={"class": "form-control-lg", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )
    expires_on = forms.DateField(
        label="Expiry date",
        error_messages={
            "required": "Please give the expiry date printed on the vial (“EXP”).",
            "invalid": "Please give the expiry date as a date, for example 2027-03-31.",
        },
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control-lg"}, format="%Y-%m-%d"),
    )
    size_mg = forms.TypedChoiceField(
        label="Vial size",
        coerce=int,
        error_messages={
            "required": "Please choose the size printed on the vial.",
            "invalid_choice": "Please choose the size printed on the vial.",
        },
        widget=forms.Select(attrs={"class": "form-select-lg"}),
    )

    def __init__(self, *args, product, infused_on=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.infused_on = infused_on
        per_ml = product.concentration_mg_per_ml
        choices = [("", "Choose…")]
        for size in product.vial_sizes_mg or []:
            grams = Decimal(size) / 1000
            volume = f" ({Decimal(size) / per_ml:.0f} mL)" if per_ml else ""
            choices.append((str(size), f"{grams.normalize():f} g{volume}"))
        self.fields["size_mg"].choices = choices
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean_lot_number(self):
        return self.cleaned_data["lot_number"].strip().upper()

    def clean_expires_on(self):
        expires_on = self.cleaned_data["expires_on"]
        if self.infused_on and (problem := expired_lot_problem(expires_on=expires_on, infused_on=self.infused_on)):
            raise forms.ValidationError(problem, code="expired")
        return expires_on


class BaseVialFormSet(forms.BaseFormSet):
    default_error_messages = {
        "too_few_forms": NO_VIAL_MESSAGE,
        "too_many_forms": f"Please log at most {VIALS_MAX} vials.",
        "missing_management_form": "The vial list was not sent whole. Please try again.",
    }

    def entries(self) -> list[VialEntry]:
        return [
            VialEntry(form.cleaned_data["lot_number"], form.cleaned_data["expires_on"], form.cleaned_data["size_mg"])
            for form in self.forms
            if form.cleaned_data
        ]


VialFormSet = forms.formset_factory(
    VialForm,
    formset=BaseVialFormSet,
    extra=0,
    min_num=1,
    validate_min=True,
    max_num=VIALS_MAX,
    validate_max=True,
    absolute_max=VIALS_MAX,
)
VIAL_PREFIX = "vial"


def vial_formset(data, *, product, infused_on=None, rows: list[dict] | None = None) -> BaseVialFormSet:
    """Bound to the POST, or (``rows``) unbound showing what was typed plus one empty row."""
    kwargs = {"prefix": VIAL_PREFIX, "form_kwargs": {"product": product, "infused_on": infused_on}}
    if rows is not None:
        formset_class = forms.formset_factory(
            VialForm, formset=BaseVialFormSet, extra=1, max_num=VIALS_MAX, absolute_max=VIALS_MAX
        )
        return formset_class(initial=rows[: VIALS_MAX - 1], **kwargs)
    return VialFormSet(data, **kwargs)


def posted_vial_rows(data) -> list[dict]:
    """The vial rows as typed (unchecked), to show them again with one more."""
    try:
        count = min(int(data.get(f"{VIAL_PREFIX}-TOTAL_FORMS", "1")), VIALS_MAX)
    except ValueError:
        count = 1
    names = ("lot_number", "expires_on", "size_mg")
    rows = [{name: data.get(f"{VIAL_PREFIX}-{number}-{name}", "") for name in names} for number in range(count)]
    return rows


def posted_initial(form: forms.Form, data) -> dict:
    """The main form's values as typed, to show them again unchecked (after "Add another vial")."""
    initial = {}
    for name, field in form.fields.items():
        if isinstance(field, forms.MultipleChoiceField):
            initial[name] = data.getlist(name)
        elif name in data:
            initial[name] = data.get(name)
    return initial
