"""The coordinator's board (/schedule/) and the nurse availability page.

The board shows a day, 3 days (both fit a 1024 px tablet) or the week. Its address holds everything it shows:
``?view=3day&day=2026-11-24&nurse=7`` (``week=`` for the week view), ids and dates only; ``?visit=<id>`` opens it
on that visit's day with the card highlighted (board_url_for_visit). The last view chosen is kept in the session,
so the coordinator's board opens the way she left it; the first time, on today's 3 days.

Every visit action is a plain POST that redirects back to the board; with htmx (``request.htmx``) the same POST
answers with the re-drawn board on success, or with the visit's card showing what went wrong. A refused action
answers 400 (the form needs correcting) or 409 (the nurse is not free; an override reason would assign).
Removing a nurse, cancelling and marking missed take two steps: the first POST answers with the card asking
"are you sure?" (200, nothing changed), only a second POST carrying ``confirmed=yes`` changes the visit.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from infusion_site.access import role_required
from infusion_site.audit import record_patient_accesses
from infusion_site.roles import is_coordinator
from visits.board import selectors
from visits.board import services as scheduling
from visits.board.forms import (
    ALL_TEAMS,
    BOARD_VIEWS,
    MY_TEAMS,
    AssignForm,
    BoardFilterForm,
    BoardViewForm,
    CancelForm,
    MissedForm,
    NursePickerForm,
    NurseProfileForm,
    PatientSearchForm,
    RescheduleForm,
    TimeOffForm,
    UnassignForm,
    WeekForm,
    WeeklyHoursForm,
)
from visits.board.services import AssignmentBlocked, SchedulingError, nurse_name
from visits.models import NurseProfile, TimeOff, Visit

BOARD_PAGE = "visits/board/board.html"
BOARD_PARTIAL = "visits/board/board_partial.html"
VISIT_CARD = "visits/board/visit_card.html"
VISIT_ACTION_PAGE = "visits/board/visit_action.html"
AVAILABILITY_PAGE = "visits/board/nurse_availability.html"

PATIENT_SEARCH_PAGE = "visits/board/patient_search.html"
PATIENT_RESULTS = "visits/board/patient_results.html"
NURSE_PICKER_PAGE = "visits/board/nurse_picker_page.html"
NURSE_PICKER = "visits/board/nurse_picker.html"

SESSION_VIEW = "board_view"  # the coordinator's last chosen view, kept per user in her session
SESSION_TEAM = "board_team"  # and the team she last chose ("mine", "all" or a team's id)
DEFAULT_VIEW = "3day"  # issue 15: today's 3 days, what a coordinator staffs next


@dataclass
class Focus:
    """A refused action on one visit: its form (with the values typed) and what to tell the coordinator."""

    visit_id: int
    action: str
    form: forms.Form
    message: str
    conflicts: list = field(default_factory=list)
    confirming: bool = False  # the change is valid and waits for "Yes"

    @property
    def values(self):
        return self.form.data

    @property
    def chosen_nurse(self):
        """The nurse an assignment was refused for (a conflict), so "Assign anyway" names her."""
        return getattr(self.form, "cleaned_data", {}).get("nurse") if self.action == "assign" else None

    @property
    def url_name(self) -> str:
        return f"schedule:{self.action}"

    @property
    def confirm_label(self) -> str:
        return CONFIRM_LABELS[self.action][0]

    @property
    def keep_label(self) -> str:
        return CONFIRM_LABELS[self.action][1]


CONFIRM_LABELS = {
    "unassign": ("Yes, remove the nurse", "No, keep the nurse"),
    "cancel": ("Yes, cancel the visit", "No, keep the visit"),
    "missed": ("Yes, mark it missed", "No, leave it scheduled"),
}


# --- the board ---------------------------------------------------------------------------------------------------


def board_url_for_visit(visit_id: int) -> str:
    """The board opened on a visit's day with its card highlighted, in the view the coordinator last chose."""
    return f"{reverse('schedule:board')}?{urlencode({'visit': visit_id})}#visit-{visit_id}"


