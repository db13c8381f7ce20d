"""Settings for the home-infusion visit service.

One file, driven by environment variables. Every variable has a safe development
default so that a fresh checkout runs on SQLite with no configuration; production
switches behaviour with variables (see README "Configuration"). When DEBUG is off,
missing production settings stop the start-up with a clear message.
"""

import os
import tempfile
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

# Production must say where it runs and with which secrets; refuse to start otherwise.
PRODUCTION_REQUIRED = ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "EMAIL_URL")
if not DEBUG:
    missing = [name for name in PRODUCTION_REQUIRED if not env.str(name, default="")]
    if missing:
        raise ImproperlyConfigured(
            "DEBUG is off, so these production settings must be set in the environment: "
            + ", ".join(missing)
            + ". See README, Configuration."
        )

# A development key only, public in the repository: refused when DEBUG is off.
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
SECRET_KEY = env.str("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured("DEBUG is off, so SECRET_KEY must be a secret of your own, not the development key.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "rules.apps.AutodiscoverRulesConfig",
    "auditlog",
    "axes",
    "infusion_site",
    "patients",
    "visits",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "infusion_site.middleware.PrivateResponsesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After MessageMiddleware: it tells the user why they were signed out.
    "infusion_site.middleware.SessionLifetimeMiddleware",
    "infusion_site.middleware.InPageLoginRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "infusion_site.urls"
WSGI_APPLICATION = "infusion_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "infusion_site.context_processors.site",
                "visits.context_processors.notifications",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------
# SQLite by default (WAL, immediate transactions and a busy timeout so the web
# process and the Celery worker can share one file); DATABASE_URL=postgres://…
# switches to PostgreSQL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
    )
    # A file (not memory) so a Celery worker process can share the test database; one per
    # test run so that two runs never share it.
    DATABASES["default"]["TEST"] = {
        "NAME": env.str(
            "SQLITE_TEST_NAME", default=str(Path(tempfile.gettempdir()) / f"infusion-test-{os.getpid()}.sqlite3")
        )
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and sessions ---------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)

# Idle logoff after 15 minutes, and no session older than 12 hours however active.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=15 * 60)
SESSION_ABSOLUTE_LIFETIME = env.int("SESSION_ABSOLUTE_LIFETIME", default=12 * 3600)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_LIFETIME
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Lockout after 5 failed logins for the same username from the same address.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# --- Security (all on when DEBUG is off) -------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Internationalisation -----------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True

# --- Static files (vendored, served by whitenoise) --------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Forms -------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email -------------------------------------------------------------------------
# Console in development; EMAIL_URL=smtp+tls://user:password@host:587 in production.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / ".run" / "mail"))  # for filemail://
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Home Infusion Nursing <no-reply@localhost>")

# --- Redis and Celery ---------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request must never hang on a missing broker: connect fast, retry publishing
# briefly, then give up (the database row stays due and a sweep picks it up).
CELERY_BROKER_CONNECTION_TIMEOUT = 1.0
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 0.5,
    "socket_timeout": 0.5,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
    "visibility_timeout": 3600,
}
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# The one beat schedule. Everything that is due lives in the database; these
# sweeps find it, so a lost message or a second beat never loses or doubles work.
NOTIFICATION_SWEEP_SECONDS = env.float("NOTIFICATION_SWEEP_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "infusion_site.tasks.heartbeat", "schedule": 30.0},
    "send-portal-invitations": {"task": "patients.tasks.send_due_invitations", "schedule": 60.0},
    "send-due-notifications": {
        "task": "visits.tasks.send_due_notifications",
        "schedule": NOTIFICATION_SWEEP_SECONDS,
        # A sweep still queued when the next is due is dropped: it would only repeat the next one's work.
        "options": {"expires": NOTIFICATION_SWEEP_SECONDS},
    },
}

# --- Notifications --------------------------------------------------------------------
# Texts: console in development; a provider's SmsBackend subclass in production (README).
# With DEBUG=0 and nothing set, texts are refused with a reason shown to coordinators,
# so that no patient's message is ever printed to a production log.
SMS_BACKEND = env.str(
    "SMS_BACKEND",
    default="infusion_site.messaging.ConsoleSmsBackend" if DEBUG else "infusion_site.messaging.DisabledSmsBackend",
)
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(BASE_DIR / ".run" / "sms"))  # for FileSmsBackend
# A worker holds a claimed notification this long; if it dies, the row is sent again after it.
# Longer than any send can take (EMAIL_TIMEOUT), so a slow send is never doubled.
NOTIFICATION_CLAIM_SECONDS = env.int("NOTIFICATION_CLAIM_SECONDS", default=60)
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=8)
# /healthz calls the worker down when its last heartbeat is older than this.
WORKER_HEARTBEAT_MAX_AGE = env.int("WORKER_HEARTBEAT_MAX_AGE", default=90)

# --- Visit rules -------------------------------------------------------------------
# A check-in farther than this from the home is saved as "location not verified" (DESIGN §3).
CHECKIN_RADIUS_M = env.int("CHECKIN_RADIUS_M", default=200)
# Check-in opens this long before the planned start and closes at the end of that local day (DESIGN §3).
CHECKIN_OPENS_BEFORE_MIN = env.int("CHECKIN_OPENS_BEFORE_MIN", default=120)
# The volume infused may exceed the bag (and what the recorded rates could deliver) by this much: priming and flush.
INFUSION_VOLUME_TOLERANCE_ML = env.int("INFUSION_VOLUME_TOLERANCE_ML", default=25)
# The offline chart (visits/chart/offline): pages kept on the tablet expire after this many hours; an entry sent
# this many seconds after the nurse recorded it is shown as "recorded offline".
OFFLINE_PAGES_MAX_AGE_HOURS = env.int("OFFLINE_PAGES_MAX_AGE_HOURS", default=24)
RECORDED_OFFLINE_AFTER_S = env.int("RECORDED_OFFLINE_AFTER_S", default=120)
# A weekly SCIG dose not logged this many days after it was due reaches the coordinator's alert queue.
SCIG_MISSED_DOSE_GRACE_DAYS = env.int("SCIG_MISSED_DOSE_GRACE_DAYS", default=1)

# --- The agency ------------------------------------------------------------------
AGENCY_NAME = env.str("AGENCY_NAME", default="Home Infusion Nursing")
AGENCY_PHONE = env.str("AGENCY_PHONE", default="+1 555 0100")
AGENCY_EMAIL = env.str("AGENCY_EMAIL", default="care@example.org")
AGENCY_HOURS = env.str("AGENCY_HOURS", default="Every day, 7 am to 9 pm; on-call nurse at night")
# Links in emails follow the port `make run` (bin/run-dev) serves on, unless the public address is given.
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}")

# --- Logging: never patient data in plain text ------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "ERROR"}},  # its warnings carry usernames
}

AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_DISABLE_REMOTE_ADDR = False
