"""Settings shared by every environment, all read from the environment (django-environ).

The defaults make ``make run`` work on a fresh machine with nothing else installed: an SQLite
file and a Celery transport on the file system under ``var/``, e-mail written to
``var/mail``, and the PowerOffice Go sandbox mounted at ``/pogo/``. ``production.py`` removes
every default that would be unsafe there.
"""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

from kravia_web.security_headers import content_security_policy

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A .env file beside manage.py is read when present (never committed).
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="django-insecure-dev-only-key-never-use-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The port `make run` serves Kundeweb on (the Procfile's web process reads the same variable).
KRAVIA_PORT = env.int("KRAVIA_PORT", default=8000)
# Where Kundeweb is reached from outside: used for links in e-mails, the PoGo redirect URI
# and the case links shown inside PowerOffice Go. Unset: derived from KRAVIA_PORT.
SITE_URL = env("SITE_URL", default=f"http://127.0.0.1:{KRAVIA_PORT}").rstrip("/")

# Fernet key(s) for secrets at rest (comma-separated: the first encrypts, all decrypt, so a key
# can be rotated). Development derives one from SECRET_KEY when unset; production requires it.
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", default="")

POWEROFFICE_SANDBOX = env.bool("POWEROFFICE_SANDBOX", default=True)
# The sandbox checks every API response it sends against PowerOffice's published contract
# (pogo_sandbox/contract) and answers 500 naming the violation instead; requests are always
# checked. The benchmark turns it off: validating 5 000-row pages costs more than serving them.
POGO_SANDBOX_VALIDATE_RESPONSES = env.bool("POGO_SANDBOX_VALIDATE_RESPONSES", default=True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "kravia_web.apps.AxesConfig",
    "csp",
    "kravia_web",
    "creditors",
    "collections_cases",
    "integrations",
    "integrations.webhooks",
    "api_access",
]
if POWEROFFICE_SANDBOX:
    INSTALLED_APPS.append("pogo_sandbox")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "kravia_web.security_headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kravia_web.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "kravia_web.session_timeout.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "kravia_web.middleware.DatabaseUnavailableMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kravia_web.urls"

# Content-Security-Policy (django-csp; the directives are in kravia_web/security_headers.py).
# form-action: our origin, SITE_URL's and PowerOffice Go's onboarding pages, where «Gi tilgang»
# is redirected after its POST (POWEROFFICE_ONBOARDING_ORIGINS, CSP source expressions).
POWEROFFICE_ONBOARDING_ORIGINS = env.list(
    "POWEROFFICE_ONBOARDING_ORIGINS", default=["https://*.poweroffice.net"]
)
CONTENT_SECURITY_POLICY = content_security_policy(
    site_url=SITE_URL, onboarding_origins=POWEROFFICE_ONBOARDING_ORIGINS
)

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "creditors.context_processors.active_creditor",
            ],
        },
    },
    {
        # The hottest fragments only, autoescaped: the Saker rows, 5-7 times as fast as in
        # the Django template language (collections_cases.views.case_rows_html). Rendered
        # with ``using="jinja2"``; a page's own templates stay Django templates.
        "NAME": "jinja2",
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"autoescape": True},
    },
]

WSGI_APPLICATION = "kravia_web.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'kravia.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file in development: wait for locks instead of
    # failing, take the write lock up front, and let readers run beside the writer.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # The case's balance index carries the status as a non-key column (INCLUDE) for
    # PostgreSQL's index-only counts; SQLite builds it without, as intended.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    # Session settings for this process's connections, e.g. "-c max_parallel_workers_per_gather=0"
    # (set by wsgi.py/asgi.py for web processes: see there).
    if _pg_options := env.str("DATABASE_PG_OPTIONS", default=""):
        DATABASES["default"]["OPTIONS"].setdefault("options", _pg_options)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "creditors.User"

AUTHENTICATION_BACKENDS = [
    # Refuses every login from an address with too many failures (kravia_web.login_throttle).
    "kravia_web.login_throttle.AddressThrottleBackend",
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions (kravia_web.session_timeout): logged out after SESSION_IDLE_TIMEOUT seconds without a
# request (default 2 hours) and SESSION_COOKIE_AGE seconds after the login whatever happens
# (default 12 hours: a working day, so a session left open overnight is gone by morning).
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=2 * 60 * 60)
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 60 * 60)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# The number of reverse proxies in front of gunicorn that append to X-Forwarded-For; every
# per-address limit counts the visitor's address behind them (kravia_web.client_address).
# 0: the header is ignored (development; production defaults to 1, the documented TLS proxy).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Failed-login throttling (django-axes): five failures for one e-mail (lower-cased) from one
# address lock that pair out for an hour. Password spraying (many accounts from one address) meets
# a second, higher limit per address alone (kravia_web.login_throttle).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "kravia_web.login_throttle.axes_username"
AXES_CLIENT_IP_CALLABLE = "kravia_web.client_address.client_ip"
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=30)
LOGIN_ADDRESS_WINDOW_SECONDS = env.int("LOGIN_ADDRESS_WINDOW_SECONDS", default=60 * 60)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

