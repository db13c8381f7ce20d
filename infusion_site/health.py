"""Probes behind /healthz. Each answers "ok" or a short reason; none reveals data."""

import time

import redis
from django.conf import settings
from django.db import connection

HEARTBEAT_KEY = "infusion:worker:heartbeat"


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return f"unavailable: {type(error).__name__}"
    return "ok"


def redis_status() -> str:
    try:
        redis_client().ping()
    except Exception as error:
        return f"unavailable: {type(error).__name__}"
    return "ok"


def record_heartbeat(now: float | None = None) -> None:
    redis_client().set(HEARTBEAT_KEY, str(now if now is not None else time.time()), ex=24 * 3600)


def worker_status(now: float | None = None) -> str:
    try:
        beat = redis_client().get(HEARTBEAT_KEY)
    except Exception:
        return "unknown: redis unavailable"
    if beat is None:
        return "down: no heartbeat received"
    age = (now if now is not None else time.time()) - float(beat)
    if age > settings.WORKER_HEARTBEAT_MAX_AGE:
        return f"down: last heartbeat {int(age)} s ago"
    return "ok"
