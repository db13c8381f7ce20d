"""Every URL pattern × every role, discovered from the URLconf.

A URL pattern missing from TABLE fails ``test_every_url_pattern_is_in_the_table``,
so a new view cannot be forgotten. Expected answers:
  200/400 the page (400: a form posted empty, re-shown with its errors)
  302     a redirect after a successful action
  "login" a redirect to the login page (anonymous, or admin for non-staff)
  403     the role may not use this page at all
  404     the object exists but is not this user's to see
  405     the method is not allowed
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import ROLES, client_for, second_factor

LOGIN = "login"


@dataclass
class Row:
    expect: tuple  # one answer per role, in ROLES order
    kwargs: Callable = field(default=lambda cast: {})
    method: str = "get"
    data: Callable = field(default=lambda cast: {})


def patient_pk(cast):
    return {"pk": cast.patient.pk}


def order_for(cast):
    """The first patient's order (one per test)."""
    from tests.factories import OrderFactory
    from visits.models import TherapyOrder

    return TherapyOrder.objects.filter(patient=cast.patient).first() or OrderFactory(patient=cast.patient)


def reset_kwargs(cast):
    return {"uidb64": "MQ", "token": "set-password"}


def upcoming_visit_pk(cast):
    """An upcoming visit of the first patient (one per test)."""
    from tests.factories import VisitFactory
    from visits.models import Visit

    visit = Visit.objects.filter(patient=cast.patient).upcoming().first()
    return {"pk": (visit or VisitFactory(order=order_for(cast), patient=cast.patient)).pk}


def reschedule_request_pk(cast):
    """An open reschedule request from the first patient."""
    from visits.models import RescheduleRequest

    request, _ = RescheduleRequest.objects.get_or_create(
        visit_id=upcoming_visit_pk(cast)["pk"],
        resolved_at=None,
        defaults={"reason": "Away", "preferred_dates": "Later"},
    )
    return {"pk": request.pk}


def calendar_token(cast):
    """The first patient's calendar feed address."""
    from visits.models import CalendarFeed

    return {"token": CalendarFeed.objects.get_or_create(patient=cast.patient)[0].token}


def journal_entry_pk(cast):
    """A symptom journal entry of the first patient (one per test)."""
    from patients.models import SymptomEntry, patient_today

    entry, _ = SymptomEntry.objects.get_or_create(
        patient=cast.patient,
        recorded_on=patient_today(cast.patient),
        defaults={"muscle_weakness": 5, "rash": 3, "fatigue": 6, "pain": 2},
    )
    return {"pk": entry.pk}


def follow_up_pk(cast):
    """The 48-hour follow-up questions after a visit of the first patient."""
    from django.utils import timezone

    from visits.models import FollowUp

    follow_up, _ = FollowUp.objects.get_or_create(
        visit_id=upcoming_visit_pk(cast)["pk"], window=FollowUp.Window.EARLY, defaults={"due_at": timezone.now()}
    )
    return {"pk": follow_up.pk}


def notification_pk(cast, **fields):
    """An in-app notification sent to the assigned nurse (or as ``fields`` say)."""
    from django.utils import timezone

    from visits.models import Notification

    now = timezone.now()
    defaults = {"recipient": cast.assigned_nurse, "channel": "in_app", "sent_at": now} | fields
    notification = Notification.objects.create(
        kind="chart_unsigned",
        key=f"access-{Notification.objects.count()}",
        subject="A chart",
        body="Sign it",
        url="/visits/today/",
        due_at=now,
        next_attempt_at=now,
        **defaults,
    )
    return {"pk": notification.pk}


def failed_notification_pk(cast):
    from django.utils import timezone

    return notification_pk(cast, recipient=cast.patient.user, channel="email", sent_at=None, failed_at=timezone.now())


def nurse_visit_pk(cast):
    """A visit of the first patient assigned to the assigned nurse (one per test)."""
    from tests.factories import VisitFactory
    from visits.models import Visit

    visit = Visit.objects.filter(patient=cast.patient, nurse=cast.assigned_nurse).first()
    return {"pk": (visit or VisitFactory(order=order_for(cast), patient=cast.patient, nurse=cast.assigned_nurse)).pk}


def vial_kwargs(cast):
    """A vial recorded on the assigned nurse's visit of the first patient."""
    from tests.factories import product
    from visits.models import VialUsed

    pk = nurse_visit_pk(cast)["pk"]
    vial = VialUsed.objects.create(
        visit_id=pk, product=product(), lot_number="A1", expires_on="2100-01-01", size_mg=10000
    )
    return {"pk": pk, "vial_pk": vial.pk}


