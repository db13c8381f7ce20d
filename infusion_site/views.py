from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

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
