"""Chart section "checkin": check-in and check-out with the browser's location (DESIGN §3 "Check-in"), the
check-in window, and undoing a mistaken check-in."""

from django.utils import timezone

from patients.forms import HomeLocationForm
from visits.chart.checkin.forms import CheckInForm, LocationForm, UndoCheckInForm
from visits.chart.checkin.services import (
    CHECK_OUT_STATUSES,
    checkin_radius_m,
    location_not_verified_reason,
    undo_refusal,
    window_refusal,
)
from visits.chart.rules import OPEN_STATUSES
from visits.chart.state import chart_state
from visits.models import Visit, VisitVerification


def verification_of(visit: Visit) -> VisitVerification | None:
    return VisitVerification.objects.select_related("nurse").filter(visit=visit, voided_at__isnull=True).first()


def context(*, visit, user, bound=None) -> dict:
    """``bound`` is ``{"location": form}`` after a refused check-in or check-out, ``{"undo": form}`` after a refused
    undo."""
    bound = bound or {}
    chart = chart_state(visit)
    verification = chart.verification
    can_check_in = verification is None and visit.status in OPEN_STATUSES
    can_check_out = (
        verification is not None and verification.checked_out_at is None and visit.status in CHECK_OUT_STATUSES
    )
    # Undo is offered while it would be accepted: checked in and the infusion not started.
    can_undo = (
        verification is not None
        and visit.status == Visit.Status.CHECKED_IN
        and not undo_refusal(visit, started_at=chart.infusion.started_at)
    )
    form = bound.get("location") or (CheckInForm() if can_check_in else LocationForm())
    outside_window = window_refusal(visit, timezone.now()) if can_check_in else ""
    reason_errors = form.errors.get("window_override_reason", [])
    reasons = {}
    if verification is not None:
        if not verification.check_in_verified:
            reasons["in"] = location_not_verified_reason(verification)
        if verification.checked_out_at and not verification.check_out_verified:
            reasons["out"] = location_not_verified_reason(verification, out=True)
    voided = chart.voided_verifications
    show_window_reason = can_check_in and bool(outside_window or reason_errors)
    # A home with no coordinates cannot verify any check-in: the assigned nurse, there, can give it hers.
    offer_home_location = (
        visit.pk is not None
        and visit.nurse_id is not None
        and visit.nurse_id == getattr(user, "pk", None)
        and not visit.patient.has_home_location
        and visit.status in (*OPEN_STATUSES, *CHECK_OUT_STATUSES)
    )
    return {
        "offer_home_location": offer_home_location,
        "home_form": HomeLocationForm() if offer_home_location else None,
        "verification": verification,
        "version": verification.version if verification else 0,
        "form": form,
        "undo_form": bound.get("undo") or UndoCheckInForm(),
        "radius_m": checkin_radius_m(),
        "can_check_in": can_check_in,
        "can_check_out": can_check_out,
        "can_undo": can_undo,
        "outside_window": outside_window,
        # The reason field shows when "now" is outside the window, and again with its message after a refusal.
        "show_window_reason": show_window_reason,
        "form_errors": _errors_above(form, beside_field="window_override_reason" if show_window_reason else None),
        "check_in_reason": reasons.get("in", ""),
        "check_out_reason": reasons.get("out", ""),
        "voided_checkins": voided,
    }


def _errors_above(form, *, beside_field: str | None) -> list[tuple[str, str]]:
    """(label, message) of the form's errors shown above the section: all but those of the field shown with its
    own message beside it."""
    errors = [("", error) for error in form.non_field_errors()]
    for field in form:
        if field.name != beside_field:
            errors += [(str(field.label), error) for error in field.errors]
    return errors
