from django.urls import path

from visits import portal

app_name = "portal"

urlpatterns = [
    path("", portal.home, name="home"),
    path("visits/<int:pk>/reschedule/", portal.reschedule, name="reschedule"),
    path("calendar/renew/", portal.calendar_renew, name="calendar_renew"),
    path("calendar/revoke/", portal.calendar_revoke, name="calendar_revoke"),
    path("calendar/<str:token>.ics", portal.calendar_feed, name="calendar_feed"),
]
