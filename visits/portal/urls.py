from django.urls import path, register_converter

from visits.portal import journal, notifications, views


class FeedTokenConverter:
    """A calendar feed token: the URL-safe base64 alphabet of ``new_feed_token`` (``secrets.token_urlsafe(32)``, 43
    characters), at most as long as its column (64). Anything else, a NUL, a dot or a 10 kB string, is a 404 before
    the database is asked."""

    regex = "[A-Za-z0-9_-]{20,64}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(FeedTokenConverter, "feed_token")

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("visits/<int:pk>/reschedule/", views.reschedule, name="reschedule"),
    path("calendar/renew/", views.calendar_renew, name="calendar_renew"),
    path("calendar/revoke/", views.calendar_revoke, name="calendar_revoke"),
    path("calendar/<feed_token:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("journal/", journal.journal, name="journal"),
    path("journal/add/", journal.journal_add, name="journal_add"),
    path("journal/<int:pk>/edit/", journal.journal_edit, name="journal_edit"),
    path("self-infusions/", views.self_infusions, name="self_infusions"),
    path("self-infusions/add/", views.self_infusion_add, name="self_infusion_add"),
    path("reminders/", notifications.preferences, name="preferences"),
    path("follow-ups/<int:pk>/", notifications.follow_up, name="follow_up"),
]
