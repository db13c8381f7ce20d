from django.urls import path

from visits.portal import journal as portal_journal
from visits.portal import notifications as portal_notifications
from visits.portal import views as portal

app_name = "portal"

urlpatterns = [
    path("", portal.home, name="home"),
    path("visits/<int:pk>/reschedule/", portal.reschedule, name="reschedule"),
    path("calendar/renew/", portal.calendar_renew, name="calendar_renew"),
    path("calendar/revoke/", portal.calendar_revoke, name="calendar_revoke"),
    path("calendar/<str:token>.ics", portal.calendar_feed, name="calendar_feed"),
    path("journal/", portal_journal.journal, name="journal"),
    path("journal/add/", portal_journal.journal_add, name="journal_add"),
    path("journal/<int:pk>/edit/", portal_journal.journal_edit, name="journal_edit"),
    path("reminders/", portal_notifications.preferences, name="preferences"),
    path("follow-ups/<int:pk>/", portal_notifications.follow_up, name="follow_up"),
]
