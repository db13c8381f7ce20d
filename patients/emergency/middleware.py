"""While a nurse holds emergency access, every page she opens is an audit entry, and her pages show the banner.

Runs inside auditlog's middleware, so the entries name her and her address. ``request.emergency_accesses`` is
what the banner in base.html reads (templates/patients/emergency/banner.html).
"""

from auditlog.models import LogEntry

from infusion_site.roles import is_nurse
from patients.emergency.audit import current_emergency_access
from patients.emergency.selectors import emergency_accesses_active_for


class EmergencyAccessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        request.emergency_accesses = []
        if user is None or not user.is_authenticated or not is_nurse(user):
            return self.get_response(request)
        accesses = emergency_accesses_active_for(nurse=user)
        request.emergency_accesses = accesses
        if not accesses:
            return self.get_response(request)
        # The newest access is the one this request's entries are marked with (two at once is rare).
        newest = max(accesses, key=lambda access: (access.started_at, access.pk))
        token = current_emergency_access.set(newest.pk)
        try:
            response = self.get_response(request)
            for access in accesses:
                # The path only: ids, never a name; a query string may hold a search for one, so it is left out.
                LogEntry.objects.log_create(
                    access,
                    force_log=True,
                    action=LogEntry.Action.ACCESS,
                    changes={},
                    additional_data={
                        "emergency_access": access.pk,
                        "page": request.path[:300],
                        "method": request.method,
                        "status": response.status_code,
                    },
                )
        finally:
            current_emergency_access.reset(token)
        return response
