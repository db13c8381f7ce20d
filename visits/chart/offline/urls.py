from django.urls import path

from visits.chart.offline import views

app_name = "offline"

# At the site's root: a service worker controls the pages under its own path, and the tablet's are all of them.
urlpatterns = [
    path("sw.js", views.service_worker, name="worker"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("offline/", views.offline_page, name="page"),
]
