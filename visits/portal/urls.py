from django.urls import path

from visits.portal import journal, notifications, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("visits/<int:pk>/reschedule/", views.reschedule, name="reschedule"),
    path("calendar/renew/", views.calendar_renew, name="calendar_renew"),
    path("calendar/revoke/", views.calendar_revoke, name="calendar_revoke"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("journal/", journal.journal, name="journal"),
    path("journal/add/", journal.journal_add, name="journal_add"),
    path("journal/<int:pk>/edit/", journal.journal_edit, name="journal_edit"),
    path("self-infusions/", views.self_infusions, name="self_infusions"),
    path("self-infusions/add/", views.self_infusion_add, name="self_infusion_add"),
    path("reminders/", notifications.preferences, name="preferences"),
    path("follow-ups/<int:pk>/", notifications.follow_up, name="follow_up"),
]
