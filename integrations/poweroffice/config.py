"""Connection settings for PowerOffice Go, passed in rather than read from Django.

The client package never imports Django: the Django side (``integrations.clients``) builds a
``PowerOfficeConfig`` from settings once and hands it over, so the client can run and be tested
without a configured project and pointing it at the real demo environment is a settings change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .auth import TokenCipher


@dataclass(frozen=True)
class PowerOfficeConfig:
    v2_base_url: str
    v2_token_url: str
    v1_base_url: str
    v1_token_url: str
    application_key: str
    subscription_key: str
    timeout: float = 30.0
    rate_limit_per_second: int = 10
    redis_url: str = ""
    #: Encrypts tokens cached in Redis (with ``redis_url``); the Django side passes the
    #: project's Fernet (``FIELD_ENCRYPTION_KEY``). Without one, tokens stay in-process.
    token_cipher: TokenCipher | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Base URLs are joined with paths that start with "/", so drop a trailing slash once here.
        for name in ("v2_base_url", "v1_base_url"):
            object.__setattr__(self, name, getattr(self, name).rstrip("/"))
        if self.timeout <= 0:
            raise ValueError("timeout must be positive: every PowerOffice call needs one")
        if self.rate_limit_per_second < 1:
            raise ValueError("rate_limit_per_second must be at least 1")

    def __repr__(self) -> str:
        # Keys are secrets: keep them out of logs, tracebacks and error reports.
        return (
            f"PowerOfficeConfig(v2_base_url={self.v2_base_url!r}, v1_base_url={self.v1_base_url!r}, "
            f"timeout={self.timeout!r}, rate_limit_per_second={self.rate_limit_per_second!r}, "
            f"redis={'yes' if self.redis_url else 'no'}, "
            f"token_cipher={'yes' if self.token_cipher is not None else 'no'})"
        )

    @classmethod
    def from_settings(
        cls, settings_obj: Any, *, token_cipher: TokenCipher | None = None
    ) -> PowerOfficeConfig:
        """Build from any object with the ``POWEROFFICE_*`` attributes (e.g. ``django.conf.settings``)."""
        return cls(
            v2_base_url=settings_obj.POWEROFFICE_V2_BASE_URL,
            v2_token_url=settings_obj.POWEROFFICE_V2_TOKEN_URL,
            v1_base_url=settings_obj.POWEROFFICE_V1_BASE_URL,
            v1_token_url=settings_obj.POWEROFFICE_V1_TOKEN_URL,
            application_key=settings_obj.POWEROFFICE_APPLICATION_KEY,
            subscription_key=settings_obj.POWEROFFICE_SUBSCRIPTION_KEY,
            timeout=float(getattr(settings_obj, "POWEROFFICE_TIMEOUT", 30.0)),
            rate_limit_per_second=int(
                getattr(settings_obj, "POWEROFFICE_RATE_LIMIT_PER_SECOND", 10)
            ),
            redis_url=getattr(settings_obj, "REDIS_URL", "") or "",
            token_cipher=token_cipher,
        )
