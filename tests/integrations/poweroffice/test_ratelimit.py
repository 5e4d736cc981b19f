"""The global limiter: at most N requests in any one-second window, in-process or via Redis."""

import threading
import time

import pytest
import redis
import requests

from integrations.poweroffice.ratelimit import (
    LocalRateLimiter,
    RedisRateLimiter,
    shared_rate_limiter,
)
from tests.reliability.processes import free_port, private_redis

from .fakes import FakeClock, FakePoGo, make_client, response


def test_local_limiter_lets_ten_through_then_waits_for_the_window():
    clock = FakeClock(0.0)
    sleeps: list[float] = []

    def sleep(seconds):
        sleeps.append(seconds)
        clock.advance(seconds)

    limiter = LocalRateLimiter(10, clock=clock, sleep=sleep)
    for _ in range(10):
        limiter.acquire()
    assert sleeps == []

    clock.advance(0.3)
    limiter.acquire()

    assert sleeps == [pytest.approx(0.7)]


def test_local_limiter_window_slides():
    clock = FakeClock(0.0)
    limiter = LocalRateLimiter(2, clock=clock, sleep=lambda s: None)
    assert limiter.try_acquire() == 0
    clock.advance(0.6)
    assert limiter.try_acquire() == 0
    clock.advance(0.5)  # the first has left the window, the second has not

    assert limiter.try_acquire() == 0
    assert limiter.try_acquire() == pytest.approx(0.5)


def test_local_limiter_holds_across_threads():
    limit, window = 5, 0.2
    limiter = LocalRateLimiter(limit, window=window)
    stamps: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(3):
            limiter.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    stamps.sort()
    assert len(stamps) == 15
    for i in range(len(stamps) - limit):
        # any limit+1 consecutive requests span at least one window
        assert stamps[i + limit] - stamps[i] >= window - 0.01


def test_the_client_goes_through_the_limiter_for_every_request():
    clock = FakeClock(0.0)
    slept: list[float] = []

    def sleep(seconds):
        slept.append(seconds)
        clock.advance(seconds)

    limiter = LocalRateLimiter(2, clock=clock, sleep=sleep)
    fake = FakePoGo()
    client = make_client(fake, rate_limiter=limiter)
    fake.handle("GET", "/v2/VatCodes", lambda sent: response(204))

    client.vat_codes()  # token + call
    client.vat_codes()  # must wait for the window

    assert len(slept) == 1
    assert len(fake.sent) == 3


def test_shared_limiter_is_one_per_subscription_key():
    a = shared_rate_limiter("sub-a", 10)
    assert shared_rate_limiter("sub-a", 10) is a
    assert shared_rate_limiter("sub-b", 10) is not a


# --- Redis -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_url():
    """A private redis-server on a free port. Without redis-server the tests skip locally but
    fail in CI (``CI`` set: .ci/run installs it); a server that never answers fails them."""
    with private_redis() as server:
        yield server.url


def test_redis_limiter_is_shared_between_processes(redis_url):
    # Two limiters over separate connections stand in for two worker processes.
    first = RedisRateLimiter(redis.Redis.from_url(redis_url), "sub-shared", 3, window=0.5)
    second = RedisRateLimiter(redis.Redis.from_url(redis_url), "sub-shared", 3, window=0.5)

    assert first.try_acquire() == 0
    assert second.try_acquire() == 0
    assert first.try_acquire() == 0
    wait = second.try_acquire()

    assert 0 < wait <= 0.5
    time.sleep(wait + 0.01)
    assert second.try_acquire() == 0


def test_redis_limiter_keys_by_subscription_key_without_storing_it(redis_url):
    connection = redis.Redis.from_url(redis_url)
    limiter = RedisRateLimiter(connection, "very-secret-subscription-key", 2, window=0.5)
    other = RedisRateLimiter(connection, "another-subscription-key", 2, window=0.5)

    limiter.acquire()
    limiter.acquire()

    assert other.try_acquire() == 0
    assert "very-secret-subscription-key" not in limiter.key
    assert connection.zcard(limiter.key) == 2


def test_redis_outage_falls_back_to_limiting_in_process():
    dead = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2)
    limiter = RedisRateLimiter(dead, "sub", 2, sleep=lambda s: None)

    limiter.acquire()  # no exception: the PoGo call goes ahead
    limiter.acquire()

    assert limiter._fallback.try_acquire() > 0


def test_a_client_configured_with_redis_counts_its_requests_there(redis_url):
    from dataclasses import replace

    from integrations.poweroffice import PowerOfficeClient

    from .fakes import BASE, CONFIG

    fake = FakePoGo()
    session = requests.Session()
    session.mount(BASE, fake)
    fake.handle("GET", "/v2/VatCodes", lambda sent: response(204))
    config = replace(CONFIG, redis_url=redis_url, subscription_key="sub-for-redis-test")
    client = PowerOfficeClient(config, client_key="client-key-1111-secret", session=session)

    client.vat_codes()

    limiter = client.transport.rate_limiter
    assert isinstance(limiter, RedisRateLimiter)
    assert redis.Redis.from_url(redis_url).zcard(limiter.key) == 2  # token + call
