"""The shared token cache: one token per connection per lifetime for every process, via Redis.

Each ``RedisTokenCache`` below has its own Redis connection and stands in for one worker
process; threads stand in for the requests a process serves at once. A private redis-server
(``tests/reliability/processes.py``) keeps other tests' data out.
"""

import logging
import threading
import time
from dataclasses import replace

import pytest
import redis
import requests
from cryptography.fernet import Fernet

from integrations.poweroffice import PowerOfficeClient, Unauthorized
from integrations.poweroffice import auth as auth_module
from integrations.poweroffice.auth import (
    RedisTokenCache,
    TokenCache,
    TokenGrant,
    TokenKey,
    clear_token_caches,
    shared_token_cache,
)
from integrations.poweroffice.ratelimit import LocalRateLimiter
from tests.reliability.processes import free_port, private_redis

from .fakes import APP_KEY, BASE, CLIENT_KEY, CONFIG, FakeClock, FakePoGo, response

KEY = TokenKey.build("v2", "https://pogo.test/OAuth/Token", APP_KEY, CLIENT_KEY)
OTHER_KEY = TokenKey.build("v2", "https://pogo.test/OAuth/Token", APP_KEY, "another-client")
V1_KEY = TokenKey.build("v1", "https://pogo.test/v1/OAuth/Token", APP_KEY, CLIENT_KEY)
CIPHER = Fernet(Fernet.generate_key())


@pytest.fixture(scope="module")
def redis_server():
    with private_redis() as server:
        yield server


@pytest.fixture
def redis_url(redis_server):
    redis.Redis.from_url(redis_server.url).flushdb()
    return redis_server.url


@pytest.fixture
def clock():
    return FakeClock()


def worker(redis_url, clock, **kwargs) -> RedisTokenCache:
    """One process's cache: its own connection, the shared clock."""
    kwargs.setdefault("poll_interval", 0.01)
    return RedisTokenCache(redis.Redis.from_url(redis_url), CIPHER, clock=clock, **kwargs)


class TokenServer:
    """Counts grants; slow enough that concurrent callers really overlap."""

    def __init__(self, expires_in=1200.0, refresh=False, delay=0.05):
        self.expires_in = expires_in
        self.refresh = refresh
        self.delay = delay
        self.fetched: list[str] = []
        self.refreshed: list[str] = []
        self.refused_refresh: set[str] = set()
        self._lock = threading.Lock()

    def _grant(self, kind: str) -> TokenGrant:
        time.sleep(self.delay)
        with self._lock:
            number = len(self.fetched) + len(self.refreshed) + 1
            (self.refreshed if kind == "refresh" else self.fetched).append(f"tok-{number}")
        return TokenGrant(
            f"tok-{number}", self.expires_in, f"ref-{number}" if self.refresh else None
        )

    def fetch(self) -> TokenGrant:
        return self._grant("fetch")

    def refresh_with(self, refresh_token: str) -> TokenGrant:
        if refresh_token in self.refused_refresh:
            raise Unauthorized("token request rejected: invalid_grant", status_code=400)
        self.refused_refresh.add(refresh_token)  # single use
        return self._grant("refresh")


def run_together(callables):
    barrier = threading.Barrier(len(callables))
    results = [None] * len(callables)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(callables)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_workers_sharing_redis_fetch_one_token_per_connection_per_lifetime(redis_url, clock):
    server = TokenServer()
    caches = [worker(redis_url, clock) for _ in range(4)]  # four processes ...
    calls = [  # ... serving three requests each, for two connections at once
        (lambda cache=cache, key=key: cache.get(key, server.fetch))
        for cache in caches
        for key in (KEY, OTHER_KEY)
        for _ in range(3)
    ]

    results = run_together(calls)

    assert len(server.fetched) == 2
    keys = [key for _ in caches for key in (KEY, OTHER_KEY) for _ in range(3)]
    per_key = {key: {r for r, k in zip(results, keys, strict=True) if k == key} for key in keys}
    assert sorted(len(tokens) for tokens in per_key.values()) == [1, 1]  # one token each
    assert per_key[KEY] != per_key[OTHER_KEY]

    clock.advance(1200 - 61)  # still valid for everyone
    run_together([lambda cache=cache: cache.get(KEY, server.fetch) for cache in caches])
    assert len(server.fetched) == 2

    clock.advance(2)  # due for renewal: again exactly one fetch between all of them
    renewed = run_together([lambda cache=cache: cache.get(KEY, server.fetch) for cache in caches])
    assert len(server.fetched) == 3
    assert set(renewed) == {server.fetched[-1]}


