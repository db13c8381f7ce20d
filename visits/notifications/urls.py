from django.urls import path

from visits.notifications import views as views_notifications

app_name = "notifications"

urlpatterns = [
    path("", views_notifications.inbox, name="inbox"),
    path("<int:pk>/read/", views_notifications.mark_read, name="read"),
    path("read-all/", views_notifications.mark_all_read, name="read_all"),
    path("preferences/", views_notifications.preferences, name="preferences"),
]
