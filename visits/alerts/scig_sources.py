"""Alerts from the patients' own SCIG log: a systemic reaction they wrote down, and a weekly dose not logged.

Both are about infusions no nurse attended, so the queue is where a person first hears of them. Each source is one
query, whatever the number of patients.
"""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone

from patients.models import Patient
from visits.alerts.registry import Alert, Severity, alert_source, when_text
from visits.models import ScigTeaching, SelfInfusion, Therapy, TherapyOrder

# Hizentra is given weekly (DESIGN: "weekly at home"); the grace before the queue hears of a late dose is a setting.
DOSE_INTERVAL = timedelta(days=7)
SYSTEMIC_REACTION_SHOWN_FOR = timedelta(days=7)
SYSTEMIC_REACTION_URGENT_FOR = timedelta(hours=24)
REACTION_TEXT_SHOWN = 300


def missed_dose_grace_days() -> int:
    return settings.SCIG_MISSED_DOSE_GRACE_DAYS


def next_dose_day(*, last: datetime, zone) -> date:
    """The patient's local day the next weekly dose is due: a week after the last one (or after the sign-off)."""
    return timezone.localtime(last, zone).date() + DOSE_INTERVAL


def self_infusion_url(patient_id: int) -> str:
    return reverse("patients:detail", args=[patient_id]) + "#self-infusions"


def local_day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


# --- A systemic reaction the patient logged ------------------------------------------------------


@alert_source("scig_systemic_reaction", label="Systemic reactions logged by patients after a self-infusion")
def scig_systemic_reactions(*, now: datetime) -> list[Alert]:
    """A fever, headache, breathlessness… written in the self-infusion log; urgent for a day, shown for a week."""
    logs = (
        SelfInfusion.objects.exclude(systemic_reaction="")
        .filter(recorded_at__gte=now - SYSTEMIC_REACTION_SHOWN_FOR)
        .select_related("patient", "order__product")
    )
    alerts = []
    for log in logs:
        zone = log.patient.zone
        text = log.systemic_reaction.strip()
        if len(text) > REACTION_TEXT_SHOWN:
            text = text[:REACTION_TEXT_SHOWN].rstrip() + "…"
        lines = [f"Local reactions: {', '.join(log.local_reactions) if log.local_reactions else 'none'}."]
        lines.append(f"{log.volume_ml} mL through {len(log.sites)} site{'s' if len(log.sites) != 1 else ''}.")
        alerts.append(
            Alert(
                kind="scig_systemic_reaction",
                severity=Severity.URGENT if now - log.recorded_at < SYSTEMIC_REACTION_URGENT_FOR else Severity.SOON,
                title=f"Systemic reaction after a self-infusion: {log.patient.full_name}",
                detail=(
                    f"{log.order.product.name}, self-infused {when_text(log.infused_at, zone)}; "
                    f"the patient wrote: “{text}”. Call the patient."
                ),
                lines=lines,
                url=self_infusion_url(log.patient_id),
                action_label="Open the patient",
                due=log.recorded_at,
                about=log,
            )
        )
    return alerts


# --- A weekly dose not logged ----------------------------------------------------------------------


@alert_source("scig_missed_dose", label="Weekly SCIG doses not logged")
def scig_missed_doses(*, now: datetime) -> list[Alert]:
    """No self-infusion within a week and the grace days after the previous one, or after the teaching sign-off.

    Counted in the patient's own days: a dose due on Monday with one day of grace is missed from Wednesday.
    """
    grace = missed_dose_grace_days()
    signed_off = (
        ScigTeaching.objects.filter(patient=OuterRef("pk"), ready_to_self_infuse=True, signed_at__isnull=False)
        .order_by("-signed_at")
        .values("signed_at")[:1]
    )
    last_infused = SelfInfusion.objects.filter(patient=OuterRef("pk")).order_by("-infused_at").values("infused_at")[:1]
    on_scig = TherapyOrder.objects.filter(
        Q(end_date__isnull=True) | Q(end_date__gte=now.date() - timedelta(days=1)),
        patient=OuterRef("pk"),
        status=TherapyOrder.Status.ACTIVE,
        product__therapy=Therapy.SCIG,
    )
    # A day looser than the rule: time zones move the patient's day; the exact test is below.
    cutoff = now - DOSE_INTERVAL - timedelta(days=grace - 1)
    patients = (
        Patient.objects.annotate(signed_off=Subquery(signed_off), last_infused=Subquery(last_infused))
        .filter(Exists(on_scig), signed_off__isnull=False)
        .annotate(anchor=Greatest(Coalesce("last_infused", "signed_off"), "signed_off"))
        .filter(anchor__lt=cutoff)
    )
    alerts = []
    for patient in patients:
        zone = patient.zone
        due_day = next_dose_day(last=patient.anchor, zone=zone)
        late = (timezone.localtime(now, zone).date() - due_day).days
        if late <= grace:
            continue
        if patient.last_infused is not None and patient.last_infused >= patient.signed_off:
            since = f"Last self-infusion {when_text(patient.last_infused, zone)}."
        else:
            since = f"No self-infusion logged since the teaching sign-off {when_text(patient.signed_off, zone)}."
        alerts.append(
            Alert(
                kind="scig_missed_dose",
                severity=Severity.SOON if late < DOSE_INTERVAL.days else Severity.URGENT,
                title=f"Weekly SCIG dose not logged: {patient.full_name}",
                detail=f"Due {local_day(due_day)}, {late} days ago. {since} Call the patient.",
                url=self_infusion_url(patient.pk),
                action_label="Open the patient",
                due=patient.anchor + DOSE_INTERVAL,
                about=patient,
                # One alert per missed week: resolving this week's does not hide next week's.
                fact=f"{due_day:%Y%m%d}",
            )
        )
    return alerts