def _board_href(view: str, first_day, filters: dict) -> str:
    date_key = "week" if view == "week" else "day"
    shown = {key: value for key, value in filters.items() if value not in (None, "")}
    return f"{reverse('schedule:board')}?{urlencode({date_key: first_day.isoformat(), **shown, 'view': view})}"


def _chosen_view(request, asked: str) -> str:
    """The view in the address, remembered for next time; without one, the one remembered, else today's 3 days."""
    if asked:
        if request.session.get(SESSION_VIEW) != asked:
            request.session[SESSION_VIEW] = asked
        return asked
    remembered = request.session.get(SESSION_VIEW)
    return remembered if remembered in selectors.VIEW_DAYS else DEFAULT_VIEW


def _chosen_team(request, filter_form: BoardFilterForm) -> tuple[str, list[int] | None]:
    """The team in the address (remembered like the view), else the one remembered, else her own teams.

    Returns the choice and the team ids it means; None is every team (also "my teams" for someone in none).
    """
    valid = {value for value, _ in filter_form.fields["team"].choices}
    asked = filter_form.cleaned_data.get("team") or ""
    if asked:
        if request.session.get(SESSION_TEAM) != asked:
            request.session[SESSION_TEAM] = asked
        choice = asked
    else:
        remembered = request.session.get(SESSION_TEAM)
        choice = remembered if remembered in valid else MY_TEAMS
    if choice == ALL_TEAMS:
        return choice, None
    if choice == MY_TEAMS:
        return choice, selectors.own_team_ids(user=request.user) or None
    return choice, [int(choice)]


def _first_day(view: str, anchor):
    return selectors.week_monday(anchor) if view == "week" else anchor


FILTER_KEYS = ("nurse", "nurse_q", "patient", "therapy")


def _board_context(request, params: QueryDict, *, notice: str = "") -> tuple[dict, bool]:
    view_form = BoardViewForm(params)
    view_form.is_valid()
    week_form = WeekForm(params)
    week_form.is_valid()
    # ``?week=`` alone is the week view: the address old bookmarks and links carry.
    asked_view = view_form.cleaned_data.get("view") or ("week" if params.get("week") else "")
    view = _chosen_view(request, asked_view)
    errors = []
    focus_visit, visit_day, visit_team, visit_nurse = None, None, None, None
    visit_id = view_form.cleaned_data.get("visit")
    if visit_id is not None:
        try:
            visit_day, visit_team, visit_nurse = selectors.board_visit_place(user=request.user, pk=visit_id)
            focus_visit = visit_id
        except Visit.DoesNotExist:
            errors.append("There is no visit with that number; showing the board without it.")
    today = timezone.localdate()
    anchor = visit_day or view_form.cleaned_data.get("day") or week_form.cleaned_data.get("week") or today
    first_day = _first_day(view, anchor)
    day_count = selectors.VIEW_DAYS[view]
    teams = selectors.teams_for_filter()
    filter_form = BoardFilterForm(
        params,
        teams=teams,
        find_nurse=lambda pk: selectors.nurse_named(nurse_id=pk),
        find_patient=lambda pk: selectors.patient_named(user=request.user, patient_id=pk),
    )
    filter_form.is_valid()
    team_choice, team_ids = _chosen_team(request, filter_form)
    if focus_visit is not None and team_ids is not None and visit_team not in team_ids:
        # A link to one visit (the alert queue's) shows it whatever team was chosen last: its patient's team.
        team_choice, team_ids = (str(visit_team), [visit_team]) if visit_team else (ALL_TEAMS, None)
    filters = {key: filter_form.cleaned_data.get(key) for key in FILTER_KEYS}
    board = selectors.build_board(
        user=request.user,
        first_day=first_day,
        day_count=day_count,
        scope=selectors.BoardScope(
            team_ids=team_ids,
            nurse_id=filters["nurse"],
            nurse_query=filters["nurse_q"] or "",
            patient_id=filters["patient"],
            therapy=filters["therapy"] or "",
        ),
        page=filter_form.cleaned_data.get("page"),
        unassigned_page=filter_form.cleaned_data.get("open_page"),
        focus_nurse_id=visit_nurse,
    )
    errors += [
        error
        for form in (view_form, week_form, filter_form)
        for field_errors in form.errors.values()
        for error in field_errors
    ]
    shows_today = today in board.days
    switch_from = today if shows_today else first_day  # switching view keeps today in sight, else the first day
    nurse_page, open_page = board.nurse_page.number, board.unassigned_page.number
    here = {
        **filters,
        "page": nurse_page if nurse_page > 1 else None,
        "open_page": open_page if open_page > 1 else None,
    }

    def page_href(**page):
        return _board_href(view, first_day, {**here, **page})

    context = {
        "board": board,
        "view": view,
        "view_links": [
            {"label": label, "current": key == view, "url": _board_href(key, _first_day(key, switch_from), filters)}
            for key, label in BOARD_VIEWS
        ],
        "step_label": {"day": "day", "3day": "3 days", "week": "week"}[view],
        "filter_form": filter_form,
        "filters": filters,
        "team_choice": team_choice,
        "team_choices": filter_form.fields["team"].choices,
        "patient_shown": filter_form.patient_shown if filters["patient"] else None,
        "nurse_shown": filter_form.nurse_shown if filters["nurse"] else None,
        "without_patient_url": _board_href(view, first_day, {**filters, "patient": None}),
        "without_nurse_url": _board_href(view, first_day, {**filters, "nurse": None}),
        "focus_visit": focus_visit,
        "board_url": _board_href(view, first_day, here),
        "previous_url": _board_href(view, board.previous_start, filters),
        "next_url": _board_href(view, board.next_start, filters),
        "today_url": _board_href(view, _first_day(view, today), filters),
        "previous_nurses_url": page_href(page=board.nurse_page.previous_number),
        "next_nurses_url": page_href(page=board.nurse_page.next_number),
        "previous_open_url": page_href(open_page=board.unassigned_page.previous_number),
        "next_open_url": page_href(open_page=board.unassigned_page.next_number),
        "shows_today": shows_today,
        "today": today,
        "now": timezone.now(),
        "notice": notice,
        "errors": errors,
    }
    return context, bool(errors)


