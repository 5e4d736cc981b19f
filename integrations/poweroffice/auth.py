"""OAuth 2.0 for PoGo (client credentials; refresh tokens for v1) and the token caches.

v2 issues no refresh token and its tokens live ``expires_in`` (1200) seconds. v1 tokens live
600 seconds and come with a ``refresh_token``: shortly before the access token runs out the
client trades it (``grant_type=refresh_token``; single use, PoGo sends a new one) and falls back
to client credentials when PoGo refuses it. Either way a token is renewed ``RENEW_BEFORE_EXPIRY``
seconds before it expires.

Tokens are cached per (API, token URL, application key, client key):

- ``TokenCache``: in this process, shared by every client built in it (a Celery worker builds
  many short-lived clients); one lock per key keeps concurrent threads from all fetching.
- ``RedisTokenCache`` (when ``REDIS_URL`` is set): in Redis, shared by every process, so the
  web workers, Celery workers and beat fetch one token per connection per lifetime between
  them. Entries are encrypted, keyed by a digest (never a key), expire with the token, and a
  Redis lock lets exactly one process fetch while the others wait and read its token. If Redis
  is down the in-process cache takes over: a PoGo call never fails because Redis did.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

import redis
from cryptography.fernet import InvalidToken

from .errors import PowerOfficeError, Unauthorized, ValidationError, redact
from .jsonio import loads

if TYPE_CHECKING:
    from .transport import Transport

logger = logging.getLogger(__name__)

RENEW_BEFORE_EXPIRY = 60.0
DEFAULT_EXPIRES_IN = 1200.0
SUBSCRIPTION_HEADER = "Ocp-Apim-Subscription-Key"

#: How long one process may hold the right to fetch a connection's token before another may
#: take over (it died, or the token server is very slow), and how often the others look.
LOCK_TTL_SECONDS = 30.0
LOCK_POLL_SECONDS = 0.05
#: Redis must answer quickly or be skipped: a token lookup never waits on a hung Redis.
REDIS_TIMEOUT_SECONDS = 2.0
#: At most one "Redis unavailable" warning per cache per this many seconds.
WARN_EVERY_SECONDS = 60.0


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
class TokenGrant:
    """What the token server answered: the access token, its lifetime, and (v1) a refresh token."""

    access_token: str = field(repr=False)
    expires_in: float
    refresh_token: str | None = field(default=None, repr=False)


#: ``fetch()`` runs the client-credentials grant; a bare ``(token, expires_in)`` is accepted too.
Fetch = Callable[[], "TokenGrant | tuple[str, float]"]
#: ``refresh(refresh_token)`` runs the refresh-token grant.
Refresh = Callable[[str], TokenGrant]


@dataclass(frozen=True)
class CachedToken:
    """A cached grant. Times are on the cache's clock: renew from ``renew_at``; the access token
    itself (and so the refresh token's use, for us) ends at ``expires_at``."""

    value: str = field(repr=False)
    renew_at: float
    expires_at: float
    refresh_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_grant(cls, grant: TokenGrant, now: float, renew_before: float) -> CachedToken:
        # Short-lived tokens (tests, odd servers) renew at half-life instead of going negative.
        margin = min(renew_before, grant.expires_in / 2)
        return cls(
            value=grant.access_token,
            renew_at=now + grant.expires_in - margin,
            expires_at=now + grant.expires_in,
            refresh_token=grant.refresh_token,
        )

    def fresh(self, now: float) -> bool:
        return now < self.renew_at

    def refreshable(self, now: float) -> bool:
        return bool(self.refresh_token) and now < self.expires_at


class TokenStore(Protocol):
    def get(self, key: TokenKey, fetch: Fetch, refresh: Refresh | None = None) -> str:
        """A token with more than the renewal margin left, renewing it if needed."""

    def invalidate(self, key: TokenKey, rejected: str) -> None:
        """Forget ``rejected`` (PoGo answered 401), unless it was already replaced."""

    def clear(self) -> None: ...


class TokenCipher(Protocol):
    """Encrypts cache entries at rest (a ``cryptography`` ``Fernet``/``MultiFernet`` fits)."""

    def encrypt(self, data: bytes) -> bytes: ...

    def decrypt(self, token: bytes) -> bytes: ...


def _as_grant(answer: TokenGrant | tuple[str, float]) -> TokenGrant:
    if isinstance(answer, TokenGrant):
        return answer
    value, expires_in = answer
    return TokenGrant(access_token=value, expires_in=float(expires_in))


def _renew(
    entry: CachedToken | None, fetch: Fetch, refresh: Refresh | None, now: float
) -> TokenGrant:
    """Trade the entry's refresh token while its access token lives, else client credentials."""
    if entry is not None and refresh is not None and entry.refreshable(now):
        try:
            return refresh(entry.refresh_token or "")
        except (Unauthorized, ValidationError) as exc:
            # Used, expired or revoked: the keys themselves still get a new token.
            logger.info(
                "PowerOffice refused the refresh token (%s, HTTP %s); using client credentials",
                type(exc).__name__,
                exc.status_code,
            )
    return _as_grant(fetch())


class TokenCache:
    """Thread-safe in-process token store; ``clock`` is injectable so tests can expire tokens."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        renew_before: float = RENEW_BEFORE_EXPIRY,
    ) -> None:
        self._clock = clock
        self._renew_before = renew_before
        self._tokens: dict[TokenKey, CachedToken] = {}
        self._locks: dict[TokenKey, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock_for(self, key: TokenKey) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def get(self, key: TokenKey, fetch: Fetch, refresh: Refresh | None = None) -> str:
        """Return a token with more than ``renew_before`` seconds left, renewing it if needed."""
        with self._lock_for(key):
            entry = self._tokens.get(key)
            now = self._clock()
            if entry is not None and entry.fresh(now):
                return entry.value
            grant = _renew(entry, fetch, refresh, now)
            self._tokens[key] = CachedToken.from_grant(grant, self._clock(), self._renew_before)
            return grant.access_token

    def put(self, key: TokenKey, entry: CachedToken) -> None:
        with self._lock_for(key):
            self._tokens[key] = entry

    def invalidate(self, key: TokenKey, rejected: str) -> None:
        """Forget ``rejected`` after a 401, unless another thread already replaced it."""
        with self._lock_for(key):
            entry = self._tokens.get(key)
            if entry is not None and entry.value == rejected:
                del self._tokens[key]

    def clear(self) -> None:
        with self._guard:
            self._tokens.clear()


# KEYS[1] = a key; ARGV[1] = the prefix its value must start with for it to be deleted.
# Used to forget a rejected token only if it is still the stored one (value = digest.cipher),
# and to release a lock only if this process still holds it (value = the owner's id).
_DELETE_IF_PREFIX_LUA = """
local value = redis.call('GET', KEYS[1])
if value and string.sub(value, 1, string.len(ARGV[1])) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

REDIS_KEY_PREFIX = "poweroffice:token:"


def _token_digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class RedisTokenCache:
    """One token per connection for every process, kept encrypted in Redis.

    An entry is ``sha256(access token) "." Fernet(JSON)`` under ``poweroffice:token:<digest of
    the TokenKey>``; it expires in Redis when the token is due for renewal (or, with a refresh
    token, when the access token runs out, so the refresh token is still there to use). The
    digest prefix lets ``invalidate`` compare-and-delete in Lua without decrypting.
    """

    def __init__(
        self,
        redis_client: redis.Redis,
        cipher: TokenCipher,
        *,
        clock: Callable[[], float] = time.time,
        renew_before: float = RENEW_BEFORE_EXPIRY,
        lock_ttl: float = LOCK_TTL_SECONDS,
        poll_interval: float = LOCK_POLL_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        fallback: TokenCache | None = None,
    ) -> None:
        self._redis = redis_client
        self._cipher = cipher
        self._clock = clock
        self._renew_before = renew_before
        self._lock_ttl = lock_ttl
        self._poll_interval = poll_interval
        self._sleep = sleep
        # Counted, not timed: time.monotonic may be frozen by a test's time machine.
        self._max_polls = max(1, math.ceil(lock_ttl / poll_interval))
        self._delete_if_prefix = redis_client.register_script(_DELETE_IF_PREFIX_LUA)
        self.fallback = fallback or TokenCache(clock=clock, renew_before=renew_before)
        self._warned_at: float | None = None

    @staticmethod
    def redis_key(key: TokenKey) -> str:
        raw = f"{key.api}\n{key.token_url}\n{key.client_digest}"
        return REDIS_KEY_PREFIX + hashlib.sha256(raw.encode()).hexdigest()[:40]

    # --- the TokenStore interface ----------------------------------------------------------

    def get(self, key: TokenKey, fetch: Fetch, refresh: Refresh | None = None) -> str:
        try:
            return self._get_shared(key, fetch, refresh)
        except redis.RedisError as exc:
            # Raised before any token was fetched (storing one never raises): fetch in-process.
            self._warn(exc)
            return self.fallback.get(key, fetch, refresh)

    def invalidate(self, key: TokenKey, rejected: str) -> None:
        self.fallback.invalidate(key, rejected)
        try:
            self._delete_if_prefix(keys=[self.redis_key(key)], args=[_token_digest(rejected) + "."])
        except redis.RedisError as exc:
            self._warn(exc)

    def clear(self) -> None:
        self.fallback.clear()
        try:
            delete_shared_tokens(self._redis)
        except redis.RedisError as exc:
            self._warn(exc)

    # --- internals -------------------------------------------------------------------------

    def _get_shared(self, key: TokenKey, fetch: Fetch, refresh: Refresh | None) -> str:
        name = self.redis_key(key)
        lock_name = name + ":lock"
        entry = None
        for _ in range(self._max_polls):
            entry = self._read(name)
            if entry is not None and entry.fresh(self._clock()):
                return entry.value
            owner = uuid.uuid4().hex
            if self._redis.set(lock_name, owner, nx=True, px=int(self._lock_ttl * 1000)):
                try:
                    # Another process may have stored a token between our read and the lock.
                    entry = self._read(name)
                    now = self._clock()
                    if entry is not None and entry.fresh(now):
                        return entry.value
                    grant = _renew(entry, fetch, refresh, now)
                    self._store(key, name, grant)
                    return grant.access_token
                finally:
                    self._release(lock_name, owner)
            self._sleep(self._poll_interval)
        # The process holding the lock has taken the whole lock period: fetch for ourselves.
        logger.warning("PowerOffice token lock held too long; fetching a token without it")
        grant = _renew(entry, fetch, refresh, self._clock())
        self._store(key, name, grant)
        return grant.access_token

    def _read(self, name: str) -> CachedToken | None:
        raw = self._redis.get(name)
        if raw is None:
            return None
        _, _, ciphertext = bytes(raw).partition(b".")
        try:
            payload = json.loads(self._cipher.decrypt(ciphertext))
            return CachedToken(
                value=str(payload["access_token"]),
                renew_at=float(payload["renew_at"]),
                expires_at=float(payload["expires_at"]),
                refresh_token=payload.get("refresh_token") or None,
            )
        except (InvalidToken, ValueError, KeyError, TypeError):
            # Encrypted with a key we no longer hold, or damaged: as good as absent.
            logger.warning("PowerOffice token cache entry unreadable; fetching a new token")
            return None

    def _store(self, key: TokenKey, name: str, grant: TokenGrant) -> None:
        now = self._clock()
        entry = CachedToken.from_grant(grant, now, self._renew_before)
        payload = {
            "access_token": entry.value,
            "renew_at": entry.renew_at,
            "expires_at": entry.expires_at,
            "refresh_token": entry.refresh_token,
        }
        ciphertext = self._cipher.encrypt(json.dumps(payload).encode())
        value = _token_digest(entry.value).encode() + b"." + ciphertext
        lives_until = entry.expires_at if entry.refresh_token else entry.renew_at
        try:
            self._redis.set(name, value, px=max(1, int((lives_until - now) * 1000)))
        except redis.RedisError as exc:
            # The token is ours already: keep it in this process rather than fetch another.
            self._warn(exc)
            self.fallback.put(key, entry)

    def _release(self, lock_name: str, owner: str) -> None:
        try:
            self._delete_if_prefix(keys=[lock_name], args=[owner])
        except redis.RedisError as exc:  # the lock expires on its own
            self._warn(exc)

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if self._warned_at is None or now - self._warned_at >= WARN_EVERY_SECONDS:
            self._warned_at = now
            logger.warning(
                "PowerOffice token cache: Redis unavailable (%s), caching tokens in-process",
                type(exc).__name__,
            )


def delete_shared_tokens(redis_client: redis.Redis) -> int:
    """Delete every shared token entry (and lock) in this Redis database; return how many."""
    deleted = 0
    for name in redis_client.scan_iter(match=REDIS_KEY_PREFIX + "*", count=500):
        deleted += redis_client.delete(name)
    return deleted


default_token_cache = TokenCache()

_shared_caches: dict[tuple[str, int], tuple[TokenCipher, RedisTokenCache]] = {}
_shared_lock = threading.Lock()
_warned_no_cipher = False


def redis_for_tokens(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(
        redis_url,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )


def shared_token_cache(redis_url: str, cipher: TokenCipher | None) -> TokenStore:
    """The process-wide token store: Redis-backed when ``redis_url`` and ``cipher`` are set.

    Without a cipher tokens are not written to Redis at all (they are secrets): they are cached
    in-process, with a warning.
    """
    global _warned_no_cipher
    if not redis_url:
        return default_token_cache
    if cipher is None:
        if not _warned_no_cipher:
            _warned_no_cipher = True
            logger.warning(
                "PowerOffice tokens: REDIS_URL is set but no token cipher was given; "
                "caching tokens per process"
            )
        return default_token_cache
    registry_key = (redis_url, id(cipher))
    with _shared_lock:
        found = _shared_caches.get(registry_key)
        if found is None or found[0] is not cipher:
            cache = RedisTokenCache(redis_for_tokens(redis_url), cipher)
            found = (cipher, cache)  # holding the cipher keeps its id from being reused
            _shared_caches[registry_key] = found
        return found[1]


def clear_token_caches(redis_url: str = "") -> None:
    """Forget every cached token: this process's, and the shared ones in ``redis_url`` (tests)."""
    default_token_cache.clear()
    with _shared_lock:
        caches = [cache for _, cache in _shared_caches.values()]
    for cache in caches:
        cache.clear()
    if redis_url:
        connection = redis_for_tokens(redis_url)
        try:
            delete_shared_tokens(connection)
        except redis.RedisError:
            pass
        finally:
            connection.close()


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
    refresh_token: str | None = None,
) -> TokenGrant:
    """POST the client-credentials grant, or with ``refresh_token`` the refresh-token grant
    (RFC 6749 §6: the client authenticates the same way); return the ``TokenGrant``.

    Token errors (RFC 6749 §5.2, e.g. ``invalid_client``, ``invalid_grant``) become
    ``Unauthorized``; the transport has already turned 429/5xx/timeouts into
    ``RateLimited``/``Unavailable``.
    """
    headers = {
        "Authorization": basic_credentials(application_key, client_key),
        "Accept": "application/json",
    }
    if subscription_key:
        headers[SUBSCRIPTION_HEADER] = subscription_key
    if refresh_token:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    else:
        data = {"grant_type": "client_credentials"}
    response = transport.send(
        "POST",
        token_url,
        headers=headers,
        data=data,
        # A second client-credentials grant only issues another token. A refresh token is
        # single use, so a resend could be refused: the caller then falls back to the keys.
        idempotent=True,
    )
    secrets = (application_key, client_key, subscription_key, refresh_token)
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
    expires_in = body.get("expires_in", DEFAULT_EXPIRES_IN)
    try:
        seconds = float(Decimal(str(expires_in)))
    except ArithmeticError:
        raise ValidationError(
            "token response has an invalid expires_in", status_code=200, field="expires_in"
        ) from None
    if not math.isfinite(seconds) or seconds < 0:
        raise ValidationError(
            "token response has an invalid expires_in", status_code=200, field="expires_in"
        )
    new_refresh = body.get("refresh_token")
    return TokenGrant(
        access_token=str(body["access_token"]),
        expires_in=seconds,
        refresh_token=new_refresh if isinstance(new_refresh, str) and new_refresh else None,
    )
