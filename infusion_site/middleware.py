"""Session lifetime: idle logoff and an absolute limit, both enforced on the server.

Two timestamps live in the session: when the user signed in and when they were last
seen. A request after ``SESSION_IDLE_TIMEOUT`` seconds of silence, or more than
``SESSION_ABSOLUTE_LIFETIME`` seconds after sign-in, logs the user out before the
view runs, so LoginRequiredMiddleware sends them to the login page.
"""

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

BACKGROUND_POLL_HEADER = "X-Background-Poll"
SIGNED_IN_AT = "_signed_in_at"
LAST_SEEN_AT = "_last_seen_at"
# "Last seen" is kept to the minute: writing it on every request would save the session (and the signed-in
# device's row) on every page and every in-page update. Idle logoff is then exact to within this, or to a
# fifteenth of the idle timeout when that is shorter than 15 minutes (a minute of error in a 2-minute timeout
# would sign out someone who never stopped working).
LAST_SEEN_RESOLUTION_SECONDS = 60


def last_seen_resolution() -> int:
    return min(LAST_SEEN_RESOLUTION_SECONDS, settings.SESSION_IDLE_TIMEOUT // 15)


# Set on the request when this request moved "last seen" on (infusion_site.devices follows it).
LAST_SEEN_RECORDED = "last_seen_recorded"


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
            elif not request.headers.get(BACKGROUND_POLL_HEADER) and (
                LAST_SEEN_AT not in session or now - last_seen_at >= last_seen_resolution()
            ):
                # A page refreshing itself (the chart's "what is next" strip) is not the user being active.
                session[LAST_SEEN_AT] = now
                setattr(request, LAST_SEEN_RECORDED, True)
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


# What PostgreSQL cannot keep in a text column: the NUL character (it ends strings in C), and lone UTF-16
# surrogates, which have no UTF-8 form. Browsers never send either; a value holding one is a mistake or an attack.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

UNSTORABLE_MESSAGES = {
    "path": "The address you opened holds a character that cannot be stored (a NUL byte or a broken "
    "Unicode character). Check the address and try again.",
    "query": "The address holds a parameter whose name has a character that cannot be stored (a NUL byte or a "
    "broken Unicode character). Remove it and try again.",
    "form": "The form you sent names a field or a file with a character that cannot be stored (a NUL byte or a "
    "broken Unicode character). Reload the page and try again.",
    "header": "Your browser sent a request header or cookie holding a character that cannot be stored (a NUL byte). "
    "Clear this site's cookies, then try again.",
}


def _unstorable_in(values) -> bool:
    return any(_UNSTORABLE.search(value) for value in values if isinstance(value, str))


class UnstorableInputMiddleware:
    """Answer 400, before the session is looked up or any view runs, when what no field of a form can answer for
    holds a character no text column can hold: the path, the name of a query parameter, of a form field or of an
    uploaded file, or a request header (cookies included).

    A NUL in a field's value is left to the form, which says so next to the field (Django's "Null characters are
    not allowed.", or the section's own words) and keeps what the user typed elsewhere; the fuzz
    (tests/test_no_500_fuzz.py) holds every form to that. Otherwise SQLite keeps a NUL and PostgreSQL refuses it
    mid-view ("A string literal cannot contain NUL"), a 500 and a half-done request. An in-page (htmx) request gets
    the same 400 with ``HX-Reswap: none``, so the section is left as it was and htmx reports the error.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        where = self.unstorable_part(request)
        if where:
            return self.refuse(request, where)
        return self.get_response(request)

    @staticmethod
    def unstorable_part(request) -> str | None:
        if _unstorable_in([request.path, request.path_info]):
            return "path"
        if _unstorable_in(request.GET.keys()):
            return "query"
        if _unstorable_in([value for key, value in request.META.items() if key.startswith("HTTP_")]):
            return "header"
        if request.method in ("POST", "PUT", "PATCH") and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            # A malformed or oversized body raises here; Django's handler answers that 400 itself.
            names = [upload.name for _, uploads in request.FILES.lists() for upload in uploads]
            if _unstorable_in([*request.POST.keys(), *request.FILES.keys(), *names]):
                return "form"
        return None

    @staticmethod
    def refuse(request, where: str) -> HttpResponse:
        message = UNSTORABLE_MESSAGES[where]
        # Rendered without the request: nothing of the refused request (the session included) is read.
        body = render_to_string("400.html", {"message": message})
        response = HttpResponse(body, status=400, content_type="text/html; charset=utf-8")
        if request.headers.get("HX-Request"):
            response["HX-Reswap"] = "none"
        return response