def _render_board(request, params: QueryDict, *, notice: str = "", partial: bool | None = None):
    context, has_errors = _board_context(request, params, notice=notice)
    board = context["board"]
    # Each patient on the page (nurses' rows and the open visits), in one insert.
    record_patient_accesses(
        [visit.patient_id for row in board.rows for cell in row.cells for visit in cell.visits]
        + [visit.patient_id for _, visits in board.unassigned for visit in visits]
    )
    if partial is None:
        partial = bool(request.htmx) and not request.htmx.history_restore_request
    response = render(request, BOARD_PARTIAL if partial else BOARD_PAGE, context, status=400 if has_errors else 200)
    patch_vary_headers(response, ("HX-Request",))
    return response


@role_required(is_coordinator)
@require_GET
def board(request):
    return _render_board(request, request.GET)


@role_required(is_coordinator)
@require_POST
def patient_search(request):
    """The board's patient filter: the name is posted, the answer is a few links carrying the patient's id only."""
    form = PatientSearchForm(request.POST)
    params = _board_params(request.POST.get("next", ""), request)
    matches = selectors.patients_matching(user=request.user, query=form.cleaned_data["q"]) if form.is_valid() else []
    base = params.dict()
    for key in ("patient", "page", "open_page"):
        base.pop(key, None)
    record_patient_accesses([patient.pk for patient in matches])
    links = [
        (patient, f"{reverse('schedule:board')}?{urlencode({**base, 'patient': patient.pk})}") for patient in matches
    ]
    context = {
        "form": form,
        "links": links,
        "limit": selectors.PATIENT_MATCHES_SHOWN,
        "board_url": f"{reverse('schedule:board')}?{params.urlencode()}" if params else reverse("schedule:board"),
    }
    template = PATIENT_RESULTS if request.htmx else PATIENT_SEARCH_PAGE
    return render(request, template, context, status=200 if form.is_valid() else 400)


# --- visit actions -------------------------------------------------------------------------------------------------


def _visit(request, pk) -> Visit:
    try:
        return selectors.board_visit(user=request.user, pk=pk)
    except Visit.DoesNotExist:
        raise Http404("No visit with this number.") from None


