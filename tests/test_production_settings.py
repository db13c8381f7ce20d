"""Production settings: `check --deploy` is clean, and missing secrets stop the start-up.

Each case runs `manage.py check` in a fresh process, because settings are read once
at import. The environment is built explicitly so that nothing from the outer test
run (a PostgreSQL DATABASE_URL, DEBUG, …) changes what is being tested.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Every variable that would change what these checks mean; none is inherited.
SETTINGS_VARIABLES = {
    "DJANGO_SETTINGS_MODULE",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    # The browser tests relax Django's async guard for their own process; production never does.
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def production_environment(**overrides) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    environment.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="infusion.example.org",
        DATABASE_URL="sqlite:////tmp/infusion-deploy-check.sqlite3",
        REDIS_URL="redis://127.0.0.1:6379/0",
        EMAIL_URL="smtp+tls://user:pass@smtp.example.org:587",
    )
    for key, value in overrides.items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    return environment


def development_environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}


def manage(*args: str, environment: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_is_clean_with_production_variables():
    result = manage("check", "--deploy", "--fail-level", "WARNING", environment=production_environment())

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output.upper()


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"])
def test_production_without_a_required_setting_refuses_to_start_and_names_it(missing):
    result = manage("check", environment=production_environment(**{missing: None}))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_production_with_an_empty_secret_key_refuses_to_start():
    result = manage("check", environment=production_environment(SECRET_KEY=""))

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_with_the_development_secret_key_refuses_to_start():
    result = manage("check", environment=production_environment(SECRET_KEY=settings.DEVELOPMENT_SECRET_KEY))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_development_defaults_start_without_any_configuration():
    result = manage("check", environment=development_environment())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_development_defaults_are_not_production_hardened():
    """DEBUG unset means development: plain HTTP on localhost works, so no HTTPS redirect or secure-only cookies."""
    script = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS,"
        " s.DATABASES['default']['ENGINE'])"
    )

    result = manage("shell", "-c", script, environment=development_environment())

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-6:] == ["True", "False", "False", "False", "0", "django.db.backends.sqlite3"]
