"""Keeps "last seen" of the signed-in device, at most once a minute: it follows the session's own last-seen time
(infusion_site.middleware.SessionLifetimeMiddleware), so a request that does not write the session writes nothing."""

from datetime import UTC, datetime

from infusion_site.client_address import client_address
from infusion_site.devices import services
from infusion_site.middleware import LAST_SEEN_RECORDED, SIGNED_IN_AT


class SignedInDeviceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if getattr(request, LAST_SEEN_RECORDED, False) and request.user.is_authenticated:
            session = request.session
            if session.session_key:
                signed_in = session.get(SIGNED_IN_AT)
                services.user_session_seen(
                    user=request.user,
                    session_key=session.session_key,
                    client_address=client_address(request),
                    user_agent=request.META.get("HTTP_USER_AGENT", ""),
                    signed_in_at=datetime.fromtimestamp(signed_in, UTC) if signed_in else None,
                )
        return self.get_response(request)
