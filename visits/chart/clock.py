"""When the nurse recorded an entry: now, or the moment her tablet recorded it when it was sent later.

A write kept in the tablet's outbox (offline) is sent with the time the nurse tapped it. While that write is
applied, ``recorded_now()`` is that moment, so a vital-sign set, a rate change or a check-in saved "now" keeps the
time she recorded it, not the time the connection came back. A tablet clock ahead of the server's is held to now.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

from django.utils import timezone

_recorded_at: ContextVar[datetime | None] = ContextVar("recorded_at", default=None)


# A tablet's clock may run a little ahead; a time further ahead, or before the app existed, is not a recorded time.
CLIENT_CLOCK_AHEAD = timedelta(minutes=5)
EARLIEST_RECORDED = datetime(2020, 1, 1, tzinfo=UTC)


def plausible_recorded_time(moment: datetime | None) -> datetime | None:
    """``moment`` when it can be when a nurse recorded something; ValueError otherwise (a far-off year included)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("the recorded time needs its offset")
    try:
        if not EARLIEST_RECORDED <= moment <= timezone.now() + CLIENT_CLOCK_AHEAD:
            raise ValueError("the recorded time is not plausible")
    except OverflowError:
        raise ValueError("the recorded time is not plausible") from None
    return moment


def recorded_now() -> datetime:
    moment = _recorded_at.get()
    return moment if moment is not None else timezone.now().replace(microsecond=0)


@contextmanager
def recorded_at(moment: datetime | None) -> Iterator[None]:
    if moment is not None:
        moment = min(moment, timezone.now()).replace(microsecond=0)
    token = _recorded_at.set(moment)
    try:
        yield
    finally:
        _recorded_at.reset(token)
