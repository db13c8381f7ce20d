"""Every product URL, and ``/bench/bare/``: the cheapest page a signed-in user can be sent, through the same
middleware (session, authentication, second factor, audit), so each page's time can be read as a ratio to it.
Only ``visits.bench.settings`` serves it; it is not a product URL."""

from django.http import HttpResponse
from django.urls import include, path


def bare(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare, name="bench_bare"),
    path("", include("infusion_site.urls")),
]
