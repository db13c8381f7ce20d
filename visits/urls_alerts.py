from django.urls import path

from visits import views_alerts

app_name = "alerts"

urlpatterns = [
    path("", views_alerts.queue, name="queue"),
    path("requests/<int:pk>/resolve/", views_alerts.resolve_request, name="resolve_request"),
]
