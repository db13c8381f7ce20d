"""The three roles of the service and the helpers every app uses to ask about them.

A user's role is their group membership (superusers act as coordinators). The
first group found wins; nobody is given two roles by the app.
"""

import rules
from django.contrib.auth.models import Group

NURSE = "Nurse"
COORDINATOR = "Coordinator"
PATIENT = "Patient"
ROLES = (NURSE, COORDINATOR, PATIENT)


def role_of(user) -> str | None:
    if not user or not user.is_authenticated:
        return None
    if user.is_superuser:
        return COORDINATOR
    cached = getattr(user, "_role_cache", False)
    if cached is not False:
        return cached
    names = set(user.groups.values_list("name", flat=True))
    role = next((role for role in (COORDINATOR, NURSE, PATIENT) if role in names), None)
    user._role_cache = role
    return role


def ensure_groups() -> dict[str, Group]:
    return {name: Group.objects.get_or_create(name=name)[0] for name in ROLES}


def give_role(user, role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}")
    user.groups.add(ensure_groups()[role])
    user._role_cache = role


@rules.predicate
def is_coordinator(user) -> bool:
    return role_of(user) == COORDINATOR


@rules.predicate
def is_nurse(user) -> bool:
    return role_of(user) == NURSE


@rules.predicate
def is_patient(user) -> bool:
    return role_of(user) == PATIENT


@rules.predicate
def is_staff_member(user) -> bool:
    return role_of(user) in (COORDINATOR, NURSE)


# Not a role: a permission a coordinator (or any staff member) is given on top of their role, through this group or
# directly in the admin. It opens the audit trail search (/audit/).
PRIVACY_OFFICER = "Privacy officer"


def make_privacy_officer(user) -> None:
    from infusion_site.audit import audit_trail_permission

    group, _ = Group.objects.get_or_create(name=PRIVACY_OFFICER)
    group.permissions.add(audit_trail_permission())
    user.groups.add(group)
    for cache in ("_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)


@rules.predicate
def is_privacy_officer(user) -> bool:
    from infusion_site.audit import AUDIT_TRAIL_PERMISSION

    return bool(user and user.is_authenticated and user.is_active and user.has_perm(AUDIT_TRAIL_PERMISSION))
