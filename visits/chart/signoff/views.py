"""Reactions, sign-off, addenda and outcome measures on the visit chart: parse, call a service, answer.

Every endpoint answers through ``section_submit`` (see visits.chart.views): 200 saved; 400 with field messages;
409 when the chart is locked.
"""

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.views.decorators.http import require_POST

from infusion_site.access import role_required
from infusion_site.roles import is_coordinator, is_nurse
from visits.chart.signoff import services
from visits.chart.signoff.forms import AddendumForm, OutcomeForm, ReactionForm, SignForm
from visits.chart.views import Notice, chart_visit, documenting_visit, section_answer, section_submit
from visits.models import Visit


@require_POST
@role_required(is_nurse)
def reaction_add(request, pk):
    visit = documenting_visit(request, pk)
    recorded = []

    def save(data):
        reaction = services.reaction_record(
            visit=visit,
            nurse=request.user,
            onset_at=data["onset_at"],
            symptoms=data["symptoms"],
            other_symptom=data["other_symptom"],
            grade=data["grade"],
            action=data["action"],
            medications_given=data["medications_given"],
            physician_notified_at=data["physician_notified_at"],
            outcome=data["outcome"],
        )
        recorded.append(reaction)
        if reaction.grade >= services.SEVERE_GRADE:
            return Notice(f"Grade {reaction.grade} reaction recorded; the coordinator has been alerted.", "warning")
        return None

    form = ReactionForm(request.POST, zone=visit.patient.zone)
    response = section_submit(request, visit, "reactions", form, save, bound_key="reaction")
    if request.htmx and recorded and recorded[0].action == recorded[0].Action.PREVIOUS_RATE:
        # The step back changed the rate: reload the whole chart so the infusion section shows the new rate.
        response["HX-Refresh"] = "true"
    return response


@require_POST
@role_required(is_nurse)
def sign(request, pk):
    visit = documenting_visit(request, pk)
    # The waiver fields are those of what is missing now; the service checks again under the row lock.
    form = SignForm(request.POST, missing=services.signoff_missing(visit=visit, now=timezone.now()))

    def save(data):
        services.visit_sign(
            visit=visit, nurse=request.user, note=data["note"], password=data["password"], waivers=form.waivers()
        )

    response = section_submit(request, visit, "signoff", form, save, bound_key="sign")
    if request.htmx and response.status_code == 200:
        # Every section is locked now: reload the whole chart so no other form is left open.
        response["HX-Refresh"] = "true"
    return response


@require_POST
@role_required(is_nurse, is_coordinator)
def addendum_add(request, pk):
    visit = chart_visit(request, pk)
    if not services.may_add_addendum(visit, request.user):
        raise PermissionDenied
    if visit.status != Visit.Status.SIGNED:
        # The addendum form is shown only under a signed chart, so the message goes above the note.
        return section_answer(request, visit, "signoff", status=400, message=services.SIGN_FIRST)

    def save(data):
        services.addendum_add(visit=visit, author=request.user, text=data["text"])

    form = AddendumForm(request.POST)
    return section_submit(request, visit, "signoff", form, save, bound_key="addendum", editable=None)


@require_POST
@role_required(is_nurse)
def outcome_add(request, pk):
    visit = documenting_visit(request, pk)

    def save(data):
        services.outcome_record(visit=visit, nurse=request.user, **data)

    return section_submit(request, visit, "outcomes", OutcomeForm(request.POST), save, bound_key="outcome")
