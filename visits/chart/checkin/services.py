"""Check-in and check-out: electronic visit verification (DESIGN §3 "Check-in").

The six elements are recorded on one VisitVerification row: type of service, patient (through the visit), nurse,
date, location, and time in and out. A check-in farther than the allowed radius from the home, or without a
location, is still saved — the nurse is there and the visit goes on — but it is marked "location not verified" and
shows on the coordinator's alert queue.

Check-in is open from CHECKIN_OPENS_BEFORE_MIN before the planned start to midnight ending the visit's day where
the patient lives; outside that window it is a hard stop that only a reason overrides (recorded, and the
coordinator alerted). A check-in made by mistake is undone before the infusion starts by voiding its row, never by
deleting it, so the record still shows it.
"""

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from patients.services import ServiceError
from visits.chart.rules import (
    ChartConflict,
    ChartLocked,
    StaleSection,
    ensure_editable,
    ensure_nurse_of,
    notify_at_once,
)
from visits.models import InfusionRecord, Notification, Visit, VisitVerification

# DESIGN §3: a check-in counts as at the home within 200 m unless the agency sets CHECKIN_RADIUS_M.
DEFAULT_CHECKIN_RADIUS_M = 200
# DESIGN §3: check-in opens "shortly before the planned start (a setting, e.g. 2 h)".
DEFAULT_CHECKIN_OPENS_BEFORE_MIN = 120
# Mean Earth radius (IUGG), metres; haversine on a sphere is within 0.5% of the ellipsoid, ample for 200 m.
EARTH_RADIUS_M = 6_371_008.8
# Six decimal places of a degree are about 0.1 m, as the fields store them.
MICRODEGREE = Decimal("0.000001")

# Statuses in which the nurse is (or was) in the home and may check out: she checks out, then signs (a signed chart
# may still be checked out of, for a chart signed before this rule or with the check-out waived).
CHECK_OUT_STATUSES = (
    Visit.Status.CHECKED_IN,
    Visit.Status.INFUSING,
    Visit.Status.OBSERVING,
    Visit.Status.COMPLETED,
    Visit.Status.SIGNED,
)


class CheckInConflict(ChartConflict):
    """Someone already checked this visit in (or out): nothing was overwritten."""


def checkin_radius_m() -> int:
    return int(getattr(settings, "CHECKIN_RADIUS_M", DEFAULT_CHECKIN_RADIUS_M))


def checkin_opens_before_min() -> int:
    return int(getattr(settings, "CHECKIN_OPENS_BEFORE_MIN", DEFAULT_CHECKIN_OPENS_BEFORE_MIN))


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points given in decimal degrees (haversine formula)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


def distance_text(metres: int | None) -> str:
    """A distance as a coordinator reads it: "350 m", "1.2 km"."""
    if metres is None:
        return "unknown distance"
    if metres < 1000:
        return f"{metres} m"
    return f"{metres / 1000:.1f} km"


def _coordinate(value, *, name: str, limit: int) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError as error:
        raise ServiceError(f"The {name} is not a number.") from error
    if not number.is_finite() or not -limit <= number <= limit:
        raise ServiceError(f"The {name} must be between -{limit} and {limit} degrees.")
    return number.quantize(MICRODEGREE)


def _location(latitude, longitude) -> tuple[Decimal | None, Decimal | None]:
    latitude = _coordinate(latitude, name="latitude", limit=90)
    longitude = _coordinate(longitude, name="longitude", limit=180)
    if (latitude is None) != (longitude is None):
        raise ServiceError("A location needs both latitude and longitude.")
    return latitude, longitude


def _distance_from_home(visit: Visit, latitude: Decimal | None, longitude: Decimal | None) -> int | None:
    """Whole metres from the patient's home, or None when either place is unknown."""
    home = visit.patient
    if latitude is None or home.latitude is None or home.longitude is None:
        return None
    return round(distance_m(float(latitude), float(longitude), float(home.latitude), float(home.longitude)))


def _within_radius(distance: int | None) -> bool:
    return distance is not None and distance <= checkin_radius_m()


# --- The check-in window -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckInWindow:
    """When a visit may be checked in: from ``opens_at`` up to, not including, ``closes_at`` (both aware)."""

    opens_at: datetime
    closes_at: datetime

    def __contains__(self, moment: datetime) -> bool:
        return self.opens_at <= moment < self.closes_at


