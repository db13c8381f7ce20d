"""The patient portal: my visits, asking to move one, and my private calendar feed.

Written for patients: plain words, their own time zone, the nurse's first name
only, and nothing clinical in the calendar feed, which anyone holding its address
can read without signing in.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Max, Prefetch, prefetch_related_objects
from django.http import Http404, HttpResponse
from django.http.request import split_domain_port
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_http_methods
from icalendar import Calendar, Event

from infusion_site.access import role_required
from infusion_site.audit import record_access
from infusion_site.roles import is_patient
from patients import selectors as patient_selectors
from visits.models import (
    REMINDER_LEAD_CHOICES,
    CalendarFeed,
    FollowUp,
    RescheduleRequest,
    SelfInfusion,
    Therapy,
    Visit,
    new_feed_token,
)
from visits.notifications.followups import open_follow_ups
from visits.notifications.services import preference_for
from visits.portal import self_infusion as scig_log
from visits.portal.forms import RescheduleRequestForm

UPCOMING_SHOWN = 10
PAST_SHOWN = 10
# The feed carries recent visits too, so a calendar keeps the last few months.
FEED_PAST = timedelta(days=90)
FEED_SUMMARY = "Home nursing visit"

THERAPY_IN_WORDS = {
    Therapy.IVIG: "IVIG infusion",
    Therapy.SCIG: "SCIG infusion (under the skin)",
    Therapy.RITUXIMAB: "Rituximab infusion",
    Therapy.INFLIXIMAB: "Infliximab infusion",
    Therapy.ABATACEPT: "Abatacept infusion",
    Therapy.METHYLPREDNISOLONE: "Steroid infusion (methylprednisolone)",
    Therapy.CYCLOPHOSPHAMIDE: "Cyclophosphamide infusion",
}

STATUS_IN_WORDS = {
    Visit.Status.SCHEDULED: "Planned",
    Visit.Status.CHECKED_IN: "In progress",
    Visit.Status.INFUSING: "In progress",
    Visit.Status.OBSERVING: "In progress",
    Visit.Status.COMPLETED: "Done",
    Visit.Status.SIGNED: "Done",
    Visit.Status.CANCELLED: "Cancelled",
    Visit.Status.MISSED: "Missed",
}


# --- Wording ------------------------------------------------------------------------------------


def clock(moment: datetime) -> str:
    return f"{moment.hour % 12 or 12}:{moment.minute:02d}"


def meridiem(moment: datetime) -> str:
    return "am" if moment.hour < 12 else "pm"


def day_text(moment: datetime, today) -> str:
    """“Tue 24 Nov”, with the year when it is not this year."""
    text = f"{moment:%a} {moment.day} {moment:%b}"
    return text if moment.year == today.year else f"{text} {moment.year}"


def window_text(visit: Visit) -> str:
    """The arrival window in the patient's time zone: “9:00–9:30 am CST”, “11:45 am–12:15 pm CST”."""
    start, end = visit.arrival_window
    if meridiem(start) == meridiem(end):
        return f"{clock(start)}–{clock(end)} {meridiem(end)} {end.tzname()}"
    return f"{clock(start)} {meridiem(start)}–{clock(end)} {meridiem(end)} {end.tzname()}"


def status_text(visit: Visit, now: datetime) -> str:
    if visit.status == Visit.Status.SCHEDULED and visit.planned_start < now:
        return "Not recorded yet"
    return STATUS_IN_WORDS[visit.status]


@dataclass
class PortalVisit:
    """One visit as the patient reads it."""

    visit: Visit
    day: str
    window: str
    therapy: str
    nurse: str
    status: str
    can_reschedule: bool
    open_request: RescheduleRequest | None
    last_answer: RescheduleRequest | None

    @property
    def when(self) -> str:
        return f"{self.day}, {self.window}"


