"""No page for an account that must pass the second step until it has: staff always, patients who opted in.

Signed in with the password only, such an account may open the second step, enrolment (when it has no factor
yet), sign-out and the pages that hold nothing (health, the offline shell); everything else, the admin included,
sends it to the second step or, without any factor yet, to enrolment. It also remembers the browser that passed the
second step (infusion_site.mfa.services.remember_browser), which is what lets the idle-logoff resume restore it.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from infusion_site.mfa import selectors, services
from infusion_site.middleware import signed_out

# Views an account may open before its second step: signing in and out, the second step itself and the pages
# that hold no data. Enrolment is open only to an account without a factor (its view checks that again).
OPEN_BEFORE_SECOND_STEP = {
    "login",
    "logout",
    "resume_session",
    "healthz",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "offline:worker",
    "offline:manifest",
    "offline:page",
    "mfa:verify",
    "mfa:enrol",
    "mfa:passkey_auth_begin",
    "mfa:passkey_auth_complete",
}


class SecondFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if getattr(request, "_mfa_forget_browser", False):
            services.forget_browser(response=response)
        elif user is not None and user.is_authenticated and getattr(user, "otp_device", None) is not None:
            if not services.remembers_browser(request=request, user=user, device=user.otp_device):
                services.remember_browser(request=request, response=response, user=user, device=user.otp_device)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        name = match.view_name if match else ""
        if name == "logout" and request.method == "POST":
            # Signing out on purpose forgets this browser; the idle logoff does not (resume relies on it).
            request._mfa_forget_browser = True
        user = request.user
        if not user.is_authenticated or user.is_verified() or request.path.startswith("/" + settings.STATIC_URL):
            return None
        # Pages know the second step is pending (base.html then starts neither the outbox nor the resume dialog).
        request.second_step_pending = pending = selectors.must_verify(user)
        if name in OPEN_BEFORE_SECOND_STEP or not pending:
            return None
        if request.headers.get("HX-Request"):
            # An in-page update, or an entry the chart's outbox sends, is refused as a signed-out request is (401,
            # nothing swapped): the outbox keeps the entry and the form keeps what she typed, never taking a
            # redirect for a save. A 2xx here would tell the outbox its entry was saved, and it would be dropped.
            return signed_out()
        destination = "mfa:verify" if selectors.has_second_factor(user) else "mfa:enrol"
        # Back to the page she opened once verified; a refused form post cannot be replayed, so that goes home.
        url = reverse(destination)
        if request.method == "GET":
            url = f"{url}?{urlencode({'next': request.get_full_path()})}"
        return redirect(url)
