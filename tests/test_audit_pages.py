"""Every page that shows patient data leaves an access entry, discovered from the URLconf like the access table.

For every GET pattern of tests/test_access_table.py's TABLE and every role it answers 200, the page is opened on a
cast where every list has something to show, and an access entry naming a patient must have been written. A page
that shows no patient data is named in NO_PATIENT_DATA with its reason; a new PHI view that forgets to log fails.
"""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.conftest import ROLES, client_for
from tests.test_access_table import TABLE, all_url_names

# Pages that show no patient data (for every role that may open them), and why.
NO_PATIENT_DATA = {
    "healthz": "service status",
    "login": "the sign-in form",
    "password_change": "the user's own password",
    "password_change_done": "the user's own password",
    "password_reset": "the user's own password",
    "password_reset_done": "the user's own password",
    "password_reset_confirm": "the user's own password",
    "password_reset_complete": "the user's own password",
    "offline:worker": "the tablet's offline shell: code, no data",
    "offline:manifest": "the tablet's offline shell: code, no data",
    "offline:page": "the tablet's offline shell: code, no data",
    "patients:create": "an empty registration form",
    "notifications:preferences": "the staff member's own reminder settings",
    "schedule:nurse_availability": "a nurse's working hours and time off",
    # A fragment of the chart already open on the screen (its opening was recorded), polled every minute.
    "visits:next": "part of the chart page, whose opening is the access",
    "devices:mine": "the user's own signed-in devices",
    "devices:staff": "staff accounts and their devices",
    "devices:staff_devices": "a staff member's devices",
    "mfa:enrol": "the user's own second factor",
    "mfa:manage": "the user's own second factor",
    "mfa:recovery_codes": "the user's own recovery codes",
    "mfa:verify": "the second-factor prompt",
}

# Query strings a page needs before it shows anything (the lot of the recall).
QUERY = {"visits:recall": {"lot": "AUDIT-LOT"}}

CASES = [
    (name, role)
    for name, row in TABLE.items()
    if row.method == "get" and name not in NO_PATIENT_DATA
    for role, expected in zip(ROLES, row.expect, strict=True)
    if expected == 200
]


@pytest.fixture
def everything_shown(cast):
    """Something on every list: a visit of each nurse today, an open visit, notices, a resolved alert, a lot, an
    emergency access."""
    from patients.models import EmergencyAccess
    from visits.models import AlertHandling, Notification, VialUsed

    now = timezone.now()
    today = factories.VisitFactory(
        order=factories.OrderFactory(patient=cast.patient), nurse=cast.assigned_nurse, planned_start=now
    )
    other = factories.VisitFactory(
        order=factories.OrderFactory(patient=cast.other_patient), nurse=cast.unassigned_nurse, planned_start=now
    )
    factories.on_care_team(cast.other_patient, cast.unassigned_nurse)  # "unassigned" to the first patient only
    factories.VisitFactory(order=factories.OrderFactory(patient=cast.patient), planned_start=now + timedelta(days=1))
    VialUsed.objects.create(
        visit=today, product=today.order.product, lot_number="AUDIT-LOT", expires_on="2100-01-01", size_mg=10000
    )
    for number, (user, visit) in enumerate(
        [(cast.assigned_nurse, today), (cast.unassigned_nurse, other), (cast.coordinator, today)]
    ):
        Notification.objects.create(
            recipient=user,
            channel="in_app",
            kind="chart_unsigned",
            key=f"audit-walk-{number}",
            subject="A chart",
            body="Sign it",
            about=visit,
            due_at=now,
            next_attempt_at=now,
            sent_at=now,
        )
    AlertHandling.objects.create(
        key="audit-walk",
        kind="unassigned",
        state=AlertHandling.State.RESOLVED,
        patient=cast.patient,
        visit=today,
        title="Unassigned visit",
        acknowledged_at=now,
        acknowledged_by=cast.coordinator,
        resolved_at=now,
        resolved_by=cast.coordinator,
        note="Assigned by phone",
    )
    EmergencyAccess.objects.create(
        patient=cast.patient,
        nurse=cast.unassigned_nurse,
        reason="Her own nurse is off sick and she called with a fever.",
        started_at=now,
        expires_at=now + timedelta(hours=4),
    )
    return cast


@pytest.mark.parametrize(("name", "role"), CASES, ids=[f"{name}-{role}" for name, role in CASES])
def test_a_page_with_patient_data_writes_an_access_entry(everything_shown, name, role):
    cast = everything_shown
    row = TABLE[name]
    url = reverse(name, kwargs=row.kwargs(cast))
    client = client_for(cast.user(role))
    before = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).values_list("pk", flat=True)
    before = set(before)

    response = client.get(url, QUERY.get(name, {}))

    assert response.status_code == 200, f"{role} {url}: {response.status_code}"
    written = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exclude(pk__in=before)
    patients = {entry.additional_data.get("patient_id") for entry in written if entry.additional_data}
    assert patients - {None}, f"{name} as {role} showed patient data and wrote no access entry"
    if role != "anonymous":
        assert all(entry.actor == cast.user(role) for entry in written)


def test_every_excluded_page_is_a_page_of_the_urlconf():
    names = set(all_url_names())
    stale = sorted(name for name in NO_PATIENT_DATA if name not in names)
    assert stale == [], f"These excluded names are no URL pattern: {stale}"


def test_a_list_page_writes_one_entry_per_patient_in_one_insert(everything_shown):
    cast = everything_shown
    client = client_for(cast.coordinator)
    client.get(reverse("patients:list"))  # warm: session, content types
    before = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count()
    response = client.get(reverse("patients:list"))
    assert response.status_code == 200
    written = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).order_by("-pk")[:2]
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count() == before + 2
    assert {entry.additional_data["patient_id"] for entry in written} == {cast.patient.pk, cast.other_patient.pk}


def test_the_calendar_feed_is_audited_without_an_actor(everything_shown):
    from visits.models import CalendarFeed

    feed, _ = CalendarFeed.objects.get_or_create(patient=everything_shown.patient)
    client_for(None).get(reverse("portal:calendar_feed", args=[feed.token]))
    entry = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).latest("pk")
    assert entry.actor is None
    assert entry.additional_data["patient_id"] == everything_shown.patient.pk
