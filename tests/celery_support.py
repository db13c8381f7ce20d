"""A real Celery worker, in its own process, against the real Redis and the test database."""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection

from tests.conftest import require

PROJECT = Path(__file__).resolve().parent.parent


def redis_answers(url: str | None = None) -> bool:
    try:
        redis.Redis.from_url(url or settings.REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False
    return True


def test_database_url() -> str:
    """The URL of the database this test run uses, for a process of our own to share."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def worker_env(**extra) -> dict:
    # Not PYTEST_XDIST_WORKER: the settings would move the worker's Redis database on again (infusion_site/settings).
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_XDIST_WORKER"}
    env.update({"DATABASE_URL": test_database_url(), "REDIS_URL": settings.REDIS_URL, "DEBUG": "1"})
    env.update({key: str(value) for key, value in extra.items()})
    return env


def purge_queue() -> None:
    redis.Redis.from_url(settings.REDIS_URL).delete("celery")


@contextmanager
def celery_worker(*, log_path: Path, concurrency: int = 1, **env):
    """Start `celery worker` in its own process and stop it (TERM, then KILL) afterwards."""
    require(redis_answers(), f"Redis must answer at {settings.REDIS_URL}")
    log = open(log_path, "w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "infusion_site",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=PROJECT,
        env=worker_env(**env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: "ready." in log_path.read_text(), timeout=30, what="the Celery worker to start")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_for(condition, *, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout} s waiting for {what}")
