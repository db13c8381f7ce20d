from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django_otp.admin import OTPAdminSite

from infusion_site import views
from infusion_site.audit_admin import audit_admin_change_views
from infusion_site.forms import LoginForm
from infusion_site.password_reset.views import PasswordResetView

# The admin asks for the second factor too: a superuser who has not passed it is sent to its login (django-otp).
admin.site.__class__ = OTPAdminSite

# Every admin is registered by now: their change pages of patient rows record an access.
audit_admin_change_views(admin.site)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("accounts/resume/", views.resume_session, name="resume_session"),
    path("accounts/mfa/", include("infusion_site.mfa.urls")),
    path("accounts/", include("infusion_site.devices.urls")),
    # Before Django's own: the reset mail is sent by the worker, throttled (infusion_site/password_reset).
    path("accounts/password_reset/", PasswordResetView.as_view(), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("patients/emergency/", include("patients.emergency.urls")),
    path("patients/", include("patients.urls")),
    path("portal/", include("visits.portal.urls")),
    path("alerts/", include("visits.alerts.urls")),
    path("notifications/", include("visits.notifications.urls")),
    path("", include("visits.chart.offline.urls")),
    path("visits/", include("visits.chart.urls")),
    path("visits/", include("visits.scig.urls")),
    path("schedule/", include("visits.board.urls")),
    path("", include("visits.orders.urls")),
    path("audit/", include("patients.audit_trail.urls")),
    path("admin/", admin.site.urls),
]
