"""Staff notifications in the app, and everyone's notification preferences."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from infusion_site.access import role_required
from infusion_site.audit import patient_ids_of_objects, record_patient_accesses
from infusion_site.roles import is_staff_member
from visits.chart.selectors import nurse_zone
from visits.models import Notification, NotificationPreference
from visits.notifications.forms import PreferenceForm
from visits.notifications.services import notification_mark_read, preference_for

PAGE_SIZE = 30


@role_required(is_staff_member)
@require_GET
def inbox(request):
    notifications = Notification.objects.inbox_of(request.user).order_by("-sent_at", "-pk")
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    # A notice names a patient's visit or follow-up: each patient behind the page's notices is an access.
    record_patient_accesses(
        sorted(set(patient_ids_of_objects((notice.about_type_id, notice.about_id) for notice in page)))
    )
    # Every time in the reader's own zone (a nurse's profile, else the agency's), on the app's 24-hour clock.
    return render(request, "visits/notifications/inbox.html", {"page": page, "viewer_zone": nurse_zone(request.user)})


@role_required(is_staff_member)
@require_POST
def mark_read(request, pk):
    if not Notification.objects.inbox_of(request.user).filter(pk=pk).exists():
        raise Http404("No such notification")
    notification_mark_read(user=request.user, notification_id=pk)
    target = Notification.objects.values_list("url", flat=True).get(pk=pk)
    # Only a path inside this site: a notification never sends anyone elsewhere.
    if (
        request.POST.get("open")
        and url_has_allowed_host_and_scheme(target, allowed_hosts=None)
        and target.startswith("/")
    ):
        return redirect(target)
    return redirect("notifications:inbox")


@role_required(is_staff_member)
@require_POST
def mark_all_read(request):
    count = notification_mark_read(user=request.user)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked as read.")
    return redirect("notifications:inbox")


def preferences_page(request, *, for_patient: bool, template: str, fallback_phone: str = "", zone_name: str = ""):
    """Shared by the staff page and the portal page: show, or save and come back."""
    if request.method == "POST":
        preference, _ = NotificationPreference.objects.get_or_create(user=request.user)
    else:
        preference = preference_for(request.user)
    form = PreferenceForm(
        request.POST or None,
        instance=preference,
        for_patient=for_patient,
        fallback_phone=fallback_phone,
        zone_name=zone_name,
    )
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, "Your notification choices are saved.")
            return redirect(request.path)
        # The quiet hours sit below the fold on a tablet: say at the top that nothing was saved.
        messages.error(request, "Your choices are not saved yet. Please see the message below.")
        return render(request, template, {"form": form}, status=400)
    return render(request, template, {"form": form})


@role_required(is_staff_member)
@require_http_methods(["GET", "POST"])
def preferences(request):
    return preferences_page(request, for_patient=False, template="visits/notifications/preferences.html")
