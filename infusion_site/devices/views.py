from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from infusion_site.access import role_required
from infusion_site.devices import selectors, services
from infusion_site.roles import is_coordinator, is_privacy_officer


def my_devices(request):
    """Any signed-in user's account page: where they are signed in (this device marked), and the way to their
    password, their second factor and, for a privacy officer, the audit trail."""
    return render(
        request,
        "devices/mine.html",
        {
            "devices": selectors.devices_of(user=request.user),
            "current_key": request.session.session_key,
            "privacy_officer": is_privacy_officer(request.user),
        },
    )


@require_POST
def my_device_end(request, pk):
    if not services.user_session_end(
        user=request.user, user_session_id=pk, current_session_key=request.session.session_key
    ):
        raise Http404("No such device of yours.")
    messages.success(request, "That device is signed out.")
    return redirect("devices:mine")


@require_POST
def my_devices_end_others(request):
    ended = services.user_sessions_end_others(user=request.user, current_session_key=request.session.session_key)
    messages.success(
        request,
        f"Signed out on {ended} other device{'s' if ended != 1 else ''}."
        if ended
        else "No other device was signed in.",
    )
    return redirect("devices:mine")


@role_required(is_coordinator)
def staff_list(request):
    page = Paginator(selectors.staff_members(), selectors.STAFF_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "devices/staff_list.html", {"page": page})


def _staff_or_404(pk):
    staff = selectors.staff_member(pk=pk)
    if staff is None:
        raise Http404("No such staff member.")
    return staff


@role_required(is_coordinator)
def staff_devices(request, pk):
    staff = _staff_or_404(pk)
    return render(
        request,
        "devices/staff.html",
        {"staff": staff, "devices": selectors.devices_of(user=staff), "current_key": request.session.session_key},
    )


@role_required(is_coordinator)
@require_POST
def staff_devices_end(request, pk):
    staff = _staff_or_404(pk)
    if staff.pk == request.user.pk:
        messages.error(request, "To sign yourself out elsewhere, use “Signed-in devices” on your own account.")
        return redirect("devices:staff_devices", staff.pk)
    ended = services.staff_sessions_end_all(staff=staff, by=request.user)
    name = staff.get_full_name() or staff.username
    messages.success(
        request,
        f"{name} is signed out on every device ({ended} session{'s' if ended != 1 else ''} ended)."
        if ended
        else f"{name} was not signed in anywhere.",
    )
    return redirect("devices:staff_devices", staff.pk)