def scig_taught(cast):
    """The first patient on SCIG at home, taught and signed off (no URL arguments)."""
    from tests.visits.portal.scig_helpers import taught

    taught(cast.patient, nurse=cast.assigned_nurse)
    return {}


def scig_visit_pk(cast):
    """A Hizentra (SCIG) visit of the first patient assigned to the assigned nurse (one per test)."""
    from tests.factories import OrderFactory, VisitFactory, product

    order = OrderFactory(patient=cast.patient, product=product("Hizentra"), regimen="weekly", days_per_cycle=1)
    return {"pk": VisitFactory(order=order, patient=cast.patient, nurse=cast.assigned_nurse).pk}


def emergency_access_pk(cast):
    """An emergency access of the unassigned nurse to the second patient."""
    from patients.emergency.services import emergency_access_start
    from patients.models import EmergencyAccess

    access = EmergencyAccess.objects.first() or emergency_access_start(
        nurse=cast.unassigned_nurse,
        mrn=cast.other_patient.mrn,
        reason="Her own nurse is off sick today and she is unwell.",
    )
    return {"pk": access.pk}


def own_device_pk(cast):
    """A signed-in device of the first patient's account."""
    from infusion_site.models import UserSession

    row, _ = UserSession.objects.get_or_create(
        session_key="x" * 32, defaults={"user": cast.patient_user, "device": "Chrome on an Android tablet"}
    )
    return {"pk": row.pk}


