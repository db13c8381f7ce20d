"""SCIG teaching visits: the competency checklist the patient shows back, and the nurse's signed "ready to
self-infuse". Only the visit's nurse writes it; once signed it is a record and does not change.

Field problems are raised as ``ValidationError`` keyed by field; a refusal of who or what raises ``ServiceError``.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from patients.services import ServiceError
from visits.models import ScigTeaching, Therapy, Visit

# What the patient shows back before self-infusing at home (Hizentra administration steps and patient counselling).
TEACHING_ITEMS: dict[str, str] = {
    "preparation": "Preparation: hand washing, clean work surface, checking the vial or syringe (clear, not expired, "
    "room temperature) and drawing up without shaking",
    "site_choice": "Site choice and rotation: abdomen, thighs, upper arms or lateral hip, at least 2 inches apart, "
    "away from tender, scarred or bruised skin, rotated each week",
    "pump": "Pump: setting the rate, priming the tubing, starting, pausing and stopping",
    "needle_set": "Needle set: choosing the needle length, inserting, checking for blood return (start again with a "
    "new set if there is blood), securing with a dressing",
    "reactions": "Reactions: what to watch for (swelling, redness and itching at the site are common; fever, "
    "chills, hives, breathlessness, chest pain or leg swelling are not) and what to do: slow or stop, call the "
    "agency, emergency care for breathing trouble or chest pain",
    "lot_recording": "Lot recording: logging the date, sites, volume, each vial's lot and expiry, and any reaction",
}

SIGN_ALL_ITEMS = "Every item must be shown back before the patient is signed off as ready to self-infuse."
CLOSED_STATUSES = (Visit.Status.CANCELLED, Visit.Status.MISSED)


def is_scig_visit(visit: Visit) -> bool:
    return visit.order.product.therapy == Therapy.SCIG


def teaching_for(visit: Visit) -> ScigTeaching | None:
    return ScigTeaching.objects.filter(visit=visit).select_related("signed_by").first()


def _checked(items) -> dict[str, bool]:
    """The checklist as stored: every item code → shown back or not (unknown codes are refused)."""
    ticked = set(items or ())
    unknown = ticked - set(TEACHING_ITEMS)
    if unknown:
        raise ValidationError({"items": f"Unknown checklist items: {', '.join(sorted(unknown))}."})
    return {code: code in ticked for code in TEACHING_ITEMS}


def _open_teaching(visit: Visit, nurse) -> ScigTeaching:
    """The visit's teaching row, locked for writing, after checking who writes and that it may still change."""
    if visit.nurse_id != nurse.pk:
        raise ServiceError("Only the nurse assigned to this visit documents the teaching.")
    if not is_scig_visit(visit):
        raise ServiceError("Teaching visits are for SCIG orders.")
    if visit.status in CLOSED_STATUSES:
        raise ServiceError(f"This visit is {visit.get_status_display().lower()}; its teaching cannot be recorded.")
    ScigTeaching.objects.get_or_create(visit=visit, defaults={"patient_id": visit.patient_id, "order": visit.order})
    teaching = ScigTeaching.objects.select_for_update().get(visit=visit)
    if teaching.signed_at:
        raise ServiceError("The teaching is signed: the patient was signed off as ready to self-infuse.")
    return teaching


@transaction.atomic
def teaching_save(*, visit: Visit, nurse, items, notes: str) -> ScigTeaching:
    """Save the items the patient has shown back so far and the nurse's notes (not signed)."""
    teaching = _open_teaching(visit, nurse)
    teaching.items = _checked(items)
    teaching.notes = notes.strip()
    teaching.full_clean()
    teaching.save()
    return teaching


@transaction.atomic
def teaching_sign(
    *, visit: Visit, nurse, items, notes: str, password: str, now: datetime | None = None
) -> ScigTeaching:
    """Sign the patient off as ready to self-infuse, after asking for the nurse's password again.

    Every checklist item must be shown back. A refusal names every field at once and writes nothing.
    """
    teaching = _open_teaching(visit, nurse)
    checked = _checked(items)
    errors = {}
    if not all(checked.values()):
        missing = [TEACHING_ITEMS[code].split(":")[0] for code, done in checked.items() if not done]
        errors["items"] = f"{SIGN_ALL_ITEMS} Still to show back: {', '.join(missing)}."
    # check_password, not authenticate(): a mistyped password here re-asks, it does not count towards a lockout.
    if not password or not nurse.check_password(password):
        errors["password"] = "That is not your password; nothing was signed."
    if errors:
        raise ValidationError(errors)
    teaching.items = checked
    teaching.notes = notes.strip()
    teaching.ready_to_self_infuse = True
    teaching.signed_by = nurse
    teaching.signed_at = now or timezone.now()
    teaching.full_clean()
    teaching.save()
    return teaching


def patient_is_taught(*, patient, order=None) -> bool:
    """A nurse has signed the patient off as ready to self-infuse (for ``order`` when given)."""
    signed = ScigTeaching.objects.filter(patient=patient, ready_to_self_infuse=True, signed_at__isnull=False)
    return signed.filter(order=order).exists() if order is not None else signed.exists()