def _posted_board_params(request) -> QueryDict:
    """The board the action came from (the posted ``next``), so the coordinator lands on the same week and filters."""
    return _board_params(request.POST.get("next", ""), request)


def _board_params(next_url: str, request) -> QueryDict:
    """The query of a board address handed back by a page (``next``); anything but the board is ignored."""
    safe = url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if next_url and safe:
        parts = urlsplit(next_url)
        if not parts.netloc and parts.path == reverse("schedule:board"):
            return QueryDict(parts.query)
    return QueryDict()


def _done(request, message: str):
    params = _posted_board_params(request)
    if request.htmx:
        response = _render_board(request, params, notice=message, partial=True)
        response.status_code = 200  # the action worked; a stale filter in the address is only mentioned
        return reswap(retarget(response, "#board"), "outerHTML")
    messages.success(request, message)
    query = params.urlencode()
    return redirect(f"{reverse('schedule:board')}?{query}" if query else reverse("schedule:board"))


def _refused(
    request,
    visit: Visit,
    *,
    action: str,
    form: forms.Form,
    message: str,
    conflicts=(),
    status: int = 400,
    confirming: bool = False,
):
    """Show the visit's card again with the form as typed and the reason (or the question); nothing was changed."""
    visit = _visit(request, visit.pk)  # as it is now, not as the refused service left it in memory
    params = _posted_board_params(request)
    context = {
        "visit": visit,
        "focus": Focus(visit.pk, action, form, message, list(conflicts), confirming),
        "board_url": f"{reverse('schedule:board')}?{params.urlencode()}" if params else reverse("schedule:board"),
        "now": timezone.now(),
    }
    if request.htmx:
        return render(request, VISIT_CARD, context, status=status)
    return render(request, VISIT_ACTION_PAGE, context, status=status)


def _invalid_message(form: forms.Form) -> str:
    first = next(iter(form.errors.values()))[0]
    return f"Nothing was changed. {first}"


def _act(request, visit: Visit, *, action: str, form: forms.Form, perform, success: str, check=None, question=""):
    """Validate, call the service, and answer; the service either does everything or nothing.

    With ``check`` (the service's own precondition) the change needs confirming: until the POST says
    ``confirmed=yes`` the answer is the card asking ``question``, once the change is known to be allowed.
    """
    if not form.is_valid():
        return _refused(request, visit, action=action, form=form, message=_invalid_message(form))
    if check is not None and request.POST.get("confirmed") != "yes":
        try:
            check(visit=visit)
        except SchedulingError as error:
            return _refused(request, visit, action=action, form=form, message=f"Nothing was changed. {error}")
        return _refused(request, visit, action=action, form=form, message=question, status=200, confirming=True)
    try:
        perform(form.cleaned_data)
    except AssignmentBlocked as blocked:
        return _refused(
            request,
            visit,
            action=action,
            form=form,
            message="Not saved: this conflicts with the nurse's schedule. Give a reason to override, or choose "
            "another nurse or time.",
            conflicts=blocked.conflicts,
            status=409,
        )
    except SchedulingError as error:
        return _refused(request, visit, action=action, form=form, message=f"Nothing was changed. {error}")
    return _done(request, success)


def _visit_label(visit: Visit) -> str:
    return f"{visit.patient.full_name}'s visit on {visit.local_start:%a %d %b %H:%M}"


def _card_context(request, visit: Visit) -> dict:
    params = _board_params(request.GET.get("next", ""), request)
    return {
        "visit": visit,
        "actions": True,
        "board_url": f"{reverse('schedule:board')}?{params.urlencode()}" if params else reverse("schedule:board"),
        "now": timezone.now(),
    }