TABLE: dict[str, Row] = {
    # name                                anonymous patient other  nurse  unassigned coordinator
    "home": Row((LOGIN, 302, 302, 302, 302, 302)),
    "healthz": Row((200, 200, 200, 200, 200, 200)),
    "login": Row((200, 200, 200, 200, 200, 200)),
    "resume_session": Row((400, 400, 400, 400, 400, 400), method="post"),  # a form posted empty
    # The tablet's offline shell holds no patient data: anyone may fetch it.
    "offline:worker": Row((200, 200, 200, 200, 200, 200)),
    "offline:manifest": Row((200, 200, 200, 200, 200, 200)),
    "offline:page": Row((200, 200, 200, 200, 200, 200)),
    "logout": Row((302, 302, 302, 302, 302, 302), method="post"),
    "password_change": Row((LOGIN, 200, 200, 200, 200, 200)),
    # The second factor: every signed-in user may manage her own; staff must have one.
    "mfa:verify": Row((LOGIN, 302, 302, 302, 302, 302)),
    "mfa:enrol": Row((LOGIN, 200, 200, 200, 200, 200)),
    "mfa:recovery_codes": Row((LOGIN, 302, 302, 200, 200, 200)),
    "mfa:manage": Row((LOGIN, 200, 200, 200, 200, 200)),
    "mfa:factor_remove": Row(
        (LOGIN, 404, 404, 302, 404, 404),
        kwargs=lambda cast: {"kind": "app", "pk": second_factor(cast.assigned_nurse).pk},
        method="post",
    ),
    "mfa:passkey_register_begin": Row((LOGIN, 200, 200, 200, 200, 200), method="post"),
    "mfa:passkey_register_complete": Row((LOGIN, 400, 400, 400, 400, 400), method="post"),
    "mfa:passkey_auth_begin": Row((LOGIN, 200, 200, 200, 200, 200), method="post"),
    "mfa:passkey_auth_complete": Row((LOGIN, 400, 400, 400, 400, 400), method="post"),
    # Signed-in devices: one's own; a coordinator ends a staff member's.
    "devices:mine": Row((LOGIN, 200, 200, 200, 200, 200)),
    "devices:end": Row((LOGIN, 302, 404, 404, 404, 404), kwargs=own_device_pk, method="post"),
    "devices:end_others": Row((LOGIN, 302, 302, 302, 302, 302), method="post"),
    "devices:staff": Row((LOGIN, 403, 403, 403, 403, 200)),
    "devices:staff_devices": Row((LOGIN, 403, 403, 403, 403, 200), kwargs=lambda cast: {"pk": cast.assigned_nurse.pk}),
    "devices:staff_end": Row(
        (LOGIN, 403, 403, 403, 403, 302), kwargs=lambda cast: {"pk": cast.assigned_nurse.pk}, method="post"
    ),
    # Emergency access: nurses ask (a form posted empty), coordinators see and end them.
    "emergency:start": Row((LOGIN, 403, 403, 400, 400, 403), method="post"),
    "emergency:list": Row((LOGIN, 403, 403, 403, 403, 200)),
    "emergency:end": Row((LOGIN, 403, 403, 403, 403, 302), kwargs=emergency_access_pk, method="post"),
    # The audit trail is the privacy officer's: the cast's coordinator is none.
    "audit:search": Row((LOGIN, 403, 403, 403, 403, 403)),
    "audit:export": Row((LOGIN, 403, 403, 403, 403, 403)),
    # The board's on-demand parts.
    "schedule:patient_search": Row((LOGIN, 403, 403, 403, 403, 400), method="post"),
    "schedule:visit_card": Row((LOGIN, 403, 403, 403, 403, 200), kwargs=upcoming_visit_pk),
    "schedule:nurse_picker": Row((LOGIN, 403, 403, 403, 403, 200), kwargs=upcoming_visit_pk),
    "password_change_done": Row((LOGIN, 200, 200, 200, 200, 200)),
    "password_reset": Row((200, 200, 200, 200, 200, 200)),
    "password_reset_done": Row((200, 200, 200, 200, 200, 200)),
    "password_reset_confirm": Row((200, 200, 200, 200, 200, 200), kwargs=reset_kwargs),
    "password_reset_complete": Row((200, 200, 200, 200, 200, 200)),
    "patients:list": Row((LOGIN, 403, 403, 200, 200, 200)),
    "patients:visits": Row((LOGIN, 200, 404, 200, 404, 200), kwargs=patient_pk),
    "patients:records": Row(
        (LOGIN, 200, 404, 200, 404, 200), kwargs=lambda cast: {"pk": cast.patient.pk, "section": "weights"}
    ),
    "patients:home_locate": Row((LOGIN, 403, 403, 302, 404, 403), kwargs=patient_pk, method="post"),
    "patients:create": Row((LOGIN, 403, 403, 403, 403, 200)),
    "patients:detail": Row((LOGIN, 200, 404, 200, 404, 200), kwargs=patient_pk),
    "patients:edit": Row((LOGIN, 403, 403, 403, 403, 200), kwargs=patient_pk),
    "patients:record_add": Row(
        (LOGIN, 403, 403, 403, 403, 400),
        kwargs=lambda cast: {"pk": cast.patient.pk, "section": "weights"},
        method="post",
    ),
    "patients:care_team_add": Row((LOGIN, 403, 403, 403, 403, 400), kwargs=patient_pk, method="post"),
    "patients:care_team_remove": Row(
        (LOGIN, 403, 403, 403, 403, 302),
        kwargs=lambda cast: {"pk": cast.patient.pk, "nurse_id": cast.assigned_nurse.pk},
        method="post",
    ),
    "patients:invite": Row((LOGIN, 403, 403, 403, 403, 400), kwargs=patient_pk, method="post"),
    "orders:create": Row((LOGIN, 403, 403, 403, 403, 200), kwargs=lambda cast: {"patient_pk": cast.patient.pk}),
    "orders:preview": Row(
        (LOGIN, 403, 403, 403, 403, 200), kwargs=lambda cast: {"patient_pk": cast.patient.pk}, method="post"
    ),
    "orders:detail": Row((LOGIN, 403, 403, 200, 404, 200), kwargs=lambda cast: {"pk": order_for(cast).pk}),
    "orders:edit": Row((LOGIN, 403, 403, 403, 403, 200), kwargs=lambda cast: {"pk": order_for(cast).pk}),
    "orders:edit_preview": Row(
        (LOGIN, 403, 403, 403, 403, 200), kwargs=lambda cast: {"pk": order_for(cast).pk}, method="post"
    ),
    "portal:home": Row((LOGIN, 200, 200, 403, 403, 403)),
    "portal:reschedule": Row((LOGIN, 400, 404, 403, 403, 403), kwargs=upcoming_visit_pk, method="post"),
    "portal:calendar_renew": Row((LOGIN, 302, 302, 403, 403, 403), method="post"),
    "portal:calendar_revoke": Row((LOGIN, 302, 302, 403, 403, 403), method="post"),
    "portal:calendar_feed": Row((200, 200, 200, 200, 200, 200), kwargs=calendar_token),
    "portal:journal": Row((LOGIN, 200, 200, 403, 403, 403)),
    "portal:journal_add": Row((LOGIN, 400, 400, 403, 403, 403), method="post"),
    "portal:journal_edit": Row((LOGIN, 400, 404, 403, 403, 403), kwargs=journal_entry_pk, method="post"),
    "portal:self_infusions": Row((LOGIN, 200, 200, 403, 403, 403)),
    "portal:self_infusion_add": Row((LOGIN, 400, 404, 403, 403, 403), kwargs=scig_taught, method="post"),
    "portal:preferences": Row((LOGIN, 200, 200, 403, 403, 403)),
    "portal:follow_up": Row((LOGIN, 200, 404, 403, 403, 403), kwargs=follow_up_pk),
    "notifications:inbox": Row((LOGIN, 403, 403, 200, 200, 200)),
    "notifications:read": Row((LOGIN, 403, 403, 302, 404, 404), kwargs=notification_pk, method="post"),
    "notifications:read_all": Row((LOGIN, 403, 403, 302, 302, 302), method="post"),
    "notifications:preferences": Row((LOGIN, 403, 403, 200, 200, 200)),
    "alerts:queue": Row((LOGIN, 403, 403, 403, 403, 200)),
    "alerts:acknowledge": Row((LOGIN, 403, 403, 403, 403, 302), method="post"),
    "alerts:resolve": Row((LOGIN, 403, 403, 403, 403, 302), method="post"),
    "alerts:resolved": Row((LOGIN, 403, 403, 403, 403, 200)),
    "alerts:follow_up_call": Row((LOGIN, 403, 403, 403, 403, 400), kwargs=follow_up_pk, method="post"),
    "alerts:notification_retry": Row((LOGIN, 403, 403, 403, 403, 302), kwargs=failed_notification_pk, method="post"),
    "alerts:resolve_request": Row((LOGIN, 403, 403, 403, 403, 400), kwargs=reschedule_request_pk, method="post"),
    "schedule:board": Row((LOGIN, 403, 403, 403, 403, 200)),
    "schedule:nurse_availability": Row(
        (LOGIN, 403, 403, 403, 403, 200), kwargs=lambda cast: {"nurse_id": cast.assigned_nurse.pk}
    ),
    "schedule:time_off_add": Row(
        (LOGIN, 403, 403, 403, 403, 400), kwargs=lambda cast: {"nurse_id": cast.assigned_nurse.pk}, method="post"
    ),
    "schedule:time_off_remove": Row(  # one hour off on the day the patient was registered
        (LOGIN, 403, 403, 403, 403, 302),
        kwargs=lambda cast: {
            "nurse_id": cast.assigned_nurse.pk,
            "time_off_id": cast.assigned_nurse.time_off.create(
                starts_at=cast.patient.created_at.replace(hour=0), ends_at=cast.patient.created_at.replace(hour=1)
            ).pk,
        },
        method="post",
    ),
    "schedule:assign": Row((LOGIN, 403, 403, 403, 403, 400), kwargs=upcoming_visit_pk, method="post"),
    "schedule:unassign": Row((LOGIN, 403, 403, 403, 403, 400), kwargs=upcoming_visit_pk, method="post"),
    "schedule:reschedule": Row((LOGIN, 403, 403, 403, 403, 400), kwargs=upcoming_visit_pk, method="post"),
    "schedule:cancel": Row((LOGIN, 403, 403, 403, 403, 400), kwargs=upcoming_visit_pk, method="post"),
    "schedule:missed": Row((LOGIN, 403, 403, 403, 403, 400), kwargs=upcoming_visit_pk, method="post"),
    "visits:today": Row((LOGIN, 403, 403, 200, 200, 403)),
    "visits:chart": Row((LOGIN, 403, 403, 200, 404, 200), kwargs=nurse_visit_pk),
    "visits:reaction_add": Row((LOGIN, 403, 403, 400, 404, 403), kwargs=nurse_visit_pk, method="post"),
    "visits:sign": Row((LOGIN, 403, 403, 400, 404, 403), kwargs=nurse_visit_pk, method="post"),
    "visits:addendum_add": Row((LOGIN, 403, 403, 400, 404, 400), kwargs=nurse_visit_pk, method="post"),
    "visits:outcome_add": Row((LOGIN, 403, 403, 400, 404, 403), kwargs=nurse_visit_pk, method="post"),
    "visits:checklist_save": Row((LOGIN, 403, 403, 400, 404, 403), kwargs=nurse_visit_pk, method="post"),
    "visits:checklist_override": Row((LOGIN, 403, 403, 400, 404, 403), kwargs=nurse_visit_pk, method="post"),
    "visits:checklist_complete": Row((LOGIN, 403, 403, 400, 404, 403), kwargs=nurse_visit_pk, method="post"),
    "visits:premedication_add": Row((LOGIN, 403, 403, 400, 404, 403), kwargs=nurse_visit_pk, method="post"),
    "visits:vial_add": Row((LOGIN, 403, 403, 400, 404, 403), kwargs=nurse_visit_pk, method="post"),
    "visits:vial_remove": Row(
        (LOGIN, 403, 403, 400, 404, 403), kwargs=vial_kwargs, method="post"
    ),  # a void needs its reason
    "visits:check_in": Row((LOGIN, 403, 403, 400, 404, 403), kwargs=nurse_visit_pk, method="post"),
    "visits:check_out": Row((LOGIN, 403, 403, 400, 404, 403), kwargs=nurse_visit_pk, method="post"),
    "visits:check_in_undo": Row((LOGIN, 403, 403, 400, 404, 403), kwargs=nurse_visit_pk, method="post"),
    "visits:print": Row((LOGIN, 403, 403, 200, 404, 200), kwargs=nurse_visit_pk),
    "visits:recall": Row((LOGIN, 403, 403, 403, 403, 200)),
    "visits:next": Row((LOGIN, 403, 403, 200, 404, 200), kwargs=nurse_visit_pk),
    "visits:infusion_start": Row((LOGIN, 403, 403, 400, 404, 403), kwargs=nurse_visit_pk, method="post"),
    "visits:infusion_rate": Row((LOGIN, 403, 403, 400, 404, 403), kwargs=nurse_visit_pk, method="post"),
    "visits:infusion_end": Row((LOGIN, 403, 403, 400, 404, 403), kwargs=nurse_visit_pk, method="post"),
    "visits:vitals_add": Row((LOGIN, 403, 403, 400, 404, 403), kwargs=nurse_visit_pk, method="post"),
    "visits:assessment_add": Row((LOGIN, 403, 403, 400, 404, 403), kwargs=nurse_visit_pk, method="post"),
    "visits:outbox_discard": Row((LOGIN, 403, 403, 400, 404, 403), kwargs=nurse_visit_pk, method="post"),
    "scig:teaching": Row((LOGIN, 403, 403, 200, 404, 200), kwargs=scig_visit_pk),
    "scig:teaching_sign": Row((LOGIN, 403, 403, 400, 404, 403), kwargs=scig_visit_pk, method="post"),
}

