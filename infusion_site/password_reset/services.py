"""Password reset by email, in two halves so that the request cannot tell known addresses from unknown ones.

The request (``password_reset_request``) never looks the address up: it checks the throttle and enqueues the
task, so it takes the same time and gives the same answer for any address. The task (``password_reset_send``)
finds the accounts and mails each Django's one-use link. The throttle and the task's claim live in Redis, the
broker the task needs anyway: with Redis down no mail could leave, and the person is told what they are always told.
"""

import hashlib
import hmac
import logging
import uuid

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from infusion_site import health
from infusion_site.queueing import enqueue_on_commit

logger = logging.getLogger(__name__)

SEND_TASK = "infusion_site.tasks.send_password_reset"
KEY_PREFIX = "infusion:password-reset"
WINDOW_SECONDS = 3600  # the limits are per hour
# A task may be delivered again (acks_late, a worker killed after sending); its claim outlives any redelivery.
CLAIM_SECONDS = 24 * 3600

# Both counts are checked and, only if both have room, both are added to, in one step: two requests at once cannot
# both take the last place. Scores are the app's clock (so tests can move it); Redis' own expiry only tidies up.
THROTTLE_SCRIPT = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
    if redis.call('ZCARD', key) >= tonumber(ARGV[3 + i]) then
        return 0
    end
end
for i, key in ipairs(KEYS) do
    redis.call('ZADD', key, now, ARGV[3])
    redis.call('EXPIRE', key, window + 60)
end
return 1
"""


def _address_key(email: str) -> str:
    # The address itself is never stored: a keyed hash is enough to count requests for it.
    digest = hmac.new(settings.SECRET_KEY.encode(), email.strip().casefold().encode(), hashlib.sha256).hexdigest()
    return f"{KEY_PREFIX}:email:{digest}"


def _client_key(client_address: str | None) -> str:
    return f"{KEY_PREFIX}:client:{client_address or 'unknown'}"


def _within_limits(*, email: str, client_address: str | None, request_id: str) -> bool:
    """True, and the request counted, if neither the address nor the client has reached its hourly limit."""
    try:
        allowed = health.redis_client().eval(
            THROTTLE_SCRIPT,
            2,
            _address_key(email),
            _client_key(client_address),
            timezone.now().timestamp(),
            WINDOW_SECONDS,
            request_id,
            settings.PASSWORD_RESET_PER_ADDRESS_PER_HOUR,
            settings.PASSWORD_RESET_PER_CLIENT_PER_HOUR,
        )
    except Exception as error:  # redis-py raises several connection errors; none may break the page
        logger.warning("Password reset throttle unavailable (%s); no reset mail enqueued.", type(error).__name__)
        return False
    return bool(allowed)


def password_reset_request(*, email: str, client_address: str | None) -> bool:
    """Enqueue the reset mail for ``email`` unless a limit is reached; True if it was enqueued.

    The caller answers the same page either way: a throttled request is refused quietly.
    """
    request_id = uuid.uuid4().hex
    if not _within_limits(email=email, client_address=client_address, request_id=request_id):
        return False
    enqueue_on_commit(SEND_TASK, request_id, email)
    return True


class ResetMailForm(PasswordResetForm):
    """Django's token and link; a send failure logged without the address (an SMTP refusal quotes it)."""

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        body = render_to_string(email_template_name, context)
        try:
            EmailMultiAlternatives(subject, body, from_email, [to_email]).send()
        except Exception as error:
            logger.warning("Password reset mail for user %s not sent (%s).", context["user"].pk, type(error).__name__)


def password_reset_send(*, request_id: str, email: str) -> bool:
    """Mail the reset link to every active account with a password that uses ``email``; once per request.

    The claim is taken before sending: a second run of the same request (a redelivered message) sends nothing, and
    if the worker dies mid-send the person asks again.
    """
    try:
        claimed = health.redis_client().set(f"{KEY_PREFIX}:sent:{request_id}", "1", nx=True, ex=CLAIM_SECONDS)
    except Exception as error:
        logger.warning("Password reset %s not claimed (%s); not sent.", request_id, type(error).__name__)
        return False
    if not claimed:
        return False
    form = ResetMailForm(data={"email": email})
    if not form.is_valid():
        return False
    form.save(
        domain_override=settings.SITE_URL.rstrip("/"),
        subject_template_name="registration/password_reset_subject.txt",
        email_template_name="registration/password_reset_email.html",
        extra_email_context={"agency": settings.AGENCY_NAME, "site_url": settings.SITE_URL.rstrip("/")},
    )
    return True
