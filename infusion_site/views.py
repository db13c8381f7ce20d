from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from infusion_site import health, login_throttle
from infusion_site.forms import PASSWORD_MAX_LENGTH, USERNAME_MAX_LENGTH, has_control_characters
from infusion_site.mfa import services as mfa_services
from infusion_site.roles import COORDINATOR, NURSE, PATIENT, role_of

ROLE_HOMES = {
    COORDINATOR: "schedule:board",
    NURSE: "visits:today",
    PATIENT: "portal:home",
}


def home(request):
    """Send each role to its own home; a user without a role sees why."""
    destination = ROLE_HOMES.get(role_of(request.user))
    if destination is None:
        raise PermissionDenied("This account has no role yet. Ask the agency to assign one.")
    return redirect(destination)


@login_not_required
@require_GET
@never_cache
def healthz(request):
    status = {
        "database": health.database_status(),
        "redis": health.redis_status(),
        "worker": health.worker_status(),
    }
    return JsonResponse(status, status=200 if status["database"] == "ok" else 503)


@login_not_required
@require_POST
@never_cache
@sensitive_post_parameters("password")
def resume_session(request):
    """Sign the same user in again from a page whose session ended (idle logoff), without leaving it.

    Only the account the page was opened with (``username``, fixed on the page) may resume there: anyone else
    signs in on the sign-in page, so what one nurse typed is never sent under another's name. Wrong passwords count
    towards the lockout like the sign-in page's. Answers the new CSRF token, which the page puts in its forms.
    The second factor is restored only where this browser passed it for her within a session's lifetime
    (infusion_site.mfa); otherwise she is told to sign in on the sign-in page.
    """
    username = request.POST.get("username") or ""
    password = request.POST.get("password") or ""
    if (
        not username
        or not password
        or len(username) > USERNAME_MAX_LENGTH
        or len(password) > PASSWORD_MAX_LENGTH
        or has_control_characters(username)
        or "\x00" in password
    ):
        return JsonResponse({"error": "Type your password to go on."}, status=400)
    # The same per-account throttle as the sign-in page: the page's browser signed in before, so it is never slowed.
    wait = login_throttle.seconds_to_wait(request=request, username=username)
    if wait:
        return JsonResponse({"error": login_throttle.wait_message(wait)}, status=429)
    user = authenticate(request, username=username, password=password)
    if user is None:
        return JsonResponse({"error": "That is not your password; nothing was sent."}, status=400)
    if not mfa_services.session_resume(request=request, user=user):
        # This browser never passed her second step (or that was too long ago): the sign-in page asks for it.
        return JsonResponse(
            {
                "error": "For your security, sign in on the sign-in page with your code this time.",
                "login": reverse("login"),
            },
            status=403,
        )
    return JsonResponse({"csrf": get_token(request)})
