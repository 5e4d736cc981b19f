"""The global request limiter: PoGo allows 10 requests/s per subscription key, shared by every
client key and every process we run (web, workers, beat).

A sliding-window log is used rather than a token bucket: it never lets more than ``limit``
requests into *any* one-second window, so it also stays under a server that counts per calendar
second (a full bucket plus refills could send almost twice the limit in one such second).

With Redis the window lives in one sorted set per subscription key and an atomic Lua script
decides, using the Redis server's clock so that processes on different hosts agree. Without
Redis the same algorithm runs in-process, shared by every client built in this process.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Protocol

import redis

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 1.0
#: The shared limiters' window is a little longer than PoGo's second: requests reach PoGo after
#: a transit time that varies (network, a busy process), so two taken exactly one second apart
#: by our clock can land in the same second of PoGo's (tests/reliability/
#: test_rate_limit_processes.py saw 11 in one second with a 1.0 s window). 0.05 s absorbs 50 ms
#: of such jitter at ~9.5 requests/s (1.05 × the key's floor; 0.1 s cost 1.10 ×, the edge of
#: the fan-out target); PoGo's own 429, retried by the transport, stays the backstop.
SHARED_WINDOW_SECONDS = WINDOW_SECONDS + 0.05


class RateLimiter(Protocol):
    def acquire(self) -> None:
        """Block until one more request may be sent."""


class LocalRateLimiter:
    """Thread-safe in-process sliding window; ``clock``/``sleep`` are injectable for tests."""

    def __init__(
        self,
        limit: int,
        *,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def try_acquire(self) -> float:
        """Take a slot and return 0, or return the seconds to wait before trying again."""
        with self._lock:
            now = self._clock()
            while self._sent and self._sent[0] <= now - self.window:
                self._sent.popleft()
            if len(self._sent) < self.limit:
                self._sent.append(now)
                return 0.0
            return max(self._sent[0] + self.window - now, 0.001)

    def acquire(self) -> None:
        # Sleep outside the lock so other threads can take slots that free up meanwhile.
        while (wait := self.try_acquire()) > 0:
            self._sleep(wait)


# KEYS[1] = the window's sorted set; ARGV = limit, window (µs), a unique member.
# Returns 0 when a slot was taken, else the microseconds until the oldest entry leaves the window.
_SLIDING_WINDOW_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1000, tonumber(oldest[2]) + window - now)
"""


class RedisRateLimiter:
    """Sliding window shared by every process through Redis.

    If Redis is unreachable the limiter degrades to an in-process window instead of failing
    the PoGo call: PoGo's own 429 (which the transport retries) stays the backstop.
    """

    def __init__(
        self,
        redis_client: redis.Redis,
        subscription_key: str,
        limit: int,
        *,
        window: float = WINDOW_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit = limit
        self.window = window
        self._sleep = sleep
        # The subscription key is a secret: key the window by a digest of it, not the key itself.
        digest = hashlib.sha256(subscription_key.encode()).hexdigest()[:24]
        self.key = f"poweroffice:ratelimit:{digest}"
        self._script = redis_client.register_script(_SLIDING_WINDOW_LUA)
        self._fallback = LocalRateLimiter(limit, window=window, sleep=sleep)

    def try_acquire(self) -> float:
        wait_us = self._script(
            keys=[self.key], args=[self.limit, int(self.window * 1_000_000), uuid.uuid4().hex]
        )
        return int(wait_us) / 1_000_000

    def acquire(self) -> None:
        try:
            while (wait := self.try_acquire()) > 0:
                self._sleep(wait)
        except redis.RedisError as exc:
            logger.warning(
                "PowerOffice rate limiter: Redis unavailable (%s), limiting in-process",
                type(exc).__name__,
            )
            self._fallback.acquire()


_shared: dict[tuple[str, str, int], RateLimiter] = {}
_shared_lock = threading.Lock()


def shared_rate_limiter(subscription_key: str, limit: int, redis_url: str = "") -> RateLimiter:
    """The process-wide limiter for a subscription key (Redis-backed when ``redis_url`` is set)."""
    cache_key = (subscription_key, redis_url, limit)
    with _shared_lock:
        limiter = _shared.get(cache_key)
        if limiter is None:
            if redis_url:
                limiter = RedisRateLimiter(
                    redis.Redis.from_url(redis_url),
                    subscription_key,
                    limit,
                    window=SHARED_WINDOW_SECONDS,
                )
            else:
                limiter = LocalRateLimiter(limit, window=SHARED_WINDOW_SECONDS)
            _shared[cache_key] = limiter
        return limiter
