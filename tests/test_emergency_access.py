"""Emergency access ("break the glass"): a nurse outside the care team opens a record by exact MRN, with a reason,
for EMERGENCY_ACCESS_HOURS; the coordinators see it on the alert queue at once; every page she opens is audited."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from patients.emergency import services
from patients.models import EmergencyAccess
from tests import factories
from tests.conftest import client_for
from visits.alerts.emergency_sources import emergency_accesses

REASON = "Her own nurse is off sick and she called with chest pain during the infusion."


def break_glass(client, mrn, reason=REASON, confirm=True):
    data = {"mrn": mrn, "reason": reason}
    if confirm:
        data["confirm"] = "on"
    return client.post(reverse("emergency:start"), data)


@pytest.fixture
def outsider(cast):
    """The nurse on no care team."""
    return client_for(cast.unassigned_nurse)


def test_my_day_links_to_emergency_access(cast, outsider):
    page = outsider.get(reverse("visits:today")).content.decode()
    assert reverse("emergency:start") in page
    assert "Emergency access to another patient" in page


def test_nurse_outside_the_care_team_opens_the_record_by_exact_mrn(cast, outsider):
    detail = reverse("patients:detail", args=[cast.patient.pk])
    assert outsider.get(detail).status_code == 404

    response = break_glass(outsider, cast.patient.mrn)

    assert response.status_code == 302
    assert response.url == detail
    access = EmergencyAccess.objects.get()
    assert (access.nurse, access.patient, access.reason) == (cast.unassigned_nurse, cast.patient, REASON)
    page = outsider.get(detail)
    assert page.status_code == 200
    until = timezone.localtime(access.expires_at).strftime("%H:%M")
    assert f"Emergency access until {until} — every page you open is recorded" in page.content.decode()
    # Only this patient: the other one stays hidden.
    assert outsider.get(reverse("patients:detail", args=[cast.other_patient.pk])).status_code == 404


def test_she_sees_the_charts_as_a_care_team_nurse_would(cast, outsider):
    visit = factories.VisitFactory(order=factories.OrderFactory(patient=cast.patient), nurse=cast.assigned_nurse)
    chart = reverse("visits:chart", args=[visit.pk])
    assert outsider.get(chart).status_code == 404

    break_glass(outsider, cast.patient.mrn)

    assert outsider.get(chart).status_code == 200
    assert outsider.get(reverse("patients:visits", args=[cast.patient.pk])).status_code == 200


def test_access_lasts_the_configured_hours(cast, settings):
    settings.EMERGENCY_ACCESS_HOURS = 2
    access = services.emergency_access_start(nurse=cast.unassigned_nurse, mrn=cast.patient.mrn, reason=REASON)
    assert access.expires_at - access.started_at == timedelta(hours=2)


def test_expired_access_gives_the_normal_404_again(cast, outsider):
    break_glass(outsider, cast.patient.mrn)
    past = timezone.now() - timedelta(minutes=1)
    EmergencyAccess.objects.update(started_at=past - timedelta(hours=4), expires_at=past)

    response = outsider.get(reverse("patients:detail", args=[cast.patient.pk]))

    assert response.status_code == 404
    assert "Emergency access until" not in outsider.get(reverse("visits:today")).content.decode()


@pytest.mark.parametrize(
    "mrn, reason, confirm, field",
    [
        ("NO-SUCH-MRN", REASON, True, "mrn"),
        ("", REASON, True, "mrn"),
        (None, "Emergency.", True, "reason"),  # a word is not a sentence
        (None, "pt needs it", True, "reason"),
        (None, REASON, False, "confirm"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_changes_nothing(cast, outsider, mrn, reason, confirm, field):
    response = break_glass(outsider, cast.patient.mrn if mrn is None else mrn, reason, confirm)

    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not EmergencyAccess.objects.exists()
    assert outsider.get(reverse("patients:detail", args=[cast.patient.pk])).status_code == 404


def test_part_of_an_mrn_or_a_name_finds_nobody(cast, outsider):
    for typed in (cast.patient.mrn[:-1], cast.patient.last_name, f"{cast.patient.mrn}%"):
        assert break_glass(outsider, typed).status_code == 400
    assert not EmergencyAccess.objects.exists()


def test_the_mrn_is_never_taken_from_the_address(cast, outsider):
    response = outsider.get(reverse("emergency:start"), {"mrn": cast.patient.mrn, "reason": REASON, "confirm": "on"})
    assert response.status_code == 200
    assert not EmergencyAccess.objects.exists()


def test_a_second_submit_opens_the_same_access(cast, outsider):
    break_glass(outsider, cast.patient.mrn)
    break_glass(outsider, cast.patient.mrn.lower())
    assert EmergencyAccess.objects.count() == 1


def test_care_team_nurse_and_coordinator_do_not_break_the_glass(cast):
    assert break_glass(client_for(cast.assigned_nurse), cast.patient.mrn).status_code == 400
    assert break_glass(client_for(cast.coordinator), cast.patient.mrn).status_code == 403
    assert break_glass(client_for(cast.patient_user), cast.patient.mrn).status_code == 403
    assert not EmergencyAccess.objects.exists()


def test_coordinator_sees_it_on_the_alert_queue_at_once(cast, outsider):
    break_glass(outsider, cast.patient.mrn)
    access = EmergencyAccess.objects.get()

    alerts = emergency_accesses(now=timezone.now())

    assert [alert.about for alert in alerts] == [access]
    assert alerts[0].severity.name == "URGENT"
    assert REASON in alerts[0].lines[0]
    queue = client_for(cast.coordinator).get(reverse("alerts:queue")).content.decode()
    assert "Emergency access: Umar Hadleigh opened Marisol Delacroix" in queue


def test_the_coordinators_are_told_at_once_not_at_the_next_sweep(
    cast, outsider, monkeypatch, django_capture_on_commit_callbacks
):
    from visits.models import Notification
    from visits.tasks import notify_now

    published = []
    monkeypatch.setattr("infusion_site.queueing.publish", lambda task, *args, **kw: published.append((task.name, args)))
    with django_capture_on_commit_callbacks(execute=True):
        break_glass(outsider, cast.patient.mrn)
    assert published == [("visits.tasks.notify_now", (["emergency_access"],))]

    notify_now(["emergency_access"])  # what the worker runs when it takes that message

    [notice] = Notification.objects.filter(recipient=cast.coordinator, channel=Notification.Channel.IN_APP)
    assert notice.kind == Notification.Kind.EMERGENCY_ACCESS
    assert notice.about == EmergencyAccess.objects.get()
    told = Notification.objects.filter(kind=Notification.Kind.EMERGENCY_ACCESS).count()
    notify_now(["emergency_access"])  # a second message (a retry) says nothing twice
    assert Notification.objects.filter(kind=Notification.Kind.EMERGENCY_ACCESS).count() == told


def test_coordinator_ends_it_early_and_the_record_is_hidden_again(cast, outsider):
    break_glass(outsider, cast.patient.mrn)
    access = EmergencyAccess.objects.get()
    coordinator = client_for(cast.coordinator)
    assert access.reason in coordinator.get(reverse("emergency:list")).content.decode()

    assert outsider.post(reverse("emergency:end", args=[access.pk])).status_code == 403
    response = coordinator.post(reverse("emergency:end", args=[access.pk]))

    assert response.status_code == 302
    access.refresh_from_db()
    assert access.ended_by == cast.coordinator and access.ended_at is not None
    assert outsider.get(reverse("patients:detail", args=[cast.patient.pk])).status_code == 404
    # The queue now shows it for review, no longer as urgent.
    assert emergency_accesses(now=timezone.now())[0].severity.name == "INFO"


def test_every_page_she_opens_is_in_the_audit_trail_with_the_mark(cast, outsider):
    break_glass(outsider, cast.patient.mrn)
    access = EmergencyAccess.objects.get()
    detail = reverse("patients:detail", args=[cast.patient.pk])

    outsider.get(detail)
    outsider.get(reverse("visits:today") + "?q=Delacroix")

    pages = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(access.pk))
    opened = [entry.additional_data["page"] for entry in pages.filter(content_type__model="emergencyaccess")]
    assert detail in opened and reverse("visits:today") in opened
    assert not any("Delacroix" in page for page in opened)  # the query string is never kept
    assert all(entry.actor == cast.unassigned_nurse for entry in pages)
    read = LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, content_type__model="patient", object_pk=str(cast.patient.pk)
    ).latest("pk")
    assert read.additional_data["emergency_access"] == access.pk
    created = LogEntry.objects.get(action=LogEntry.Action.CREATE, content_type__model="emergencyaccess")
    assert created.additional_data["emergency_access"] == access.pk


def test_pages_of_other_nurses_are_not_marked(cast, outsider):
    break_glass(outsider, cast.patient.mrn)
    client_for(cast.assigned_nurse).get(reverse("patients:detail", args=[cast.patient.pk]))

    read = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, content_type__model="patient").latest("pk")
    assert read.actor == cast.assigned_nurse
    assert not (read.additional_data or {}).get("emergency_access")
