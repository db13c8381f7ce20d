from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn import views as webauthn_views
from django_otp_webauthn.models import WebAuthnCredential

from infusion_site.forms import add_service_errors
from infusion_site.mfa import selectors, services
from infusion_site.mfa.forms import EnrolForm, SecondStepForm

# Recovery codes made at enrolment wait here for the one page that shows them, then are gone.
NEW_CODES_SESSION_KEY = "_mfa_new_recovery_codes"
FACTOR_MODELS = {"app": TOTPDevice, "passkey": WebAuthnCredential}


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url("home")


@never_cache
@sensitive_post_parameters("token")
def verify(request):
    """The second step after the password: a code from the app, a recovery code, or a passkey."""
    if request.user.is_verified():
        return redirect(_next_url(request))
    if not selectors.has_second_factor(request.user):
        return redirect("mfa:enrol")
    form = SecondStepForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.second_step_verify(request=request, token=form.cleaned_data["token"])
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return redirect(_next_url(request))
        status = 400
    context = {"form": form, "next": _next_url(request), "passkey": selectors.has_passkey(request.user)}
    return render(request, "registration/mfa/verify.html", context, status=status)


@never_cache
@sensitive_post_parameters("token")
def enrol(request):
    """Set up an authenticator app: scan the QR code (or type the secret), then type the code it shows.

    Open to an account with no factor yet (its first sign-in) and to a verified one adding another app; an account
    that has a factor but has not passed the second step must pass it first, or a stolen password would be enough
    to add a thief's app."""
    user = request.user
    if not user.is_verified() and selectors.has_second_factor(user):
        return redirect("mfa:verify")
    device = services.totp_device_start(user=user)
    form = EnrolForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            first = not selectors.recovery_codes_left(user=user)
            try:
                services.totp_device_confirm(request=request, device=device, token=form.cleaned_data["token"])
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                if first:
                    request.session[NEW_CODES_SESSION_KEY] = services.recovery_codes_issue(user=user)
                    return redirect(f"{resolve_url('mfa:recovery_codes')}?{urlencode({'next': _next_url(request)})}")
                messages.success(request, "Your authenticator app is set up.")
                return redirect("mfa:manage")
        status = 400
    context = {
        "form": form,
        "qr_svg": services.totp_qr_svg(device),
        "secret": services.totp_secret(device),
        "next": _next_url(request),
        "first": not selectors.has_second_factor(user),
    }
    return render(request, "registration/mfa/enrol.html", context, status=status)


@never_cache
def recovery_codes(request):
    """The ten one-time codes, shown once: right after enrolment, or when she asks for new ones (the old stop)."""
    user = request.user
    if not selectors.has_second_factor(user):
        return redirect("mfa:manage")
    if request.method == "POST":
        codes = services.recovery_codes_issue(user=user)
    else:
        codes = request.session.pop(NEW_CODES_SESSION_KEY, None)
    context = {"codes": codes, "left": selectors.recovery_codes_left(user=user), "next": _next_url(request)}
    return render(request, "registration/mfa/recovery_codes.html", context)


@never_cache
def manage(request):
    """Her own sign-in methods: apps and passkeys, recovery codes left; add, renew, remove."""
    user = request.user
    factors = selectors.authenticators(user=user)
    rows = [
        {"device": device, "kind": "passkey" if isinstance(device, WebAuthnCredential) else "app"} for device in factors
    ]
    context = {
        "rows": rows,
        "left": selectors.recovery_codes_left(user=user),
        "staff": selectors.is_staff_account(user),
        "removable": not selectors.is_staff_account(user) or len(factors) > 1,
    }
    return render(request, "registration/mfa/manage.html", context)


@require_POST
def factor_remove(request, kind, pk):
    model = FACTOR_MODELS.get(kind)
    device = model.objects.filter(pk=pk, user=request.user).first() if model else None
    if device is None:
        raise Http404("No such sign-in method of yours.")
    try:
        services.factor_remove(user=request.user, device=device)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Removed: {device.name}.")
    return redirect("mfa:manage")


# Passkeys: django-otp-webauthn's ceremonies (JSON), driven by static/js/mfa-passkey.js. Registration needs a
# verified session (the middleware sends staff to the second step first); authentication is the second step.
passkey_register_begin = webauthn_views.BeginCredentialRegistrationView.as_view()
passkey_register_complete = webauthn_views.CompleteCredentialRegistrationView.as_view()
passkey_auth_begin = webauthn_views.BeginCredentialAuthenticationView.as_view()
passkey_auth_complete = webauthn_views.CompleteCredentialAuthenticationView.as_view()
