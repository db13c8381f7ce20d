"""Object rules for patient records (django-rules)."""

import rules

from infusion_site.roles import is_coordinator, is_nurse


@rules.predicate
def is_on_care_team(user, patient) -> bool:
    return patient is not None and patient.care_team_members.filter(nurse=user).exists()


@rules.predicate
def holds_emergency_access(user, patient) -> bool:
    """Broke the glass for this patient and the access has neither expired nor been ended (patients.emergency)."""
    return patient is not None and patient.emergency_accesses.active().filter(nurse=user).exists()


@rules.predicate
def is_own_record(user, patient) -> bool:
    return patient is not None and patient.user_id == user.pk


rules.add_perm("patients.list_patients", is_coordinator | is_nurse)
rules.add_perm(
    "patients.view_patient",
    is_coordinator | (is_nurse & (is_on_care_team | holds_emergency_access)) | is_own_record,
)
rules.add_perm("patients.add_patient", is_coordinator)
rules.add_perm("patients.change_patient", is_coordinator)
rules.add_perm("patients.invite_patient", is_coordinator)
