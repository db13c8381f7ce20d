"""django-auditlog's middleware, with the address the audit trail records taken from ``client_address``.

The stock middleware records the left-most ``X-Forwarded-For`` entry, which any browser can write; an audit trail
whose "from where" a visitor chooses is worth nothing to a privacy officer.
"""

from auditlog.middleware import AuditlogMiddleware as StockAuditlogMiddleware
from django.conf import settings

from infusion_site.client_address import client_address


class AuditlogMiddleware(StockAuditlogMiddleware):
    @staticmethod
    def _get_remote_addr(request):
        if settings.AUDITLOG_DISABLE_REMOTE_ADDR:
            return None
        return client_address(request)

    @staticmethod
    def _get_remote_port(request) -> int | None:
        # X-Forwarded-Port is as client-written as X-Forwarded-For; the port of a browser behind NAT says nothing.
        return None
