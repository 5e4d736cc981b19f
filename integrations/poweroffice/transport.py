"""HTTP transport: one ``requests.Session``, a timeout on every call, the global rate limiter,
and the retry policy, which turns transient failures into ``RateLimited``/``Unavailable``.

Retry policy (one place, so it is easy to change):

* 429: wait ``Retry-After`` (never less than 1 s, as PoGo asks) and retry, up to
  ``max_rate_limit_retries`` times. A throttled request was not processed, so this applies to
  every method.
* 5xx, timeouts and dropped connections: up to ``max_retries`` retries with exponential backoff
  and full jitter, for idempotent requests (GET/PUT/DELETE, and POSTs the caller marks
  idempotent, e.g. vouchers carrying an ``ExternalImportReference``). A non-idempotent POST is
  retried only when it provably never reached PoGo (connect failure, 503); otherwise it fails
  with ``Unavailable(maybe_processed=True)`` rather than risk a duplicate voucher or case.
* Any other status is returned to the caller, which maps 4xx to typed errors without retrying.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from .errors import RateLimited, Unavailable
from .ratelimit import RateLimiter

logger = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# 503 means the server (or its gateway) refused the request before handling it.
NOT_PROCESSED_STATUSES = frozenset({503})
MIN_RATE_LIMIT_WAIT = 1.0


def new_session() -> requests.Session:
    """A fresh session; the Django side uses this so it never imports ``requests`` itself."""
    session = requests.Session()
    session.headers["User-Agent"] = "kravia-web PowerOffice client"
    return session


def _never_sent(exc: BaseException) -> bool:
    """True when the connection failed before the request could reach the server."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NewConnectionError | ConnectTimeoutError):
            return True
        todo.extend([getattr(current, "reason", None), current.__cause__, current.__context__])
        todo.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
    return False


def retry_after_seconds(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


class Transport:
    def __init__(
        self,
        *,
        session: requests.Session,
        timeout: float,
        rate_limiter: RateLimiter,
        sleep: Callable[[float], None] = time.sleep,
        max_retries: int = 4,
        max_rate_limit_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.session = session
        self.timeout = timeout
        self.rate_limiter = rate_limiter
        self.sleep = sleep
        self.max_retries = max_retries
        self.max_rate_limit_retries = max_rate_limit_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.jitter = jitter
        self.request_count = 0  # HTTP requests actually sent, retries included
        self.on_request: Callable[[str, str], None] | None = None  # hook: (method, url)

    def backoff(self, retry: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**retry)], but never a busy loop."""
        ceiling = min(self.backoff_cap, self.backoff_base * (2**retry))
        return max(ceiling * self.jitter(), 0.05)

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        data: bytes | Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> requests.Response:
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        where = f"{method} {urlsplit(url).path}"  # never the query or headers: no secrets in logs
        failures = 0
        throttled = 0
        while True:
            self.rate_limiter.acquire()
            self.request_count += 1
            if self.on_request is not None:
                self.on_request(method, url)
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=dict(headers or {}),
                    params=params,
                    data=data,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                never_sent = _never_sent(exc)
                kind = "timeout" if isinstance(exc, requests.Timeout) else "connection failure"
                if (idempotent or never_sent) and failures < self.max_retries:
                    delay = self.backoff(failures)
                    failures += 1
                    logger.warning(
                        "PowerOffice %s: %s, retry %d in %.2fs", where, kind, failures, delay
                    )
                    self.sleep(delay)
                    continue
                raise Unavailable(
                    f"PowerOffice {kind} on {where}",
                    maybe_processed=not never_sent and not idempotent,
                ) from exc

            status = response.status_code
            if status == 429:
                retry_after = retry_after_seconds(response)
                if throttled < self.max_rate_limit_retries:
                    throttled += 1
                    delay = max(retry_after or 0.0, MIN_RATE_LIMIT_WAIT)
                    logger.info(
                        "PowerOffice %s: throttled, retry %d in %.2fs", where, throttled, delay
                    )
                    self.sleep(delay)
                    continue
                raise RateLimited(
                    f"PowerOffice throttled {where} after {throttled} retries",
                    retry_after=retry_after,
                )
            if status >= 500:
                retryable = idempotent or status in NOT_PROCESSED_STATUSES
                if retryable and failures < self.max_retries:
                    delay = self.backoff(failures)
                    failures += 1
                    logger.warning(
                        "PowerOffice %s: HTTP %d, retry %d in %.2fs", where, status, failures, delay
                    )
                    self.sleep(delay)
                    continue
                raise Unavailable(
                    f"PowerOffice server error on {where}",
                    status_code=status,
                    maybe_processed=not retryable,
                )
            return response

    def close(self) -> None:
        self.session.close()
