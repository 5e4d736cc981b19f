"""Production: every secret from the environment, no sandbox, HTTPS everywhere.

Refuses to start when SECRET_KEY, FIELD_ENCRYPTION_KEY, DATABASE_URL, REDIS_URL or the agency's
name, organisation number and account number (printed on every letter) are missing, or when
POWEROFFICE_SANDBOX is switched on.
"""

import os

from django.core.exceptions import ImproperlyConfigured

# The agency's identity is printed on every letter: no fictional default may reach a debtor.
_REQUIRED = (
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEY",
    "DATABASE_URL",
    "AGENCY_NAME",
    "AGENCY_ORG_NUMBER",
    "AGENCY_ACCOUNT_NUMBER",
)
_missing = [name for name in _REQUIRED if not os.environ.get(name)]
if _missing:
    raise ImproperlyConfigured(
        "Production settings need these environment variables: " + ", ".join(_missing)
    )
if not os.environ.get("REDIS_URL"):
    raise ImproperlyConfigured(
        "REDIS_URL is required in production (e.g. redis://redis:6379/1): the login and Min side "
        "lockouts, the API rate limit and the PowerOffice Go rate limiter count in the cache, and "
        "without Redis each gunicorn worker and Celery process would count alone."
    )
if os.environ.get("POWEROFFICE_SANDBOX", "").lower() in {"1", "true", "yes", "on"}:
    raise ImproperlyConfigured("POWEROFFICE_SANDBOX cannot be switched on in production.")

os.environ["POWEROFFICE_SANDBOX"] = "false"
os.environ.setdefault("DEBUG", "false")
# The documented deployment has one TLS-terminating proxy in front of gunicorn.
os.environ.setdefault("TRUSTED_PROXY_COUNT", "1")

from .base import *  # noqa: E402,F403
from .base import env  # noqa: E402

DEBUG = env.bool("DEBUG", default=False)
if DEBUG:
    raise ImproperlyConfigured("DEBUG cannot be on in production.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CRASH_POINTS_ENABLED = False  # kravia_web.crashpoints never fires in production
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
