from django.contrib.auth import authenticate, login
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from infusion_site import health
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
    """
    username = (request.POST.get("username") or "")[:150]
    password = (request.POST.get("password") or "")[:4096]
    if "\x00" in username or "\x00" in password or not username or not password:
        return JsonResponse({"error": "Type your password to go on."}, status=400)
    user = authenticate(request, username=username, password=password)
    if user is None:
        return JsonResponse({"error": "That is not your password; nothing was sent."}, status=400)
    login(request, user)
    return JsonResponse({"csrf": get_token(request)})
