"""OAuth 2.0 client credentials for PoGo, and the process-wide token cache.

PoGo issues no refresh token and tokens live ``expires_in`` (1200) seconds, so a token is
cached per (API version, client key) and fetched again a minute before it runs out. The cache
is shared by every client in the process (a Celery worker builds many short-lived clients) and
one lock per key keeps concurrent threads from all fetching a token at once.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from .errors import PowerOfficeError, Unauthorized, ValidationError, redact
from .jsonio import loads

if TYPE_CHECKING:
    from .transport import Transport

RENEW_BEFORE_EXPIRY = 60.0
SUBSCRIPTION_HEADER = "Ocp-Apim-Subscription-Key"


@dataclass(frozen=True)
class TokenKey:
    api: str  # "v1" or "v2"
    token_url: str
    client_digest: str  # sha256 of application key + client key: the keys never sit in the cache

    @classmethod
    def build(cls, api: str, token_url: str, application_key: str, client_key: str) -> TokenKey:
        digest = hashlib.sha256(f"{application_key}:{client_key}".encode()).hexdigest()
        return cls(api=api, token_url=token_url, client_digest=digest)


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    expires_at: float  # on the cache's clock


class TokenCache:
    """Thread-safe token store; ``clock`` is injectable so tests can expire tokens."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        renew_before: float = RENEW_BEFORE_EXPIRY,
    ) -> None:
        self._clock = clock
        self._renew_before = renew_before
        self._tokens: dict[TokenKey, AccessToken] = {}
        self._locks: dict[TokenKey, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock_for(self, key: TokenKey) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def get(self, key: TokenKey, fetch: Callable[[], tuple[str, float]]) -> str:
        """Return a token with more than ``renew_before`` seconds left, fetching one if needed."""
        with self._lock_for(key):
            token = self._tokens.get(key)
            now = self._clock()
            if token is not None and now < token.expires_at:
                return token.value
            value, expires_in = fetch()
            # Short-lived tokens (tests, odd servers) renew at half-life instead of going negative.
            margin = min(self._renew_before, expires_in / 2)
            self._tokens[key] = AccessToken(value, self._clock() + expires_in - margin)
            return value

    def invalidate(self, key: TokenKey, rejected: str) -> None:
        """Forget ``rejected`` after a 401, unless another thread already replaced it."""
        with self._lock_for(key):
            token = self._tokens.get(key)
            if token is not None and token.value == rejected:
                del self._tokens[key]

    def clear(self) -> None:
        with self._guard:
            self._tokens.clear()


default_token_cache = TokenCache()


def basic_credentials(application_key: str, client_key: str) -> str:
    raw = f"{application_key}:{client_key}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def request_token(
    transport: Transport,
    *,
    token_url: str,
    application_key: str,
    client_key: str,
    subscription_key: str | None,
) -> tuple[str, float]:
    """POST the client-credentials grant; return ``(access_token, expires_in)``.

    Token errors (RFC 6749 §5.2, e.g. ``invalid_client``) become ``Unauthorized``; the
    transport has already turned 429/5xx/timeouts into ``RateLimited``/``Unavailable``.
    """
    headers = {
        "Authorization": basic_credentials(application_key, client_key),
        "Accept": "application/json",
    }
    if subscription_key:
        headers[SUBSCRIPTION_HEADER] = subscription_key
    response = transport.send(
        "POST",
        token_url,
        headers=headers,
        data={"grant_type": "client_credentials"},
        idempotent=True,  # a second grant is harmless: it only issues another token
    )
    secrets = (application_key, client_key, subscription_key)
    try:
        body = loads(response.content) if response.content else {}
    except ValueError:
        body = {}
    if response.status_code != 200:
        error = body.get("error") if isinstance(body, dict) else None
        description = body.get("error_description") if isinstance(body, dict) else None
        message = "token request rejected"
        if error:
            message += f": {error}"
        if description:
            message += f" ({description})"
        message = redact(message, secrets)
        if response.status_code in (400, 401, 403) or error:
            raise Unauthorized(message, status_code=response.status_code)
        raise PowerOfficeError(message, status_code=response.status_code)
    if not isinstance(body, dict) or not body.get("access_token"):
        raise ValidationError(
            "token response has no access_token", status_code=200, field="access_token"
        )
    expires_in = body.get("expires_in", 1200)
    try:
        seconds = float(Decimal(str(expires_in)))
    except ArithmeticError:
        raise ValidationError(
            "token response has an invalid expires_in", status_code=200, field="expires_in"
        ) from None
    return str(body["access_token"]), seconds
