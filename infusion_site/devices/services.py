"""Writes about signed-in devices: the row at sign-in, "last seen", and ending sessions from elsewhere."""

from datetime import datetime
from importlib import import_module

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from infusion_site.devices.user_agents import describe_device
from infusion_site.models import UserSession

# Backends whose sessions are rows we can read, so sessions begun before devices were recorded can be found too.
DATABASE_SESSION_ENGINES = ("django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db")


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def django_session_exists(session_key: str) -> bool:
    return _session_store()().exists(session_key)


def user_session_record_sign_in(
    *, user, session_key: str, client_address: str | None, user_agent: str, now: datetime | None = None
) -> UserSession:
    now = now or timezone.now()
    row, _ = UserSession.objects.update_or_create(
        session_key=session_key,
        defaults={
            "user": user,
            "signed_in_at": now,
            "last_seen_at": now,
            "client_address": client_address,
            "device": describe_device(user_agent),
        },
    )
    return row


def user_session_seen(
    *,
    user,
    session_key: str,
    client_address: str | None,
    user_agent: str,
    signed_in_at: datetime | None = None,
    now: datetime | None = None,
) -> None:
    """The middleware's once-a-minute touch: one UPDATE; a session begun before rows were kept gets its row now."""
    now = now or timezone.now()
    updated = UserSession.objects.filter(session_key=session_key, user=user).update(
        last_seen_at=now, client_address=client_address
    )
    if not updated:
        UserSession.objects.get_or_create(
            session_key=session_key,
            defaults={
                "user": user,
                "signed_in_at": signed_in_at or now,
                "last_seen_at": now,
                "client_address": client_address,
                "device": describe_device(user_agent),
            },
        )


def user_session_forget(*, session_key: str | None) -> None:
    """At sign-out the session itself is flushed by Django; its row goes with it."""
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


def _end_django_sessions(keys) -> None:
    store = _session_store()
    for key in keys:
        store(session_key=key).delete()


def _untracked_session_keys(*, user, known: set[str], keep: str | None) -> list[str]:
    """Live database sessions of this user that have no row (begun before rows were kept). Rare actions only:
    this reads every live session."""
    if settings.SESSION_ENGINE not in DATABASE_SESSION_ENGINES:
        return []
    found = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.session_key in known or session.session_key == keep:
            continue
        if session.get_decoded().get(SESSION_KEY) == str(user.pk):
            found.append(session.session_key)
    return found


@transaction.atomic
def user_session_end(*, user, user_session_id: int, current_session_key: str | None) -> bool:
    """ "Sign out that device": one of the user's own, never the one in hand (that is the sign-out button)."""
    row = UserSession.objects.filter(user=user, pk=user_session_id).exclude(session_key=current_session_key).first()
    if row is None:
        return False
    _end_django_sessions([row.session_key])
    row.delete()  # audited (auditlog): who ended which device, when, from where
    return True


@transaction.atomic
def user_sessions_end_others(*, user, current_session_key: str | None) -> int:
    """ "Sign out everywhere else": every session of the user but this one."""
    rows = list(UserSession.objects.filter(user=user).exclude(session_key=current_session_key))
    known = {row.session_key for row in rows}
    untracked = _untracked_session_keys(user=user, known=known, keep=current_session_key)
    _end_django_sessions([*known, *untracked])
    for row in rows:
        row.delete()
    return len(rows) + len(untracked)


@transaction.atomic
def staff_sessions_end_all(*, staff, by) -> int:
    """A coordinator ends every session of a staff member (a lost or stolen tablet). She is signed out everywhere
    at her next request; the audit trail says who did it (an entry on her account, besides one per device)."""
    rows = list(UserSession.objects.filter(user=staff))
    known = {row.session_key for row in rows}
    untracked = _untracked_session_keys(user=staff, known=known, keep=None)
    _end_django_sessions([*known, *untracked])
    for row in rows:
        row.delete()
    ended = len(rows) + len(untracked)
    LogEntry.objects.log_create(
        staff,
        force_log=True,
        action=LogEntry.Action.UPDATE,
        changes={"signed_in_devices": [str(ended), "0"]},
        additional_data={"sessions_ended_by": by.pk, "sessions_ended": ended},
    )
    return ended
