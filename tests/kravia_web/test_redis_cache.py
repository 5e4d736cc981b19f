"""kravia_web.cache: Django's Redis cache with one client per process, against a real Redis."""

import threading

import pytest
from django.core.cache.backends.redis import RedisCache

from kravia_web.cache import ReusedClientRedisCache
from tests.reliability.processes import private_redis


@pytest.fixture(scope="module")
def redis_server():
    with private_redis() as server:
        yield server


@pytest.fixture
def cache(redis_server):
    import redis

    redis.Redis.from_url(redis_server.url).flushdb()
    return ReusedClientRedisCache(redis_server.url, {})


def test_one_client_serves_every_operation(cache):
    client = cache._cache.get_client()

    assert cache._cache.get_client(write=True) is client
    assert cache._cache.get_client("any key") is client


def test_it_behaves_as_djangos_redis_cache(cache, redis_server):
    django_cache = RedisCache(redis_server.url, {})

    cache.set("a", {"names": ["Fjord AS"]}, 60)
    assert django_cache.get("a") == {"names": ["Fjord AS"]}
    assert cache.add("a", "other", 60) is False
    assert cache.add("b", 1, None) is True
    assert cache.incr("b") == 2
    assert "b" in cache
    cache.delete("a")
    assert cache.get("a") is None
    assert django_cache.get("a", "gone") == "gone"
    cache.set_many({"c": 1, "d": 2}, 60)
    assert cache.get_many(["c", "d", "e"]) == {"c": 1, "d": 2}


def test_threads_share_the_client(cache):
    errors = []

    def work(n):
        try:
            for i in range(200):
                cache.set(f"t{n}:{i}", i, 60)
                assert cache.get(f"t{n}:{i}") == i
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []


def test_cached_sessions_over_redis_end_at_logout(redis_server, settings, client, creditor, user):
    import redis
    from django.core.cache import caches
    from django.test import Client
    from django.urls import reverse

    redis.Redis.from_url(redis_server.url).flushdb()
    settings.CACHES = {
        "default": {
            "BACKEND": "kravia_web.cache.ReusedClientRedisCache",
            "LOCATION": redis_server.url,
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    try:
        client.force_login(user)
        assert client.get(reverse("case_list")).status_code == 200
        other = Client()
        other.cookies["sessionid"] = client.cookies["sessionid"].value
        assert other.get(reverse("case_list")).status_code == 200

        client.post(reverse("logout"))

        response = other.get(reverse("case_list"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    finally:
        caches["default"].close()