# The Django admin is for superusers only; every admin page sends other roles to the admin login.
ADMIN_SAMPLES = [
    lambda cast: reverse("admin:index"),
    lambda cast: reverse("admin:patients_patient_changelist"),
    lambda cast: reverse("admin:patients_patient_change", args=[cast.patient.pk]),
    lambda cast: reverse("admin:auditlog_logentry_changelist"),
    lambda cast: reverse("admin:visits_product_changelist"),
    lambda cast: reverse("admin:visits_notification_changelist"),
    lambda cast: reverse("admin:visits_notification_change", args=[notification_pk(cast)["pk"]]),
    lambda cast: reverse("admin:visits_notificationpreference_changelist"),
]


def all_url_names(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from all_url_names(pattern, inner)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name}" if pattern.name else f"{namespace}<unnamed {pattern.pattern}>"


def test_every_url_pattern_is_in_the_table():
    names = {name for name in all_url_names() if not name.startswith("admin:")}
    missing = sorted(names - set(TABLE))
    stale = sorted(set(TABLE) - names)
    assert not missing, f"Add these URL patterns to the access table: {missing}"
    assert not stale, f"These table rows name no URL pattern: {stale}"


CASES = [(name, role) for name in TABLE for role in ROLES]


@pytest.mark.parametrize(("name", "role"), CASES, ids=[f"{name}-{role}" for name, role in CASES])
def test_access(cast, name, role):
    row = TABLE[name]
    expected = row.expect[ROLES.index(role)]
    url = reverse(name, kwargs=row.kwargs(cast))
    response = getattr(client_for(cast.user(role)), row.method)(url, row.data(cast))
    if expected == LOGIN:
        assert response.status_code == 302, f"{role} {url}: {response.status_code}"
        assert response["Location"].startswith(reverse("login")), response["Location"]
    else:
        assert response.status_code == expected, f"{role} {row.method.upper()} {url}: {response.status_code}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("sample", range(len(ADMIN_SAMPLES)))
def test_admin_is_for_superusers_only(cast, role, sample):
    url = ADMIN_SAMPLES[sample](cast)
    response = client_for(cast.user(role)).get(url)
    assert response.status_code == 302
    assert response["Location"].startswith((reverse("admin:login"), reverse("login")))


def test_admin_pages_open_for_a_superuser(cast, admin_user):
    client = client_for(admin_user)
    for sample in ADMIN_SAMPLES:
        assert client.get(sample(cast)).status_code == 200


def test_forbidden_detail_reveals_nothing(cast):
    response = client_for(cast.unassigned_nurse).get(reverse("patients:detail", args=[cast.patient.pk]))
    assert response.status_code == 404
    assert cast.patient.last_name.encode() not in response.content
    assert cast.patient.mrn.encode() not in response.content
