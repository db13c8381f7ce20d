"""The admin's part of the audit trail: opening a patient row in the admin is an access, and a user who appears in
the trail is deactivated, never deleted (the trail must keep naming them; infusion_site.audit refuses it in code)."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.shortcuts import redirect
from django.urls import reverse

from infusion_site.audit import has_audit_history, patient_path, record_access

REFUSAL = "{user} has entries in the audit trail, so the account is kept: deactivate it instead (the action "
REFUSAL += "“Deactivate the selected users” on the user list, or untick “Active”)."


def audit_admin_change_views(site: admin.AdminSite) -> None:
    """Wrap the change page of every admin whose model leads to a patient: a 200 GET records one access."""
    for model, model_admin in site._registry.items():
        about = any(field.name == "about" for field in model._meta.private_fields)  # a notice about a visit
        if (patient_path(model) is None and not about) or getattr(model_admin, "_change_view_audited", False):
            continue
        model_admin.change_view = _audited(model_admin.change_view)
        model_admin._change_view_audited = True


def _audited(change_view):
    def view(request, object_id, form_url="", extra_context=None):
        response = change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            shown = getattr(response, "context_data", None) or {}
            if shown.get("original") is not None:
                record_access(shown["original"])
        return response

    return view


@admin.action(description="Deactivate the selected users (kept for the audit trail)")
def deactivate_users(modeladmin, request, queryset):
    count = queryset.filter(is_active=True).update(is_active=False)
    modeladmin.message_user(request, f"{count} user{'s' if count != 1 else ''} deactivated.", messages.SUCCESS)


User = get_user_model()


class AuditedUserAdmin(UserAdmin):
    actions = [deactivate_users]

    def get_actions(self, request):
        # Bulk delete would cascade past the check of each user; deactivation is what is offered.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        user = self.get_object(request, unquote(object_id))
        if user is not None and has_audit_history(user):
            self.message_user(request, REFUSAL.format(user=user.get_username()), messages.ERROR)
            return redirect(reverse("admin:auth_user_change", args=[user.pk]))
        return super().delete_view(request, object_id, extra_context)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, AuditedUserAdmin)