@role_required(is_coordinator)
@require_GET
def visit_card(request, pk):
    """One card with its actions (move, remove the nurse, cancel, mark missed), loaded when "Change…" is pressed:
    the board itself carries no form per card, so its size follows what is shown, not what could be done."""
    context = _card_context(request, _visit(request, pk))
    record_patient_accesses([context["visit"].patient_id])
    response = render(request, VISIT_CARD if request.htmx else VISIT_ACTION_PAGE, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@role_required(is_coordinator)
@require_GET
def nurse_picker(request, pk):
    """The shared "Assign…" picker's list: the team's nurses matching what was typed, each a button that assigns.

    With htmx it is the small list the board's one dialog loads; without JavaScript, a page of its own."""
    visit = _visit(request, pk)
    record_patient_accesses([visit.patient_id])
    form = NursePickerForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    every_team = data.get("scope") == ALL_TEAMS or not visit.patient.team_id
    context = _card_context(request, visit) | {
        "form": form,
        "query": data.get("q", ""),
        "every_team": every_team,
        "nurses": selectors.nurses_for_picker(visit=visit, query=data.get("q", ""), every_team=every_team),
        "team": visit.patient.team,
        "label": _visit_label(visit),
        "page_size": selectors.NURSES_PER_PICKER,
        "every_team_url": f"{reverse('schedule:nurse_picker', args=[visit.pk])}?"
        + urlencode({"next": request.GET.get("next", ""), "scope": ALL_TEAMS, "q": data.get("q", "")}),
    }
    response = render(request, NURSE_PICKER if request.htmx else NURSE_PICKER_PAGE, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@role_required(is_coordinator)
@require_POST
def assign(request, pk):
    visit = _visit(request, pk)
    form = AssignForm(request.POST, find_nurse=lambda pk: selectors.nurse_named(nurse_id=pk))
    label = _visit_label(visit)

    def perform(data):
        scheduling.visit_assign(
            visit=visit, nurse=data["nurse"], by=request.user, override_reason=data["override_reason"]
        )

    return _act(request, visit, action="assign", form=form, perform=perform, success=f"{label}: nurse assigned.")


@role_required(is_coordinator)
@require_POST
def reschedule(request, pk):
    visit = _visit(request, pk)
    form = RescheduleForm(request.POST, zone=visit.patient.zone)
    label = _visit_label(visit)

    def perform(data):
        scheduling.visit_reschedule(
            visit=visit,
            new_start=data["new_start"],
            by=request.user,
            reason=data["reason"],
            override_reason=data["override_reason"],
        )

    return _act(request, visit, action="reschedule", form=form, perform=perform, success=f"{label}: moved.")


def _reason_action(action: str, form_class, service, check, question, done: str):
    """A visit action that needs only a reason and a confirmation: the form, the service, the check it makes first,
    the question asked before it is done, and what the coordinator is told after."""

    @role_required(is_coordinator)
    @require_POST
    def view(request, pk):
        visit = _visit(request, pk)

        def perform(data):
            service(visit=visit, by=request.user, reason=data["reason"])

        form = form_class(request.POST)
        label = _visit_label(visit)
        return _act(
            request,
            visit,
            action=action,
            form=form,
            perform=perform,
            success=f"{label}: {done}.",
            check=check,
            question=question(visit, label),
        )

    view.__name__ = action
    return view


def _remove_question(visit: Visit, label: str) -> str:
    return f"Remove {nurse_name(visit.nurse)} from {label}?" if visit.nurse else f"Remove the nurse from {label}?"


unassign = _reason_action(
    "unassign",
    UnassignForm,
    scheduling.visit_unassign,
    scheduling.check_can_unassign,
    _remove_question,
    "nurse removed",
)
cancel = _reason_action(
    "cancel",
    CancelForm,
    scheduling.visit_cancel,
    scheduling.check_can_cancel,
    lambda visit, label: f"Cancel {label}? It leaves the board and cannot be undone here.",
    "cancelled",
)
missed = _reason_action(
    "missed",
    MissedForm,
    scheduling.visit_mark_missed,
    scheduling.check_can_mark_missed,
    lambda visit, label: f"Mark {label} as missed? It cannot be undone here.",
    "marked missed",
)


# --- nurse availability ----------------------------------------------------------------------------------------------


def _nurse(nurse_id: int):
    try:
        return selectors.nurse_for_availability(nurse_id=nurse_id)
    except get_user_model().DoesNotExist:
        raise Http404("No active nurse with this number.") from None


def _profile(nurse) -> NurseProfile:
    """The saved profile, or the defaults shown until the first save creates it."""
    try:
        return nurse.nurse_profile
    except NurseProfile.DoesNotExist:
        return NurseProfile(nurse=nurse)


def _render_availability(
    request, nurse, profile, *, profile_form=None, hours_form=None, time_off_form=None, status=200
):
    shifts = list(nurse.working_hours.all())
    context = {
        "nurse": nurse,
        "nurse_name": nurse_name(nurse),
        "profile": profile,
        "profile_form": profile_form or NurseProfileForm(instance=profile),
        "hours_form": hours_form or WeeklyHoursForm(shifts=shifts),
        "time_off_form": time_off_form or TimeOffForm(),
        "time_off": selectors.time_off_for_page(nurse=nurse),
        "zone": profile.time_zone,
    }
    with timezone.override(profile.time_zone):
        return render(request, AVAILABILITY_PAGE, context, status=status)


@role_required(is_coordinator)
@require_http_methods(["GET", "POST"])
def nurse_availability(request, nurse_id):
    nurse = _nurse(nurse_id)
    profile = _profile(nurse)
    if request.method == "GET":
        return _render_availability(request, nurse, profile)
    profile_form = NurseProfileForm(request.POST, instance=profile)
    hours_form = WeeklyHoursForm(request.POST, shifts=nurse.working_hours.all())
    valid = all([profile_form.is_valid(), hours_form.is_valid()])  # both, so every error shows at once
    if valid:
        try:
            scheduling.nurse_availability_update(
                nurse=nurse,
                competencies=profile_form.cleaned_data["competencies"],
                max_visits_per_day=profile_form.cleaned_data["max_visits_per_day"],
                travel_buffer_minutes=profile_form.cleaned_data["travel_buffer_minutes"],
                time_zone=profile_form.cleaned_data["time_zone"],
                week=hours_form.cleaned_data["week"],
            )
        except SchedulingError as error:
            profile_form.add_error(None, str(error))
        else:
            messages.success(request, f"{nurse_name(nurse)}'s availability is saved.")
            return redirect("schedule:nurse_availability", nurse_id=nurse.pk)
    messages.error(request, "Nothing was saved. Correct the fields marked below.")
    profile = _profile(selectors.nurse_for_availability(nurse_id=nurse.pk))
    return _render_availability(request, nurse, profile, profile_form=profile_form, hours_form=hours_form, status=400)


@role_required(is_coordinator)
@require_POST
def time_off_add(request, nurse_id):
    nurse = _nurse(nurse_id)
    profile = _profile(nurse)
    with timezone.override(profile.time_zone):  # the dates typed are the nurse's local dates
        form = TimeOffForm(request.POST)
        valid = form.is_valid()
    if valid:
        try:
            time_off = scheduling.time_off_add(
                nurse=nurse,
                starts_at=form.cleaned_data["starts_at"],
                ends_at=form.cleaned_data["ends_at"],
                reason=form.cleaned_data["reason"],
            )
        except SchedulingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Time off added for {nurse_name(nurse)}.")
            clashing = selectors.assigned_visits_during(
                nurse=nurse, starts_at=time_off.starts_at, ends_at=time_off.ends_at
            )
            if clashing:
                names = ", ".join(_visit_label(visit) for visit in clashing)
                messages.warning(
                    request,
                    f"{nurse_name(nurse)} is still assigned during this time off: {names}. Reassign on the board.",
                )
            return redirect(f"{reverse('schedule:nurse_availability', args=[nurse.pk])}#time-off")
    messages.error(request, "The time off was not added. Correct the fields marked below.")
    return _render_availability(request, nurse, profile, time_off_form=form, status=400)


@role_required(is_coordinator)
@require_POST
def time_off_remove(request, nurse_id, time_off_id):
    nurse = _nurse(nurse_id)
    time_off = get_object_or_404(TimeOff, pk=time_off_id, nurse=nurse)
    scheduling.time_off_remove(time_off=time_off)
    messages.success(request, f"Time off removed for {nurse_name(nurse)}.")
    return redirect(f"{reverse('schedule:nurse_availability', args=[nurse.pk])}#time-off")
