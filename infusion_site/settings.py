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
from csp.constants import NONCE as CSP_NONCE
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
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
    # The second factor (infusion_site/mfa): authenticator apps, one-time recovery codes, passkeys.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "infusion_site",
    "patients",
    "visits",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outermost after SecurityMiddleware, so every response gets the policy, redirects and refusals included.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the session is looked up: a NUL in a cookie or a field never reaches the database.
    "infusion_site.middleware.UnstorableInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Staff (and patients who opted in) see nothing but sign-in and enrolment until the second factor is verified.
    "infusion_site.mfa.middleware.SecondFactorRequiredMiddleware",
    "infusion_site.middleware.PrivateResponsesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After MessageMiddleware: it tells the user why they were signed out.
    "infusion_site.middleware.SessionLifetimeMiddleware",
    "infusion_site.middleware.InPageLoginRequiredMiddleware",
    # After the idle logoff: a session just ended is not "last seen" (infusion_site/devices).
    "infusion_site.devices.middleware.SignedInDeviceMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # django-auditlog's, recording the address from infusion_site.client_address, not a client-written header.
    "infusion_site.audit_middleware.AuditlogMiddleware",
    # Inside auditlog's actor context: every page a nurse opens under emergency access is an audit entry.
    "patients.emergency.middleware.EmergencyAccessMiddleware",
    "axes.middleware.AxesMiddleware",
    # Sets the device cookie after a successful sign-in (infusion_site/login_throttle).
    "infusion_site.login_throttle.TrustedDeviceMiddleware",
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
    # No JIT compilation: the pages' queries are short index reads whose cost estimates (a correlated count over
    # 300,000 visits) cross jit_above_cost, and compiling them took 1.1 s of a 1.14 s board query at agency size.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
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
    # zxcvbn's estimate of how guessable it is, and what attackers try first here (infusion_site/password_validation).
    {"NAME": "infusion_site.password_validation.StrengthValidator"},
    {"NAME": "infusion_site.password_validation.KnownPasswordValidator"},
]
PASSWORD_MINIMAL_STRENGTH = 3  # zxcvbn's score, 0-4: 3 is "safely unguessable" online
# The demo accounts' password (seed_demo, README); refused as anyone's chosen password.
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="infusion-demo-2026")
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
# "Break the glass": how long a nurse outside the care team may see a record she opened in an emergency.
EMERGENCY_ACCESS_HOURS = env.int("EMERGENCY_ACCESS_HOURS", default=4)

# The second factor (infusion_site/mfa, README "Second factor"). Authenticator apps show the agency's name.
OTP_TOTP_ISSUER = env.str("AGENCY_NAME", default="Home Infusion Nursing")
# Passkeys belong to one domain (the relying party) and are accepted only from these origins. Browsers refuse an
# IP address as the domain, so development uses http://localhost:<port>, not 127.0.0.1.
OTP_WEBAUTHN_RP_ID = env.str("WEBAUTHN_RP_ID", default="localhost")
OTP_WEBAUTHN_RP_NAME = OTP_TOTP_ISSUER
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.list(
    "WEBAUTHN_ORIGINS", default=[f"http://localhost:{env.int('PORT', default=8000)}"]
)
# A passkey is the second step after the password, never a way to skip the password.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_EXCEPTION_LOGGER_NAME = ""

# Lockout after 5 failed logins for the same username from the same address.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "infusion_site.client_address.client_address"
# One row per failed sign-in: the per-account throttle below counts them across addresses.
AXES_ENABLE_ACCESS_FAILURE_LOG = True

# How many of our own proxies stand in front of the app, each appending to X-Forwarded-For (README, Deployment).
# 0: the app faces browsers, and REMOTE_ADDR is the address of record for the lockout and the audit trail.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT is the number of proxies in front of the app: 0 or more.")

# Guessing at one account from many addresses (infusion_site/login_throttle, OWASP's device cookies): after this
# many failures for a username within the window, browsers that never signed in to it wait a cool-down that
# doubles with each further failure.
LOGIN_THROTTLE_FAILURES = env.int("LOGIN_THROTTLE_FAILURES", default=10)
LOGIN_THROTTLE_WINDOW_MINUTES = env.int("LOGIN_THROTTLE_WINDOW_MINUTES", default=60)
LOGIN_THROTTLE_FIRST_COOLDOWN_SECONDS = env.int("LOGIN_THROTTLE_FIRST_COOLDOWN_SECONDS", default=30)
LOGIN_THROTTLE_MAX_COOLDOWN_SECONDS = env.int("LOGIN_THROTTLE_MAX_COOLDOWN_SECONDS", default=15 * 60)
LOGIN_DEVICE_COOKIE_DAYS = env.int("LOGIN_DEVICE_COOKIE_DAYS", default=180)
# Password-reset mails, quietly refused beyond these (infusion_site/password_reset).
PASSWORD_RESET_PER_ADDRESS_PER_HOUR = env.int("PASSWORD_RESET_PER_ADDRESS_PER_HOUR", default=3)
PASSWORD_RESET_PER_CLIENT_PER_HOUR = env.int("PASSWORD_RESET_PER_CLIENT_PER_HOUR", default=10)

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

# Content-Security-Policy (django-csp), enforced in every environment: scripts and styles come only from our own
# static files (no inline code, no eval, no style="" attributes), nothing is framed, no plugin, no foreign host.
# Bootstrap's inline SVG icons are served from static/icons/bootstrap/, so images need no data: either.
# CSP_REPORT_ONLY=1 sends the same policy as Report-Only, to diagnose a page without breaking it; there is no
# report endpoint on purpose: reports carry page addresses, which are not for logs (README "Security headers").
CSP_DIRECTIVES = {
    "default-src": [CSP_SELF],
    "script-src": [CSP_SELF, CSP_NONCE],
    "style-src": [CSP_SELF],
    "img-src": [CSP_SELF],
    "connect-src": [CSP_SELF],
    "font-src": [CSP_SELF],
    "object-src": [CSP_NONE],
    "base-uri": [CSP_NONE],
    "frame-ancestors": [CSP_NONE],
    "form-action": [CSP_SELF],
    "worker-src": [CSP_SELF],
    "manifest-src": [CSP_SELF],
}
if env.bool("CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY = None
    CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": CSP_DIRECTIVES}
else:
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": CSP_DIRECTIVES}
    CONTENT_SECURITY_POLICY_REPORT_ONLY = None

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
# The test suite runs in parallel processes (pytest-xdist: gw0, gw1, …); each takes its own Redis database counting
# down from the one given, so the Celery worker one process's test starts never takes another's tasks.
if os.environ.get("PYTEST_XDIST_WORKER", "").startswith("gw"):
    _base, _, _database = REDIS_URL.rpartition("/")
    if _database.isdigit():
        REDIS_URL = f"{_base}/{int(_database) - int(os.environ['PYTEST_XDIST_WORKER'][2:])}"
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
    # The minute sweep derives only what is new since the last; once a day everything is derived again.
    "send-all-due-notifications": {
        "task": "visits.tasks.send_all_due_notifications",
        "schedule": 24 * 60 * 60.0,
        "options": {"expires": 60 * 60},
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
# The longest an order may run and the most visits it may plan; orders are renewed with their authorizations,
# and a longer one is a typing error (30,000 cycles), refused on the order's preview before it is saved.
ORDER_MAX_YEARS = env.int("ORDER_MAX_YEARS", default=2)
ORDER_MAX_VISITS = env.int("ORDER_MAX_VISITS", default=200)
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