LANGUAGE_CODE = "nb"
LANGUAGES = [("nb", _("Norsk bokmål")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Oslo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Development serves static files straight from the apps (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"

# E-mail: EMAIL_URL (e.g. smtp+tls://user:pass@host:587); default writes each message to var/mail.
_email = env.email_url("EMAIL_URL", default="filemail://")
if _email.get("EMAIL_BACKEND") == "django.core.mail.backends.filebased.EmailBackend":
    _email["EMAIL_FILE_PATH"] = str(VAR_DIR / "mail")
vars().update(_email)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Kravia Kundeweb <kundeweb@kravia.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The agency as it appears on letters to debtors (collections_cases.letters.documents): letterhead,
# the account debtors pay to (11-digit kontonummer, MOD11-valid) and contact details.
# The defaults are fictional; production sets the real ones.
AGENCY_NAME = env("AGENCY_NAME", default="Kravia Inkasso AS")
AGENCY_ORG_NUMBER = env("AGENCY_ORG_NUMBER", default="999123457")
AGENCY_ACCOUNT_NUMBER = env("AGENCY_ACCOUNT_NUMBER", default="15036123459")
AGENCY_ADDRESS = env("AGENCY_ADDRESS", default="Postboks 1234 Sentrum, 0106 Oslo")
AGENCY_EMAIL = env("AGENCY_EMAIL", default="post@kravia.example")
AGENCY_PHONE = env("AGENCY_PHONE", default="22 00 00 00")

# Cache: Redis when REDIS_URL is set (shared by every process), local memory otherwise.
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        # Django's RedisCache, with one redis client per process instead of one per operation.
        "default": {"BACKEND": "kravia_web.cache.ReusedClientRedisCache", "LOCATION": REDIS_URL}
    }
    # Sessions are read from the shared cache, written through to the database (a page costs
    # one Redis GET instead of a session query; a flush deletes both). Only with a cache every
    # process shares: with a per-process local-memory cache one worker would go on serving a
    # session another had logged out.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery. The default broker is kombu's file-system transport, which needs no server.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery" / "broker"
    # The file-system transport needs its folders before the first message.
    for _folder in (_broker_dir, VAR_DIR / "celery" / "control"):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
else:
    # An unacknowledged message (its worker died) is handed out again after this many seconds:
    # longer than the hard time limit, so a task still running is never run twice at once.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=20 * 60)
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Tasks declared acks_late (the idempotent ones: sync, dunning, settlement, statements, letter
# delivery) go back on the queue when their worker process dies instead of being lost.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"integrations.tasks.*": {"queue": "poweroffice"}}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# kravia_web.crashpoints: off everywhere but the test settings (never from the environment).
CRASH_POINTS_ENABLED = False

# The daily dunning run (collections_cases.dunning.services). DUNNING_RUN_TIME ("HH:MM",
# Europe/Oslo) is the time of the beat row the migration creates (later edited in the admin);
# DUNNING_GRACE_DAYS are the banking days after a payment deadline before the next step
# (a payment made on the last day needs a few banking days to arrive).
DUNNING_RUN_TIME = env("DUNNING_RUN_TIME", default="06:00")
DUNNING_GRACE_DAYS = env.int("DUNNING_GRACE_DAYS", default=3)
# The daily run is split over this many tasks side by side (dunning_run_daily): on as many
# worker processes the day's cases are stepped in about that fraction of the time (each task
# takes the next batch no other has locked). 1: one task.
DUNNING_RUN_TASKS = env.int("DUNNING_RUN_TASKS", default=2)

# Incoming payments: the order a payment is split over what a case owes (docs/payments.md).
# Comma-separated in the environment, e.g. "fee,salaer,interest,principal".
# A payment that reaches the principal and leaves at most this much of it (NOK) gets a
# remainder statement (what is left, how the payment was split; no cost, 14 days) before the
# next dunning step. Default: the top of the lowest salær band (docs/cases.md).
REMAINDER_STATEMENT_MAX_PRINCIPAL = env.str("REMAINDER_STATEMENT_MAX_PRINCIPAL", default="500.00")
PAYMENT_ALLOCATION_ORDER = env.list(
    "PAYMENT_ALLOCATION_ORDER", default=["fee", "salaer", "interest", "principal"]
)

# Settlements to creditors (collections_cases.settlements, docs/settlements.md): the beat runs
# `settle` daily at SETTLEMENT_RUN_TIME (Europe/Oslo); creditors on weekly settlement are
# settled on SETTLEMENT_WEEKDAY (0 = Monday … 4 = Friday), or the next business day after it.
SETTLEMENT_RUN_TIME = env("SETTLEMENT_RUN_TIME", default="07:00")
SETTLEMENT_WEEKDAY = env.int("SETTLEMENT_WEEKDAY", default=4)
# After a creditor's payout account changes, its payouts wait this many days (unless a second
# owner confirms the new account); every owner is e-mailed (docs/settlements.md).
PAYOUT_ACCOUNT_HOLD_DAYS = env.int("PAYOUT_ACCOUNT_HOLD_DAYS", default=3)
# The largest bank file (camt.054 / OCR) the admin's «Importer bankfil» accepts.
PAYMENT_FILE_MAX_BYTES = env.int("PAYMENT_FILE_MAX_BYTES", default=10 * 1024 * 1024)

# PowerOffice Go. The defaults point at the sandbox this server mounts at /pogo/; set these to
# PowerOffice's demo or production URLs and keys to use the real service.
_pogo = f"{SITE_URL}/pogo"
POWEROFFICE_V2_BASE_URL = env("POWEROFFICE_V2_BASE_URL", default=f"{_pogo}/v2")
POWEROFFICE_V2_TOKEN_URL = env("POWEROFFICE_V2_TOKEN_URL", default=f"{_pogo}/OAuth/Token")
POWEROFFICE_V1_BASE_URL = env("POWEROFFICE_V1_BASE_URL", default=f"{_pogo}/v1")
POWEROFFICE_V1_TOKEN_URL = env("POWEROFFICE_V1_TOKEN_URL", default=f"{_pogo}/v1/OAuth/Token")
# The sandbox's demo keys (pogo_sandbox registers them when it seeds); real keys come from
# PowerOffice and live only in the environment.
POWEROFFICE_APPLICATION_KEY = env(
    "POWEROFFICE_APPLICATION_KEY", default="8d8a3c8e-5f4b-4f5e-9a51-6b1f3d2a0c01"
)
POWEROFFICE_SUBSCRIPTION_KEY = env(
    "POWEROFFICE_SUBSCRIPTION_KEY", default="sandbox-subscription-key-0001"
)
POWEROFFICE_TIMEOUT = env.float("POWEROFFICE_TIMEOUT", default=30.0)
POWEROFFICE_RATE_LIMIT_PER_SECOND = env.int("POWEROFFICE_RATE_LIMIT_PER_SECOND", default=10)
# A big sync reads PoGo's next page in a second thread while it writes this one.
POWEROFFICE_SYNC_PREFETCH = env.bool("POWEROFFICE_SYNC_PREFETCH", default=True)

# REST API under /api/v1/ (api_access.api, docs/api.md): API keys or the browser session,
# JSON only, one error shape, cursor pagination, a rate limit per key (API_RATE_LIMIT,
# e.g. "600/min"; counted in the cache, so shared through Redis in production).
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api_access.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["api_access.api.throttling.PerKeyRateThrottle"],
    "DEFAULT_PARSER_CLASSES": ["api_access.api.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "api_access.api.pagination.ApiCursorPagination",
    "EXCEPTION_HANDLER": "api_access.api.errors.api_exception_handler",
    # DRF's own address (anonymous throttles) behind the same proxies as everything else.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
API_RATE_LIMIT = env("API_RATE_LIMIT", default="600/min")
# JSON bodies nested deeper than this are a 400 parse_error (api_access.api.parsers).
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=32)
SPECTACULAR_SETTINGS = {
    "TITLE": "Kravia Kundeweb API",
    "DESCRIPTION": (
        "Cases, debtors, invoices for collection and settlements of one creditor. "
        "Authenticate with `Authorization: Bearer <API key>` (Kundeweb: Innstillinger → "
        "API-nøkler). Every error is `{type, message, errors}`; send `Idempotency-Key` on POST."
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and Redoc from drf-spectacular-sidecar's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"CaseStatusEnum": "collections_cases.models.CollectionCase.Status"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api_access.api.schema.add_error_responses",
    ],
}

# Webhooks (integrations.webhooks): HTTPS only and public addresses only, except in
# development and tests (a receiver on http://127.0.0.1).
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=DEBUG)
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=DEBUG)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # One-time tokens in URLs (password reset, invitations, the PoGo callback) are redacted
    # from every message (kravia_web.log_redaction; gunicorn's access log: its logger class).
    "filters": {"redact_tokens": {"()": "kravia_web.log_redaction.RedactTokensFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # urllib3 logs full URLs at DEBUG; keep it quiet so no query string with a token leaks.
        "urllib3": {"level": "WARNING"},
        # Django's own handlers (a console one when DEBUG, mail_admins) would print request
        # paths unredacted: its records go to the root's redacting console handler instead.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # runserver's request lines, through the redacting console handler.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
