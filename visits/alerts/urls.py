from django.urls import path

from visits.alerts import views

app_name = "alerts"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("acknowledge/", views.acknowledge, name="acknowledge"),
    path("resolve/", views.resolve, name="resolve"),
    path("resolved/", views.resolved, name="resolved"),
    path("requests/<int:pk>/resolve/", views.resolve_request, name="resolve_request"),
    path("follow-ups/<int:pk>/call/", views.follow_up_call, name="follow_up_call"),
    path("notifications/<int:pk>/retry/", views.notification_retry, name="notification_retry"),
]