def portal_visit(visit: Visit, *, now: datetime) -> PortalVisit:
    requests = getattr(visit, "requests_in_order", [])
    open_request = next((request for request in requests if request.resolved_at is None), None)
    answered = [request for request in requests if request.resolved_at is not None]
    if visit.nurse is None:
        nurse = "Nurse to be confirmed"
    else:
        nurse = visit.nurse.first_name or "Nurse assigned"
    return PortalVisit(
        visit=visit,
        day=day_text(visit.local_start, timezone.localtime(now, visit.patient.zone).date()),
        window=window_text(visit),
        therapy=THERAPY_IN_WORDS.get(visit.order.product.therapy, "Infusion"),
        nurse=nurse,
        status=status_text(visit, now),
        can_reschedule=visit.status == Visit.Status.SCHEDULED and visit.planned_start >= now,
        open_request=open_request,
        last_answer=answered[-1] if answered else None,
    )


# --- Reads --------------------------------------------------------------------------------------


def visits_for_portal(*, patient, now: datetime) -> tuple[list[PortalVisit], bool, list[PortalVisit]]:
    """(the next upcoming visits, whether more are planned after them, the last past visits), in fixed queries."""
    visits = Visit.objects.filter(patient=patient).select_related("nurse", "order__product")
    upcoming = list(
        visits.filter(planned_start__gte=now)
        .exclude(status=Visit.Status.MISSED)
        .prefetch_related(
            Prefetch(
                "reschedule_requests",
                queryset=RescheduleRequest.objects.order_by("created_at", "pk"),
                to_attr="requests_in_order",
            )
        )
        .order_by("planned_start", "pk")[: UPCOMING_SHOWN + 1]
    )
    past = list(visits.filter(planned_start__lt=now).order_by("-planned_start", "-pk")[:PAST_SHOWN])
    for visit in upcoming + past:
        visit.patient = patient  # already loaded; saves a query per visit for the time zone
    return (
        [portal_visit(visit, now=now) for visit in upcoming[:UPCOMING_SHOWN]],
        len(upcoming) > UPCOMING_SHOWN,
        [portal_visit(visit, now=now) for visit in past],
    )


@dataclass
class PortalFollowUp:
    """Open follow-up questions, naming the infusion they ask about."""

    follow_up: FollowUp
    infusion_day: str
    product: str

    @property
    def pk(self) -> int:
        return self.follow_up.pk


# An infusion counts once the nurse has finished (or signed) the visit; planned ones are not counted.
INFUSION_GIVEN = (Visit.Status.COMPLETED, Visit.Status.SIGNED)


def follow_ups_for_portal(*, patient, now: datetime) -> list[PortalFollowUp]:
    """The open questions about the patient's latest infusion of each therapy, in fixed queries.

    Questions about an earlier infusion are left out once a later one of the same therapy has been
    given: the patient would answer about the wrong infusion (the later one gets its own questions).
    """
    asked = open_follow_ups(patient=patient, now=now)
    if not asked:
        return []
    prefetch_related_objects(asked, "visit__order__product")
    latest = dict(
        Visit.objects.filter(patient=patient, status__in=INFUSION_GIVEN, planned_start__lte=now)
        .values_list("order__product__therapy")
        .annotate(latest=Max("planned_start"))
        .order_by()
    )
    today = timezone.localtime(now, patient.zone).date()
    shown = []
    for follow_up in asked:
        visit = follow_up.visit
        visit.patient = patient  # already loaded; saves a query for the time zone
        product = visit.order.product
        if visit.planned_start < latest.get(product.therapy, visit.planned_start):
            continue
        shown.append(PortalFollowUp(follow_up, day_text(visit.local_start, today), product.name))
    return shown


def active_feed(patient) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(patient=patient, revoked=False).first()


# --- Writes -------------------------------------------------------------------------------------


def reschedule_request_create(*, visit: Visit, reason: str, preferred_dates: str, by) -> RescheduleRequest:
    """Record a patient's request to move a visit; refused while an earlier one is still open."""
    with transaction.atomic():
        # Lock the visit so two requests sent at once cannot both pass the check below.
        Visit.objects.select_for_update().filter(pk=visit.pk).first()
        earlier = RescheduleRequest.objects.filter(visit=visit, resolved_at__isnull=True).first()
        if earlier is not None:
            zone = visit.patient.zone
            asked = day_text(timezone.localtime(earlier.created_at, zone), timezone.localtime(timezone.now(), zone))
            raise ValidationError(
                f"You already asked to change this visit on {asked}. We will call you to agree a new time; "
                f"to add anything, call us at {settings.AGENCY_PHONE}."
            )
        request = RescheduleRequest(visit=visit, reason=reason, preferred_dates=preferred_dates, created_by=by)
        request.full_clean()
        request.save()
    return request


