from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin

admin.site.site_header = "Home infusion administration"
admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class ReadOnlyLogEntryAdmin(LogEntryAdmin):
    """The audit trail is read-only here: no add, change or delete, not even by cascade."""

    actions = None

    def has_delete_permission(self, request, obj=None):
        return False
