"""The product's settings, serving the bench's URLconf (the product's pages plus a bare view) and static files
without the manifest (nothing is collected for a bench run; no page of it asks for a static file)."""

from infusion_site.settings import *  # noqa: F403
from infusion_site.settings import STORAGES

ROOT_URLCONF = "visits.bench.urls"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# An empty folder bin/bench makes, so that whitenoise (with DEBUG off) finds one and says nothing.
STATIC_ROOT = BASE_DIR / ".run" / "bench" / "static"  # noqa: F405