def check_in_window(visit: Visit) -> CheckInWindow:
    """CHECKIN_OPENS_BEFORE_MIN before the planned start until midnight ending the planned start's local date.

    "Local" is the patient's time zone: that is where the nurse is. Midnight is found on the calendar, not by
    adding 24 hours, so a day with a clock change still ends at midnight.
    """
    zone = visit.patient.zone
    day = timezone.localtime(visit.planned_start, zone).date()
    closes_at = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    opens_at = visit.planned_start - timedelta(minutes=checkin_opens_before_min())
    return CheckInWindow(opens_at=opens_at, closes_at=closes_at)


def _date_words(day: date, today: date) -> str:
    """ "Wed 2 Dec", with the year when it is not this one."""
    year = f" {day.year}" if day.year != today.year else ""
    return f"{day:%a} {day.day} {day:%b}{year}"


def _day_words(day: date, today: date) -> str:
    """A day as the nurse says it: "today", "tomorrow", "yesterday", else its date."""
    named = {today: "today", today + timedelta(days=1): "tomorrow", today - timedelta(days=1): "yesterday"}
    return named.get(day) or _date_words(day, today)


def window_refusal(visit: Visit, at: datetime) -> str:
    """Why ``at`` is outside the visit's check-in window, in the nurse's words; "" when it is inside."""
    window = check_in_window(visit)
    if at in window:
        return ""
    zone = visit.patient.zone
    start = timezone.localtime(visit.planned_start, zone)
    today = timezone.localtime(at, zone).date()
    planned = _day_words(start.date(), today)
    if at < window.opens_at:
        opens = timezone.localtime(window.opens_at, zone)
        if opens.date() == start.date():
            opens_words = f"at {opens:%H:%M}" + ("" if planned == "today" else " that day")
        else:
            opens_words = f"{_day_words(opens.date(), today)} at {opens:%H:%M}"
        return f"This visit is planned for {planned} at {start:%H:%M}; check-in opens {opens_words}."
    if planned == "yesterday":
        day = _date_words(start.date(), today)
        return f"This visit was planned for yesterday, {day}, at {start:%H:%M}; check-in closed at midnight."
    return f"This visit was planned for {planned} at {start:%H:%M}; check-in closed at midnight at the end of that day."


def service_name(visit: Visit) -> str:
    """The EVV "type of service": the therapy and the product given."""
    product = visit.order.product
    therapy = product.get_therapy_display()
    named = f", {product.name}" if product.name.lower() != therapy.lower() else ""
    return f"{therapy} infusion{named}"[:120]


def _locked_visit(visit: Visit) -> Visit:
    """Re-read the visit under a row lock so two tablets cannot both check in."""
    return Visit.objects.select_for_update().select_related("patient", "order__product").get(pk=visit.pk)


@transaction.atomic
def visit_check_in(
    *,
    visit: Visit,
    nurse,
    at: datetime,
    latitude: Decimal | float | None,
    longitude: Decimal | float | None,
    accuracy_m: int | float | None,
    window_override_reason: str = "",
) -> VisitVerification:
    """Record the nurse's arrival; verified when within CHECKIN_RADIUS_M of the home (DESIGN §3, default 200 m).

    The distance is rounded to whole metres before it is compared, so the stored record explains its own verdict.
    The device's accuracy is recorded for the coordinator but does not widen the radius.

    Outside the visit's check-in window (``check_in_window``) the check-in is refused unless the nurse gives
    ``window_override_reason``; with it, it is saved with the reason and the coordinator is alerted. A reason
    given inside the window overrides nothing and is not kept.
    """
    ensure_nurse_of(visit, nurse)
    visit = _locked_visit(visit)
    ensure_editable(visit)
    existing = VisitVerification.objects.filter(visit=visit, voided_at__isnull=True).select_related("nurse").first()
    if existing is not None:
        raise CheckInConflict(f"This visit was already checked in at {_local_time(existing.checked_in_at, visit)}.")
    refusal = window_refusal(visit, at)
    window_override_reason = (window_override_reason or "").strip() if refusal else ""
    if refusal and not window_override_reason:
        raise ValidationError({"window_override_reason": f"{refusal} To check in anyway, give the reason."})
    latitude, longitude = _location(latitude, longitude)
    # An accuracy without a location means nothing; keep it only alongside the position it describes.
    accuracy_m = _accuracy(accuracy_m) if latitude is not None and accuracy_m not in (None, "") else None
    distance = _distance_from_home(visit, latitude, longitude)
    verification = VisitVerification(
        visit=visit,
        nurse=nurse,
        service=service_name(visit),
        checked_in_at=at,
        check_in_latitude=latitude,
        check_in_longitude=longitude,
        check_in_accuracy_m=accuracy_m,
        check_in_distance_m=distance,
        check_in_verified=_within_radius(distance),
        window_override_reason=window_override_reason,
        version=1,
        updated_by=nurse,
    )
    verification.full_clean()
    verification.save()
    if not verification.check_in_verified or verification.window_override_reason:
        notify_at_once(Notification.Kind.CHECKIN_EXCEPTION)
    if visit.status == Visit.Status.SCHEDULED:
        visit.status = Visit.Status.CHECKED_IN
        visit.full_clean()
        visit.save(update_fields=["status", "updated_at"])
    return verification