def calendar_feed_renew(*, patient) -> CalendarFeed:
    """A new private address; the previous one stops working at once."""
    feed, _ = CalendarFeed.objects.update_or_create(
        patient=patient, defaults={"token": new_feed_token(), "revoked": False}
    )
    return feed


def calendar_feed_revoke(*, patient) -> bool:
    return CalendarFeed.objects.filter(patient=patient, revoked=False).update(revoked=True) > 0


# --- The calendar (RFC 5545) ----------------------------------------------------------------------


def visits_calendar(*, visits, host: str) -> bytes:
    """A VCALENDAR of the visits. No clinical detail: the address may end up in shared calendars."""
    calendar = Calendar()
    # Neutral names: the agency's own name would tell a calendar's readers what the visits are for.
    calendar.add("prodid", "-//Home nursing visits//Visit calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "My nursing visits")
    calendar.add("x-published-ttl", "PT1H")
    for visit in visits:
        event = Event()
        event.add("uid", f"visit-{visit.pk}@{host}")
        event.add("dtstamp", visit.updated_at.astimezone(UTC))
        event.add("last-modified", visit.updated_at.astimezone(UTC))
        event.add("dtstart", visit.planned_start.astimezone(UTC))
        event.add("dtend", visit.planned_end.astimezone(UTC))
        event.add("summary", FEED_SUMMARY)
        cancelled = visit.status == Visit.Status.CANCELLED
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
        if cancelled:
            event.add("description", f"This visit is cancelled. Questions: {settings.AGENCY_PHONE}.")
        else:
            event.add(
                "description",
                f"Your nurse arrives between {window_text(visit)}. To change the visit, call {settings.AGENCY_PHONE}.",
            )
        calendar.add_component(event)
    return calendar.to_ical()


def reminder_summary(preference, patient) -> str:
    """“By email and text, 2 days and 1 day before; quiet from 9:00 pm to 8:00 am.”"""
    ways = [way for way, chosen in (("email", preference.by_email), ("text", preference.by_sms)) if chosen]
    if not ways or not preference.reminder_hours:
        return "You have turned reminders off. We will still call you if a visit changes."
    labels = dict(REMINDER_LEAD_CHOICES)
    when = " and ".join(labels[hours] for hours in sorted(preference.reminder_hours, reverse=True) if hours in labels)
    text = f"By {' and '.join(ways)}, {when}"
    if preference.quiet_start is not None and preference.quiet_end is not None:
        start, end = preference.quiet_start, preference.quiet_end
        text += f"; quiet from {clock(start)} {meridiem(start)} to {clock(end)} {meridiem(end)} ({patient.time_zone})"
    return text + "."


# --- Views --------------------------------------------------------------------------------------


@role_required(is_patient)
@require_GET
def home(request):
    patient = patient_selectors.own_record(user=request.user)
    record_access(patient)
    upcoming, more_upcoming, past = visits_for_portal(patient=patient, now=timezone.now())
    feed = active_feed(patient)
    feed_url = request.build_absolute_uri(reverse("portal:calendar_feed", args=[feed.token])) if feed else ""
    context = {
        "patient": patient,
        "upcoming": upcoming,
        "more_upcoming": more_upcoming,
        "past": past,
        "feed": feed,
        "feed_url": feed_url,
        "webcal_url": "webcal://" + feed_url.split("://", 1)[1] if feed_url else "",
        "open_follow_ups": follow_ups_for_portal(patient=patient, now=timezone.now()),
        "reminder_summary": reminder_summary(preference_for(request.user), patient),
        "self_infusion": scig_log.self_infusion_summary(patient=patient, now=timezone.now()),
    }
    return render(request, "portal/home.html", context)


@role_required(is_patient)
@require_http_methods(["GET", "POST"])
def reschedule(request, pk):
    visit = get_object_or_404(
        Visit.objects.visible_to(request.user).upcoming().select_related("patient", "nurse", "order__product"), pk=pk
    )
    shown = portal_visit(visit, now=timezone.now())
    open_request = visit.reschedule_requests.filter(resolved_at__isnull=True).first()
    form = RescheduleRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                reschedule_request_create(
                    visit=visit,
                    reason=form.cleaned_data["reason"],
                    preferred_dates=form.cleaned_data["preferred_dates"],
                    by=request.user,
                )
            except ValidationError as refused:
                form.add_error(None, refused)
            else:
                messages.success(
                    request,
                    f"Thank you. We have your request to change the visit on {shown.day} and will call you to "
                    "agree a new time. Until then, the visit stays as planned.",
                )
                return redirect("portal:home")
        messages.error(request, "Your request was not sent yet. Please see the message below.")
    context = {"item": shown, "form": form, "open_request": open_request}
    return render(request, "portal/reschedule.html", context, status=400 if form.errors else 200)


CONFIRMED = "yes"


@role_required(is_patient)
@require_http_methods(["GET", "POST"])
def calendar_renew(request):
    """GET asks first (the old address stops working at once); POST with ``confirmed`` makes the new one."""
    patient = patient_selectors.own_record(user=request.user)
    had_one = active_feed(patient) is not None
    if had_one and request.POST.get("confirmed") != CONFIRMED:
        if request.method == "POST":  # a form from an older page: ask before changing anything
            return redirect("portal:calendar_renew")
        return render(request, "portal/calendar_confirm.html", CALENDAR_CONFIRM["renew"])
    if request.method == "GET":
        return redirect(reverse("portal:home") + "#calendar")
    calendar_feed_renew(patient=patient)
    if had_one:
        messages.success(request, "Your calendar has a new address. The old address no longer works.")
    else:
        messages.success(request, "Your calendar address is ready. Add it to your calendar app.")
    return redirect(reverse("portal:home") + "#calendar")


@role_required(is_patient)
@require_http_methods(["GET", "POST"])
def calendar_revoke(request):
    """GET asks first; POST with ``confirmed`` turns the address off."""
    patient = patient_selectors.own_record(user=request.user)
    if active_feed(patient) is None:
        if request.method == "POST":
            messages.info(request, "You have no calendar address turned on.")
        return redirect(reverse("portal:home") + "#calendar")
    if request.POST.get("confirmed") != CONFIRMED:
        if request.method == "POST":
            return redirect("portal:calendar_revoke")
        return render(request, "portal/calendar_confirm.html", CALENDAR_CONFIRM["revoke"])
    calendar_feed_revoke(patient=patient)
    messages.success(request, "Your calendar address is turned off. Calendars using it will stop updating.")
    return redirect(reverse("portal:home") + "#calendar")


CALENDAR_CONFIRM = {
    "renew": {
        "title": "Get a new calendar address?",
        "explanation": (
            "Your current address stops working at once. Any calendar that uses it stops showing your visits "
            "until you add the new address to it."
        ),
        "action": "portal:calendar_renew",
        "confirm_label": "Yes, get a new address",
        "button_class": "btn-primary",
    },
    "revoke": {
        "title": "Turn off your calendar address?",
        "explanation": (
            "Calendars that use it stop showing your visits. You can make a new address later if you want one."
        ),
        "action": "portal:calendar_revoke",
        "confirm_label": "Yes, turn it off",
        "button_class": "btn-danger",
    },
}


@login_not_required
@require_GET
def calendar_feed(request, token):
    """Public by design (calendar apps cannot sign in); the unguessable token is the only key."""
    feed = get_object_or_404(CalendarFeed.objects.select_related("patient"), token=token, revoked=False)
    # Fetched by a calendar app, so the entry names no one: its address and time are what the trail can say.
    record_access(feed.patient)
    visits = (
        Visit.objects.filter(patient=feed.patient, planned_start__gte=timezone.now() - FEED_PAST)
        .select_related("patient")
        .order_by("planned_start", "pk")
    )
    host, _ = split_domain_port(request.get_host())
    response = HttpResponse(visits_calendar(visits=visits, host=host), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="visits.ics"'
    response["X-Robots-Tag"] = "noindex"
    patch_cache_control(response, private=True, no_store=True)
    return response


# --- SCIG at home: the self-infusion log ------------------------------------------------------------

SELF_INFUSIONS_PER_PAGE = 20


@role_required(is_patient)
@require_GET
def self_infusions(request):
    patient = patient_selectors.own_record(user=request.user)
    record_access(patient)
    logs = SelfInfusion.objects.filter(patient=patient).prefetch_related("vials")
    page = Paginator(logs, SELF_INFUSIONS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "patient": patient,
        "summary": scig_log.self_infusion_summary(patient=patient, now=timezone.now()),
        "page": page,
        "rows": [scig_log.logged_infusion(log, patient.zone) for log in page],
    }
    return render(request, "portal/self_infusions.html", context)


@role_required(is_patient)
@require_http_methods(["GET", "POST"])
def self_infusion_add(request):
    patient = patient_selectors.own_record(user=request.user)
    order = scig_log.scig_order_for(patient)
    if order is None:
        raise Http404("No active SCIG order")
    teaching = scig_log.teaching_for(patient)
    if teaching is None:
        context = {"patient": patient, "message": scig_log.NOT_TAUGHT_MESSAGE}
        status = 403 if request.method == "POST" else 200
        return render(request, "portal/self_infusion_not_taught.html", context, status=status)

    zone, now = patient.zone, timezone.now()
    options = {
        "zone": zone,
        "now": now,
        "signed_at": teaching.signed_at,
        "site_limit": scig_log.later_site_volume_limit(order),
    }
    product = order.product
    status = 200
    if request.method == "GET":
        form = scig_log.SelfInfusionForm(
            initial={"infused_at": timezone.localtime(now, zone).strftime("%Y-%m-%dT%H:%M")}, **options
        )
        vials = scig_log.vial_formset(None, product=product, rows=[])
    elif "add_vial" in request.POST:
        # Another vial row; what was typed is shown again, checked only when the log is saved.
        initial = scig_log.posted_initial(scig_log.SelfInfusionForm(**options), request.POST)
        form = scig_log.SelfInfusionForm(initial=initial, **options)
        vials = scig_log.vial_formset(None, product=product, rows=scig_log.posted_vial_rows(request.POST))
    else:
        form = scig_log.SelfInfusionForm(request.POST, **options)
        form_ok = form.is_valid()
        started = form.cleaned_data.get("infused_at")
        infused_on = timezone.localtime(started, zone).date() if started else None
        vials = scig_log.vial_formset(request.POST, product=product, infused_on=infused_on)
        vials_ok = vials.is_valid()
        if form_ok and vials_ok:
            try:
                scig_log.self_infusion_log(
                    patient=patient,
                    order=order,
                    infused_at=started,
                    sites=form.cleaned_data["sites"],
                    vials=vials.entries(),
                    local_reactions=form.cleaned_data["local_reactions"],
                    systemic_reaction=form.cleaned_data["systemic_reaction"],
                    notes=form.cleaned_data["notes"],
                    by=request.user,
                )
            except ValidationError as refused:
                _vial_refusals(vials, refused)
                form.add_service_errors(refused)
            else:
                if form.cleaned_data["systemic_reaction"].strip():
                    messages.warning(
                        request,
                        "Your infusion is logged and your care team will see what you felt. If you feel worse, "
                        f"call us at {settings.AGENCY_PHONE}; in an emergency, call 911.",
                    )
                else:
                    messages.success(request, "Your infusion is logged. Thank you.")
                return redirect("portal:self_infusions")
        messages.error(request, "Your infusion is not logged yet. Please see the messages below.")
        status = 400
    context = {"patient": patient, "order": order, "form": form, "vials": vials, "agency_phone": settings.AGENCY_PHONE}
    return render(request, "portal/self_infusion_form.html", context, status=status)


def _vial_refusals(vials, refused: ValidationError) -> None:
    """Put the service's vial messages ("vial-0-expires_on") next to their row; leave the rest for the form."""
    if not hasattr(refused, "error_dict"):
        return
    for key in [key for key in refused.error_dict if key.startswith(f"{scig_log.VIAL_PREFIX}-")]:
        _, number, field = key.split("-", 2)
        if number.isdigit() and int(number) < len(vials.forms):
            vials.forms[int(number)].add_error(field, refused.error_dict.pop(key))
