"""The tablet's offline shell (service worker, manifest, the "needs a connection" page) and discarding an entry.

The worker and the manifest hold no patient data and are served to anyone; the pages the worker keeps are fetched
with the nurse's own session, so they are exactly what she may see.
"""

import hashlib
import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.staticfiles import finders
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from infusion_site.access import role_required
from infusion_site.roles import is_nurse
from visits.chart.offline import services
from visits.chart.offline.forms import DiscardForm
from visits.chart.views import documenting_visit

# What the worker keeps for the app to open with no connection.
SHELL_ASSETS = (
    "vendor/bootstrap/bootstrap.min.css",
    "css/app.css",
    "vendor/htmx/htmx.min.js",
    "vendor/bootstrap/bootstrap.bundle.min.js",
    "js/resume.js",
    "js/outbox.js",
    "js/chart.js",
    "icons/app.svg",
)


def shell_version() -> str:
    """Changes whenever a kept asset changes (its hashed name in production, its file in development), so the
    tablet's worker replaces its copies."""
    parts = []
    for path in SHELL_ASSETS:
        found = finders.find(path)
        parts.append(f"{static(path)}:{Path(found).stat().st_mtime_ns if found else ''}")
    parts.append(render_to_string("offline/offline.html"))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


@login_not_required
@require_GET
def service_worker(request):
    script = render_to_string(
        "offline/sw.js",
        {
            "version": shell_version(),
            "max_age_hours": settings.OFFLINE_PAGES_MAX_AGE_HOURS,
            "static_prefix": static(""),
            "assets_json": json.dumps([static(path) for path in SHELL_ASSETS]),
        },
    )
    response = HttpResponse(script, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@login_not_required
@require_GET
@never_cache
def manifest(request):
    """The web app manifest: the app installs on the tablet's home screen and opens on My day."""
    data = {
        "name": settings.AGENCY_NAME,
        "short_name": "Infusion visits",
        "start_url": reverse("visits:today"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0d6efd",
        "icons": [{"src": static("icons/app.svg"), "sizes": "any", "type": "image/svg+xml", "purpose": "any"}],
    }
    return HttpResponse(json.dumps(data), content_type="application/manifest+json")


@login_not_required
@require_GET
def offline_page(request):
    """What a page the tablet did not keep says when there is no connection. No user and no patient data."""
    return render(request, "offline/offline.html")


@role_required(is_nurse)
@require_POST
def discard(request, pk):
    """Discard an entry of the tablet's outbox that the server refused, with the nurse's reason (recorded)."""
    visit = documenting_visit(request, pk)
    form = DiscardForm(request.POST, visit=visit)
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return JsonResponse({"error": first, "fields": form.errors}, status=400)
    data = form.cleaned_data
    try:
        services.client_write_discard(
            visit=visit,
            nurse=request.user,
            client_id=data["client_id"],
            action=data["action_url"],
            summary=data["summary"],
            reason=data["reason"],
            client_at=data["client_at"],
        )
    except services.AlreadySaved as saved:
        when = timezone.localtime(saved.write.received_at, visit.patient.zone).strftime("%H:%M")
        return JsonResponse({"error": f"It was saved at {when}: it is on the chart, nothing to discard."}, status=409)
    return JsonResponse({"ok": True})
