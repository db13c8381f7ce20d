from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from infusion_site import views
from infusion_site.forms import LoginForm

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("patients/", include("patients.urls")),
    path("portal/", include("visits.urls_portal")),
    path("alerts/", include("visits.urls_alerts")),
    path("notifications/", include("visits.urls_notifications")),
    path("visits/", include("visits.urls")),
    path("schedule/", include("visits.urls_board")),
    path("", include("visits.urls_orders")),
    path("admin/", admin.site.urls),
]
