from django.urls import path

from infusion_site.mfa import views

app_name = "mfa"

urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("enrol/", views.enrol, name="enrol"),
    path("recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("", views.manage, name="manage"),
    path("<str:kind>/<int:pk>/remove/", views.factor_remove, name="factor_remove"),
    path("passkeys/register/begin/", views.passkey_register_begin, name="passkey_register_begin"),
    path("passkeys/register/complete/", views.passkey_register_complete, name="passkey_register_complete"),
    path("passkeys/sign-in/begin/", views.passkey_auth_begin, name="passkey_auth_begin"),
    path("passkeys/sign-in/complete/", views.passkey_auth_complete, name="passkey_auth_complete"),
]
