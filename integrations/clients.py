"""Django's side of the PowerOffice client: build one from settings.

Kept tiny on purpose: the client package stays free of Django, and tests swap
``session_factory`` to route HTTP to the in-process sandbox (see ``tests/support/pogo_http.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings

from integrations.poweroffice import PowerOfficeClient, PowerOfficeConfig, new_session
from kravia_web import crypto

session_factory: Callable[[], Any] = new_session


def poweroffice_config() -> PowerOfficeConfig:
    """The client's settings; with ``REDIS_URL`` also the cipher that encrypts the tokens every
    process shares through Redis (``FIELD_ENCRYPTION_KEY``, the key for all secrets at rest)."""
    cipher = crypto.fernet() if getattr(settings, "REDIS_URL", "") else None
    return PowerOfficeConfig.from_settings(settings, token_cipher=cipher)


def poweroffice_client(*, client_key: str | None = None) -> PowerOfficeClient:
    """A client for one connected company (``client_key``), or for onboarding (``None``)."""
    return PowerOfficeClient(poweroffice_config(), client_key=client_key, session=session_factory())
