"""Session lifetime: idle logoff and an absolute limit, both enforced on the server.

Two timestamps live in the session: when the user signed in and when they were last
seen. A request after ``SESSION_IDLE_TIMEOUT`` seconds of silence, or more than
``SESSION_ABSOLUTE_LIFETIME`` seconds after sign-in, logs the user out before the
view runs, so LoginRequiredMiddleware sends them to the login page.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpResponse
from django.utils import timezone

BACKGROUND_POLL_HEADER = "X-Background-Poll"
SIGNED_IN_AT = "_signed_in_at"
LAST_SEEN_AT = "_last_seen_at"


SIGNED_OUT_HEADER = "X-Signed-Out"


def signed_out() -> HttpResponse:
    """The answer to an in-page request without a session: 401, nothing swapped, the page and its forms intact."""
    return HttpResponse(
        "Signed out: sign in again to go on.",
        status=401,
        content_type="text/plain; charset=utf-8",
        headers={SIGNED_OUT_HEADER: "1", "HX-Reswap": "none"},
    )


class InPageLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Django's login requirement, except that an in-page (htmx) request is answered 401 instead of being
    redirected: a redirect would be followed and the login page swapped into the section being saved."""

    def handle_no_permission(self, request, view_func):
        if request.headers.get("HX-Request"):
            return signed_out()
        return super().handle_no_permission(request, view_func)


class SessionLifetimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = timezone.now().timestamp()
            session = request.session
            signed_in_at = session.setdefault(SIGNED_IN_AT, now)
            last_seen_at = session.get(LAST_SEEN_AT, now)
            idle = now - last_seen_at > settings.SESSION_IDLE_TIMEOUT
            too_old = now - signed_in_at > settings.SESSION_ABSOLUTE_LIFETIME
            if idle or too_old:
                logout(request)
                if request.headers.get("HX-Request"):
                    # An in-page update must neither swap the login page into a corner of the chart nor leave
                    # the page: the chart asks for the password in place and sends the same request again.
                    return signed_out()
                messages.info(
                    request,
                    f"You were signed out after {settings.SESSION_IDLE_TIMEOUT // 60} minutes without "
                    "activity. Please sign in again."
                    if idle
                    else f"Your session reached its {settings.SESSION_ABSOLUTE_LIFETIME // 3600}-hour limit. "
                    "Please sign in again.",
                )
            elif not request.headers.get(BACKGROUND_POLL_HEADER):
                # A page refreshing itself (the chart's "what is next" strip) is not the user being active.
                session[LAST_SEEN_AT] = now
        return self.get_response(request)


@receiver(user_logged_in)
def start_session_clock(sender, request, user, **kwargs):
    now = timezone.now().timestamp()
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN_AT] = now


# The browser features the app uses: the location, at check-in and for the home's location. Nothing else.
PERMISSIONS_POLICY = "geolocation=(self), camera=(), microphone=(), payment=(), usb=(), display-capture=()"


class PrivateResponsesMiddleware:
    """A signed-in user's pages hold patient data or their account: no browser, shared computer or proxy keeps a
    copy (``Cache-Control: no-store``). The tablet's offline copies are its service worker's own, kept for the
    nurse's visits of today and tomorrow and deleted at sign-out (visits/chart/offline). Every answer says which
    browser features pages may use (``Permissions-Policy``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = "no-store, private"
        return response
