from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from infusion_site import views
from infusion_site.forms import LoginForm

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("accounts/resume/", views.resume_session, name="resume_session"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("patients/", include("patients.urls")),
    path("portal/", include("visits.portal.urls")),
    path("alerts/", include("visits.alerts.urls")),
    path("notifications/", include("visits.notifications.urls")),
    path("", include("visits.chart.offline.urls")),
    path("visits/", include("visits.chart.urls")),
    path("visits/", include("visits.scig.urls")),
    path("schedule/", include("visits.board.urls")),
    path("", include("visits.orders.urls")),
    path("admin/", admin.site.urls),
]
