from django.urls import path

from visits.alerts import views as views_alerts

app_name = "alerts"

urlpatterns = [
    path("", views_alerts.queue, name="queue"),
    path("requests/<int:pk>/resolve/", views_alerts.resolve_request, name="resolve_request"),
    path("follow-ups/<int:pk>/call/", views_alerts.follow_up_call, name="follow_up_call"),
    path("notifications/<int:pk>/retry/", views_alerts.notification_retry, name="notification_retry"),
]