def test_entries_are_encrypted_and_keyed_by_a_digest_with_the_tokens_lifetime(redis_url, clock):
    cache = worker(redis_url, clock)
    connection = redis.Redis.from_url(redis_url)

    cache.get(KEY, lambda: TokenGrant("secret-access-token", 1200.0))
    cache.get(V1_KEY, lambda: TokenGrant("secret-v1-token", 600.0, "secret-refresh-token"))

    names = [name.decode() for name in connection.keys("*")]
    assert sorted(names) == sorted([cache.redis_key(KEY), cache.redis_key(V1_KEY)])
    raw = b"".join(connection.get(name) for name in names)
    for secret in (b"secret-access-token", b"secret-v1-token", b"secret-refresh-token"):
        assert secret not in raw
    for secret in (APP_KEY, CLIENT_KEY, KEY.client_digest):
        assert all(secret not in name for name in names)
    # Redis drops a v2 token when it is due for renewal (1200 - 60 s), a v1 token (which has a
    # refresh token to use in its last minute) when it runs out.
    assert 1139_000 < connection.pttl(cache.redis_key(KEY)) <= 1140_000
    assert 599_000 < connection.pttl(cache.redis_key(V1_KEY)) <= 600_000


def test_an_entry_encrypted_with_another_key_is_replaced(redis_url, clock, caplog):
    stranger = RedisTokenCache(
        redis.Redis.from_url(redis_url), Fernet(Fernet.generate_key()), clock=clock
    )
    stranger.get(KEY, lambda: TokenGrant("theirs", 1200.0))
    cache = worker(redis_url, clock)

    with caplog.at_level(logging.WARNING, logger="integrations.poweroffice.auth"):
        assert cache.get(KEY, lambda: TokenGrant("ours", 1200.0)) == "ours"

    assert "unreadable" in caplog.text
    assert worker(redis_url, clock).get(KEY, lambda: TokenGrant("never", 1200.0)) == "ours"


def test_a_rejected_token_is_deleted_only_while_it_is_still_the_stored_one(redis_url, clock):
    server = TokenServer(delay=0)
    first, second = worker(redis_url, clock), worker(redis_url, clock)
    rejected = first.get(KEY, server.fetch)

    first.invalidate(KEY, rejected)  # PoGo said 401 to the first process
    replacement = second.get(KEY, server.fetch)
    second.invalidate(KEY, rejected)  # the second process's late 401 for the old token

    assert replacement != rejected
    assert first.get(KEY, server.fetch) == replacement
    assert len(server.fetched) == 2


def test_after_a_401_every_worker_gets_the_one_new_token(redis_url, clock):
    server = TokenServer()
    caches = [worker(redis_url, clock) for _ in range(4)]
    rejected = caches[0].get(KEY, server.fetch)

    def after_401(cache):
        cache.invalidate(KEY, rejected)
        return cache.get(KEY, server.fetch)

    results = run_together([lambda cache=cache: after_401(cache) for cache in caches])

    assert len(server.fetched) == 2
    assert set(results) == {server.fetched[-1]}


def test_v1_tokens_are_refreshed_once_with_the_stored_refresh_token(redis_url, clock):
    server = TokenServer(expires_in=600.0, refresh=True)
    caches = [worker(redis_url, clock) for _ in range(3)]
    assert caches[0].get(V1_KEY, server.fetch, server.refresh_with) == "tok-1"

    clock.advance(600 - 59)  # inside the last minute
    results = run_together(
        [
            lambda cache=cache: cache.get(V1_KEY, server.fetch, server.refresh_with)
            for cache in caches
        ]
    )

    assert server.fetched == ["tok-1"]
    assert server.refreshed == ["tok-2"]
    assert set(results) == {"tok-2"}
    assert server.refused_refresh == {"ref-1"}

    clock.advance(600 - 59)  # the rotated refresh token is the one stored
    assert caches[1].get(V1_KEY, server.fetch, server.refresh_with) == "tok-3"
    assert server.refused_refresh == {"ref-1", "ref-2"}


def test_a_refused_refresh_token_falls_back_to_client_credentials(redis_url, clock):
    server = TokenServer(expires_in=600.0, refresh=True, delay=0)
    cache = worker(redis_url, clock)
    cache.get(V1_KEY, server.fetch, server.refresh_with)
    server.refused_refresh.add("ref-1")  # used up elsewhere
    clock.advance(570)

    assert cache.get(V1_KEY, server.fetch, server.refresh_with) == "tok-2"
    assert server.fetched == ["tok-1", "tok-2"]
    assert server.refreshed == []


