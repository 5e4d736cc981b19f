"""Secrets at rest: Fernet encryption keyed by ``FIELD_ENCRYPTION_KEY``.

The setting holds one key or several separated by commas; the first encrypts and every one
decrypts (``MultiFernet``), so a key can be rotated without losing stored secrets.
"""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=4)
def _fernet_for(raw_keys: str, secret_key: str) -> MultiFernet:
    keys = [k.strip() for k in raw_keys.split(",") if k.strip()]
    if not keys:
        if not settings.DEBUG and not getattr(settings, "POWEROFFICE_SANDBOX", False):
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not set.")
        # Development only: a stable key derived from SECRET_KEY.
        keys = [base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode()).digest()).decode()]
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be one or more url-safe base64 Fernet keys"
        ) from exc


def fernet() -> MultiFernet:
    return _fernet_for(settings.FIELD_ENCRYPTION_KEY, settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEY"
        ) from exc


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python code only ever sees the plain value.

    Not searchable or sortable by content, by design.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