def ensure_check_out_possible(visit: Visit) -> None:
    """A cancelled or missed visit has nothing to check out of; a signed one may still be checked out of."""
    if visit.status in (Visit.Status.CANCELLED, Visit.Status.MISSED):
        raise ChartLocked(f"This visit is {visit.get_status_display().lower()}; there is nothing to check out of.")


@transaction.atomic
def visit_check_out(
    *,
    visit: Visit,
    nurse,
    at: datetime,
    latitude: Decimal | float | None,
    longitude: Decimal | float | None,
) -> VisitVerification:
    """Record the nurse's departure and its location, verified like the check-in.

    Only after a check-in and only once. The visit's status is left as it is: the chart's own steps (infusion,
    observation, sign-off) move it, and a nurse may check out before or after signing. There is no field for the
    accuracy of the check-out location, so it is not taken.
    """
    ensure_nurse_of(visit, nurse)
    visit = _locked_visit(visit)
    ensure_check_out_possible(visit)
    verification = VisitVerification.objects.select_for_update().filter(visit=visit, voided_at__isnull=True).first()
    if verification is None or visit.status not in CHECK_OUT_STATUSES:
        raise ServiceError("Check in before checking out.")
    if verification.checked_out_at is not None:
        raise CheckInConflict(
            f"This visit was already checked out at {_local_time(verification.checked_out_at, visit)}."
        )
    if at < verification.checked_in_at:
        raise ServiceError("The check-out time is before the check-in time.")
    latitude, longitude = _location(latitude, longitude)
    distance = _distance_from_home(visit, latitude, longitude)
    verification.checked_out_at = at
    verification.check_out_latitude = latitude
    verification.check_out_longitude = longitude
    verification.check_out_distance_m = distance
    verification.check_out_verified = _within_radius(distance)
    if not verification.check_out_verified:
        notify_at_once(Notification.Kind.CHECKIN_EXCEPTION)
    verification.version += 1
    verification.updated_by = nurse
    verification.full_clean()
    verification.save()
    return verification


# --- Undoing a mistaken check-in ------------------------------------------------------------------------------

UNDO_NEEDS_A_REASON = "Give the reason for undoing the check-in (for example: wrong patient)."


NOT_READ = object()


def infusion_started_at(visit: Visit) -> datetime | None:
    return InfusionRecord.objects.filter(visit=visit).values_list("started_at", flat=True).first()


def undo_refusal(visit: Visit, *, started_at: datetime | None | object = NOT_READ) -> str:
    """Why the visit's check-in can no longer be undone; "" while it can (checked in, infusion not started).
    ``started_at`` is the infusion's start when the caller has read it already."""
    if started_at is NOT_READ:
        started_at = infusion_started_at(visit)
    if started_at is not None:
        return f"The infusion started at {_local_time(started_at, visit)}; the check-in can no longer be undone."
    if visit.status != Visit.Status.CHECKED_IN:
        return f"This visit is {visit.get_status_display().lower()}; its check-in can no longer be undone."
    return ""


