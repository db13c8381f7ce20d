from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin

from infusion_site import audit_admin  # noqa: F401  (the user admin that keeps people of the audit trail)

admin.site.site_header = "Home infusion administration"
admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class ReadOnlyLogEntryAdmin(LogEntryAdmin):
    """The audit trail is read-only here: no add, change or delete, not even by cascade."""

    actions = None

    def has_delete_permission(self, request, obj=None):
        return False
