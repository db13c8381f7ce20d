from django.contrib import admin

from visits import models


@admin.register(models.Product)
class ProductAdmin(admin.ModelAdmin):
    """The product catalog: label facts the dose and titration arithmetic uses (DESIGN §2)."""

    list_display = ["name", "drug", "therapy", "route", "is_active"]
    list_filter = ["therapy", "route", "is_active"]
    search_fields = ["name", "drug", "manufacturer"]


@admin.register(models.Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Read-only: what was sent to whom, when, and why a message failed. Sending happens in the workers."""

    list_display = ["kind", "channel", "recipient", "due_at", "sent_at", "failed_at", "attempts", "last_error"]
    list_filter = [
        "kind",
        "channel",
        ("sent_at", admin.EmptyFieldListFilter),
        ("failed_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["key", "recipient__username"]
    date_hierarchy = "due_at"
    list_select_related = ["recipient"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(models.NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "by_email", "by_sms", "in_app", "reminder_hours", "quiet_start", "quiet_end"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