@transaction.atomic
def visit_check_in_undo(*, visit: Visit, nurse, reason: str, expected_version: int) -> VisitVerification:
    """Void the visit's live check-in, made by mistake, and put the visit back to scheduled.

    Only the visit's nurse, only before the infusion starts, and only with a reason. The row is kept, marked void
    with who, when and why, and printed on the record; the audit trail has the change. Checking in again makes a
    new row. ``expected_version`` is the check-in's version the nurse saw, so a tablet that missed a check-out or
    an earlier undo changes nothing.
    """
    if visit.nurse_id != nurse.pk:
        raise ServiceError("Only the nurse assigned to this visit can undo its check-in.")
    visit = _locked_visit(visit)
    ensure_editable(visit)
    verification = VisitVerification.objects.select_for_update().filter(visit=visit, voided_at__isnull=True).first()
    if verification is None:
        raise CheckInConflict(_nothing_to_undo(visit))
    if verification.version != expected_version:
        raise StaleSection(_changed_since(verification, visit))
    refusal = undo_refusal(visit)
    if refusal:
        raise CheckInConflict(refusal)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"void_reason": UNDO_NEEDS_A_REASON})
    verification.voided_at = timezone.now()
    verification.voided_by = nurse
    verification.void_reason = reason
    verification.version += 1
    verification.updated_by = nurse
    verification.full_clean()
    with disable_auditlog():  # _audit_void below writes the one entry for it, saying what the void was
        verification.save()
    visit.status = Visit.Status.SCHEDULED
    visit.full_clean()
    visit.save(update_fields=["status", "updated_at"])  # django-auditlog records the visit's change by itself
    _audit_void(verification, nurse)
    return verification


def _audit_void(verification: VisitVerification, nurse) -> None:
    """The audit trail's one entry for the voiding (the save itself is not logged by django-auditlog).

    Written like the registered models' entries: an update with the fields' old and new values, its actor; the
    request's address is added by the audit middleware, the actor's name and the patient by infusion_site.audit.
    """
    LogEntry.objects.log_create(
        verification,
        force_log=True,
        action=LogEntry.Action.UPDATE,
        changes={
            "voided_at": ["None", verification.voided_at.isoformat()],
            "voided_by": ["None", str(nurse.pk)],
            "void_reason": ["", verification.void_reason],
        },
        actor=nurse,
        additional_data={"visit": verification.visit_id, "action": "check-in undone"},
    )


def _nurse_name(user) -> str:
    return (user.get_full_name() or user.username) if user else "someone"


def _nothing_to_undo(visit: Visit) -> str:
    voided = (
        visit.verifications.filter(voided_at__isnull=False).select_related("voided_by").order_by("-voided_at").first()
    )
    if voided is None:
        return "This visit is not checked in; there is no check-in to undo."
    return (
        f"Not saved: this check-in was already undone at {_local_time(voided.voided_at, visit)} by "
        f"{_nurse_name(voided.voided_by)}. Nothing else was changed."
    )


def _changed_since(verification: VisitVerification, visit: Visit) -> str:
    what = (
        f"it was checked out at {_local_time(verification.checked_out_at, visit)}"
        if verification.checked_out_at
        else "it was saved again"
    )
    return (
        f"Not saved: this check-in changed on another device since you opened the chart ({what}). "
        "Nothing was undone; check the section and try again."
    )


def _accuracy(value) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise ServiceError("The location accuracy is not a number.") from error
    if not math.isfinite(number) or number < 0:
        raise ServiceError("The location accuracy must be zero or more metres.")
    return min(round(number), 2_147_483_647)


def _local_time(moment: datetime, visit: Visit) -> str:
    return timezone.localtime(moment, visit.patient.zone).strftime("%H:%M")


def location_not_verified_reason(verification: VisitVerification, *, out: bool = False) -> str:
    """Why a check-in (or check-out) is "location not verified", in the coordinator's words."""
    word = "Check-out" if out else "Check-in"
    latitude = verification.check_out_latitude if out else verification.check_in_latitude
    distance = verification.check_out_distance_m if out else verification.check_in_distance_m
    if latitude is None:
        return f"No location shared at {word.lower()}"
    if distance is None:
        return f"{word} location not compared: the home has no coordinates on file"
    return f"{word} {distance_text(distance)} from the home"
