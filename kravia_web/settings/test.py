"""Test settings: the base settings with fast hashing and mail kept in memory."""

import os

os.environ.setdefault("POWEROFFICE_SANDBOX", "true")

from .base import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
# Eager tasks run one after another: the daily run is one task (test_dunning_daily.py sets more).
DUNNING_RUN_TASKS = 1
# Worker processes started by tests/reliability may be told to die at a named point.
CRASH_POINTS_ENABLED = True
CELERY_TASK_EAGER_PROPAGATES = True
# Deterministic key for tests: the real one comes from the environment.
FIELD_ENCRYPTION_KEY = "n99IM2blTf28X12iI6lcwcgA9_ph-CkWG8lC2rsLMoM="
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The in-process sandbox answers PoGo calls from the test's database connection: a sync reads
# its pages in its own thread (tests/integrations/test_sync_bulk.py covers the prefetch).
POWEROFFICE_SYNC_PREFETCH = False
# Every sandbox response is checked against PowerOffice's contract (tests/support/pogo_http.py
# fails a test whose exchanges broke it).
POGO_SANDBOX_VALIDATE_RESPONSES = True
# Every request (live-server threads included) closes its connection when it ends.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Webhook tests deliver to receivers they start on 127.0.0.1 over plain HTTP.
WEBHOOK_ALLOW_HTTP = True
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
