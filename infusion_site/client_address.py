"""The address of the browser on the other end of a request, as far as it can be trusted.

Everything that records or keys on an address calls ``client_address(request)``: the lockout (django-axes), the
per-account sign-in throttle, the password-reset throttle and the audit trail. It trusts exactly
``TRUSTED_PROXY_COUNT`` proxies of our own in front of the app:

- 0 (the default, the app faces the browser): ``REMOTE_ADDR`` only. An ``X-Forwarded-For`` header is written by
  whoever sends the request, so it never changes the answer.
- N: each of our proxies appends the address it was connected from to ``X-Forwarded-For``, so the N-th entry from
  the right is the one our outermost proxy saw: the browser's. Anything to its left was written by the browser and
  is ignored. A request that reached the app without passing the proxies (no such entry) gets ``REMOTE_ADDR``.
"""

from django.conf import settings
from python_ipware import IpWare

FORWARDED_FOR = "HTTP_X_FORWARDED_FOR"


def _resolver(proxy_count: int) -> IpWare:
    return IpWare(precedence=(FORWARDED_FOR,), proxy_count=proxy_count)


def _parsed(value: str | None) -> str | None:
    """``value`` as a canonical IP address (IPv4-mapped IPv6 unwrapped), or None when it is not one."""
    if not value:
        return None
    address, _ = IpWare(precedence=("REMOTE_ADDR",)).get_client_ip({"REMOTE_ADDR": value})
    return str(address) if address is not None else None


def client_address(request) -> str | None:
    remote = _parsed(request.META.get("REMOTE_ADDR"))
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get(FORWARDED_FOR, "")
    if proxies <= 0 or not forwarded:
        return remote
    # The connecting proxy's own address closes the chain, so "N proxies" is "N hops after the client"; a proxy on a
    # Unix socket has none, and the chain is one hop shorter.
    if remote:
        chain, hops = f"{forwarded}, {remote}", proxies
    else:
        chain, hops = forwarded, proxies - 1
    address, _ = _resolver(hops).get_client_ip({FORWARDED_FOR: chain})
    return str(address) if address is not None else remote