def test_a_worker_that_died_holding_the_lock_delays_the_others_only_until_it_expires(
    redis_url, clock
):
    cache = worker(redis_url, clock)
    redis.Redis.from_url(redis_url).set(cache.redis_key(KEY) + ":lock", "dead-worker", px=300)
    started = time.monotonic()

    assert cache.get(KEY, lambda: TokenGrant("after-the-lock", 1200.0)) == "after-the-lock"

    assert 0.2 < time.monotonic() - started < 5


def test_redis_down_falls_back_to_the_in_process_cache(clock, caplog):
    dead = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2)
    cache = RedisTokenCache(dead, CIPHER, clock=clock)
    server = TokenServer(delay=0)

    with caplog.at_level(logging.WARNING, logger="integrations.poweroffice.auth"):
        first = cache.get(KEY, server.fetch)
        second = cache.get(KEY, server.fetch)
        cache.invalidate(KEY, first)
        third = cache.get(KEY, server.fetch)

    assert first == second == "tok-1"
    assert third == "tok-2"
    assert "Redis unavailable" in caplog.text
    assert caplog.text.count("Redis unavailable") == 1  # not once per call


def test_a_token_fetched_just_before_redis_fails_is_kept_in_process(redis_url, clock):
    cache = worker(redis_url, clock)
    server = TokenServer(delay=0)

    def fetch_then_redis_dies():
        grant = server.fetch()
        cache._redis = redis.Redis.from_url(
            f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2
        )
        return grant

    assert cache.get(KEY, fetch_then_redis_dies) == "tok-1"
    assert cache.get(KEY, server.fetch) == "tok-1"  # from the fallback: no second fetch
    assert server.fetched == ["tok-1"]


# --- wired into the client ---------------------------------------------------------------------


def test_clients_in_different_processes_share_one_token_through_redis(redis_url):
    fake = FakePoGo()
    fake.handle("GET", "/v2/VatCodes", lambda sent: response(204))
    config = replace(CONFIG, redis_url=redis_url, token_cipher=CIPHER)

    def process_client():
        session = requests.Session()
        session.mount(BASE, fake)
        return PowerOfficeClient(
            config,
            client_key=CLIENT_KEY,
            session=session,
            token_cache=RedisTokenCache(redis.Redis.from_url(redis_url), CIPHER),
            rate_limiter=LocalRateLimiter(10_000),
        )

    clients = [process_client() for _ in range(5)]
    run_together([lambda client=client: client.vat_codes() for client in clients])
    fake.revoke_tokens()  # PoGo forgets the token: one process renews it for all
    run_together([lambda client=client: client.vat_codes() for client in clients])

    assert len(fake.token_calls()) == 2


def test_the_shared_cache_is_used_only_with_redis_and_a_cipher(redis_url, monkeypatch):
    monkeypatch.setattr(auth_module, "_shared_caches", {})

    assert shared_token_cache("", CIPHER) is auth_module.default_token_cache
    assert shared_token_cache(redis_url, None) is auth_module.default_token_cache
    shared = shared_token_cache(redis_url, CIPHER)
    assert isinstance(shared, RedisTokenCache)
    assert shared_token_cache(redis_url, CIPHER) is shared
    client = PowerOfficeClient(replace(CONFIG, redis_url=redis_url, token_cipher=CIPHER))
    assert client.tokens is shared


def test_clear_token_caches_forgets_shared_and_in_process_tokens(redis_url, clock):
    cache = worker(redis_url, clock)
    cache.get(KEY, lambda: TokenGrant("shared", 1200.0))
    local = auth_module.default_token_cache
    local.get(KEY, lambda: ("local", 1200.0))

    clear_token_caches(redis_url)

    assert redis.Redis.from_url(redis_url).keys("poweroffice:token:*") == []
    assert local.get(KEY, lambda: ("fresh", 1200.0)) == "fresh"
    local.clear()


def test_the_in_process_cache_refreshes_too():
    server = TokenServer(expires_in=600.0, refresh=True, delay=0)
    clock = FakeClock()
    cache = TokenCache(clock=clock)
    cache.get(V1_KEY, server.fetch, server.refresh_with)

    clock.advance(545)
    assert cache.get(V1_KEY, server.fetch, server.refresh_with) == "tok-2"
    clock.advance(601)  # the access token (and so our use of its refresh token) has run out
    assert cache.get(V1_KEY, server.fetch, server.refresh_with) == "tok-3"

    assert server.fetched == ["tok-1", "tok-3"]
    assert server.refreshed == ["tok-2"]
