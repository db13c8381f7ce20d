"""The transports a notification leaves by: email through Django's backend, SMS through a small interface.

Errors are sorted into two kinds, because the delivery service treats them differently:
``TransientDeliveryError`` (the server was down, a timeout: try again later, backing off) and
``PermanentDeliveryError`` (no such address, refused: trying again cannot help; keep the reason
and show it to a coordinator).

Adding an SMS provider means one subclass of ``SmsBackend`` and ``SMS_BACKEND=dotted.path``:
``send()`` must raise ``PermanentDeliveryError`` for a number the provider refuses and may raise
anything else for a transport failure; ``already_sent()`` should ask the provider whether a text
with this key was accepted (most accept a client reference), so that a worker killed between the
provider's acceptance and our commit does not text the patient twice.
"""

import os
import re
import smtplib
import sys
from pathlib import Path

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMessage
from django.utils.module_loading import import_string


class DeliveryError(Exception):
    permanent = False


class TransientDeliveryError(DeliveryError):
    """Worth trying again later."""


class PermanentDeliveryError(DeliveryError):
    """Trying again cannot help."""

    permanent = True


# --- Email -----------------------------------------------------------------------------------

PERMANENT_SMTP_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPNotSupportedError)


def send_email(*, to: str, subject: str, body: str, key: str) -> None:
    """Send one email; ``key`` travels in a header so a duplicate can be recognised downstream."""
    if not to:
        raise PermanentDeliveryError("No email address on file.")
    message = EmailMessage(subject=subject, body=body, to=[to], headers={"X-Notification-Key": key})
    try:
        message.send(fail_silently=False)
    except PERMANENT_SMTP_ERRORS as error:
        raise PermanentDeliveryError(f"The mail server refused it ({type(error).__name__}).") from error
    except BadHeaderError as error:
        raise PermanentDeliveryError("The message could not be written as an email.") from error
    except (TimeoutError, smtplib.SMTPException, OSError) as error:
        raise TransientDeliveryError(f"The mail server could not be reached ({type(error).__name__}).") from error


# --- SMS -------------------------------------------------------------------------------------

PHONE_DIGITS = re.compile(r"\d")


def normalise_phone(number: str) -> str:
    """Digits with an optional leading +; raise PermanentDeliveryError if it cannot be a mobile number."""
    number = (number or "").strip()
    digits = "".join(PHONE_DIGITS.findall(number))
    if not 10 <= len(digits) <= 15:
        raise PermanentDeliveryError("No mobile number on file that a text can go to.")
    return ("+" if number.startswith("+") else "") + digits


class SmsBackend:
    def send(self, *, to: str, text: str, key: str) -> None:
        raise NotImplementedError

    def already_sent(self, *, key: str) -> bool | None:
        """True or False if the provider can tell whether a text with this key was accepted; None if it cannot."""
        return None


class ConsoleSmsBackend(SmsBackend):
    """Development: the text is printed where the worker's output goes."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, *, to: str, text: str, key: str) -> None:
        self.stream.write(f"--- SMS to {to} ({key})\n{text}\n---\n")
        self.stream.flush()


class FileSmsBackend(SmsBackend):
    """Development and tests: every text is one line appended to ``SMS_FILE_PATH/sms.log``.

    The line is written with a single ``write`` on a file opened for appending, so a text is
    either wholly in the log or not at all — the log is what "the provider accepted" means here.
    """

    def __init__(self, folder: str | Path | None = None):
        self.folder = Path(folder or settings.SMS_FILE_PATH)

    @property
    def log_path(self) -> Path:
        return self.folder / "sms.log"

    def send(self, *, to: str, text: str, key: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        line = "\t".join([key, to, text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", " ")]) + "\n"
        descriptor = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, line.encode())
        finally:
            os.close(descriptor)

    def already_sent(self, *, key: str) -> bool:
        if not self.log_path.exists():
            return False
        prefix = f"{key}\t".encode()
        with open(self.log_path, "rb") as log:
            return any(line.startswith(prefix) for line in log)

    def sent_keys(self) -> list[str]:
        if not self.log_path.exists():
            return []
        return [line.split("\t", 1)[0] for line in self.log_path.read_text().splitlines() if line]


class DisabledSmsBackend(SmsBackend):
    """Production default until a provider is configured: a text is refused with a reason a coordinator can act on."""

    def send(self, *, to: str, text: str, key: str) -> None:
        raise PermanentDeliveryError("Text messages are not set up (SMS_BACKEND).")


def sms_backend() -> SmsBackend:
    return import_string(settings.SMS_BACKEND)()


def send_sms(*, to: str, text: str, key: str, resend_check: bool = False) -> bool:
    """Send one text; return False if ``resend_check`` found the provider already has it."""
    backend = sms_backend()
    number = normalise_phone(to)
    if resend_check and backend.already_sent(key=key):
        return False
    try:
        backend.send(to=number, text=text, key=key)
    except DeliveryError:
        raise
    except Exception as error:  # a provider's client raises its own transport errors
        raise TransientDeliveryError(f"The text service could not be reached ({type(error).__name__}).") from error
    return True
