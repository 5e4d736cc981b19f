"""OAuth client credentials, the token cache and the one-retry-on-401 rule."""

import base64
import threading
from types import SimpleNamespace

import pytest

from integrations.poweroffice import PowerOfficeConfig, Unauthorized
from integrations.poweroffice.auth import TokenCache, TokenKey

from .fakes import APP_KEY, CLIENT_KEY, CONFIG, SUBSCRIPTION_KEY, FakePoGo, make_client, response

ORG = {"Id": "7f0c8f7e-5f43-4bd0-9a4e-36d1a3a0d001", "Name": "Fjord AS"}


def test_v2_token_request_uses_basic_keys_subscription_header_and_client_credentials(fake, pogo):
    fake.script("GET", "/v2/OrganizationSettings", response(200, ORG))

    pogo.organization_settings()

    (token_call,) = fake.token_calls()
    assert token_call.method == "POST"
    assert token_call.path == "/OAuth/Token"
    expected = base64.b64encode(f"{APP_KEY}:{CLIENT_KEY}".encode()).decode()
    assert token_call.headers["Authorization"] == f"Basic {expected}"
    assert token_call.headers["Ocp-Apim-Subscription-Key"] == SUBSCRIPTION_KEY
    assert token_call.body == b"grant_type=client_credentials"
    (api_call,) = fake.api_calls()
    assert api_call.headers["Authorization"] == "Bearer tok-1"
    assert api_call.headers["Ocp-Apim-Subscription-Key"] == SUBSCRIPTION_KEY


def test_v1_uses_its_own_token_url_without_subscription_key(fake, pogo):
    fake.script(
        "GET",
        "/v1/DebtCollection/IsActiveDebtCollection",
        response(200, {"data": True, "success": True}),
    )

    assert pogo.dc_is_active() is True

    (token_call,) = fake.token_calls()
    assert token_call.path == "/v1/OAuth/Token"
    assert "Ocp-Apim-Subscription-Key" not in token_call.headers
    assert "Ocp-Apim-Subscription-Key" not in fake.api_calls()[0].headers


def test_token_is_cached_per_client_key(fake, pogo):
    fake.script("GET", "/v2/OrganizationSettings", response(200, ORG), response(200, ORG))

    pogo.organization_settings()
    pogo.organization_settings()

    assert len(fake.token_calls()) == 1


def test_token_is_renewed_a_minute_before_it_expires(fake, pogo, clock):
    fake.handle("GET", "/v2/OrganizationSettings", lambda sent: response(200, ORG))
    pogo.organization_settings()

    clock.advance(1200 - 61)
    pogo.organization_settings()
    assert len(fake.token_calls()) == 1

    clock.advance(2)  # now 59 s before expiry
    pogo.organization_settings()
    assert len(fake.token_calls()) == 2
    assert fake.api_calls()[-1].headers["Authorization"] == "Bearer tok-2"


def test_a_401_triggers_exactly_one_reauthentication_and_retry(fake, pogo):
    fake.handle("GET", "/v2/OrganizationSettings", lambda sent: response(200, ORG))
    pogo.organization_settings()
    fake.revoke_tokens()  # PoGo no longer accepts the cached token

    settings = pogo.organization_settings()

    assert settings.name == "Fjord AS"
    assert len(fake.token_calls()) == 2
    assert [c.headers["Authorization"] for c in fake.api_calls()] == [
        "Bearer tok-1",
        "Bearer tok-1",
        "Bearer tok-2",
    ]


def test_a_second_401_raises_unauthorized(fake, pogo):
    fake.handle(
        "GET", "/v2/OrganizationSettings", lambda sent: response(401, {"Title": "Unauthorized"})
    )

    with pytest.raises(Unauthorized) as caught:
        pogo.organization_settings()

    assert caught.value.status_code == 401
    assert len(fake.token_calls()) == 2
    assert len(fake.api_calls()) == 2


def test_token_error_becomes_unauthorized_without_leaking_keys(fake):
    client = make_client(fake, client_key="wrong-client-key-9999")
    fake.script("GET", "/v2/OrganizationSettings", response(200, ORG))

    with pytest.raises(Unauthorized) as caught:
        client.organization_settings()

    assert "invalid_client" in str(caught.value)
    assert "wrong-client-key-9999" not in str(caught.value)
    assert APP_KEY not in str(caught.value)
    assert fake.api_calls() == []


def test_token_error_description_echoing_a_secret_is_redacted(fake, pogo):
    fake.token_answers.append(
        response(
            400, {"error": "invalid_client", "error_description": f"client {CLIENT_KEY} is blocked"}
        )
    )

    with pytest.raises(Unauthorized) as caught:
        pogo.organization_settings()

    assert CLIENT_KEY not in str(caught.value)
    assert "***" in str(caught.value)


def test_a_client_without_client_key_refuses_authenticated_calls(fake):
    client = make_client(fake, client_key=None)

    with pytest.raises(Unauthorized):
        client.organization_settings()

    assert fake.sent == []


def test_concurrent_threads_share_one_token_fetch():
    clock_now = [0.0]
    cache = TokenCache(clock=lambda: clock_now[0])
    key = TokenKey.build("v2", "https://x/token", "app", "client")
    fetches = []
    barrier = threading.Barrier(8)

    def fetch():
        fetches.append(1)
        return "token", 1200.0

    def worker(results):
        barrier.wait()
        results.append(cache.get(key, fetch))

    results: list[str] = []
    threads = [threading.Thread(target=worker, args=(results,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == ["token"] * 8
    assert len(fetches) == 1


def test_invalidate_keeps_a_token_another_thread_already_renewed():
    cache = TokenCache(clock=lambda: 0.0)
    key = TokenKey.build("v2", "https://x/token", "app", "client")
    cache.get(key, lambda: ("new", 1200.0))

    cache.invalidate(key, "old")

    assert cache.get(key, lambda: ("newer", 1200.0)) == "new"


def test_token_cache_keys_hold_no_secrets():
    key = TokenKey.build("v2", "https://x/token", APP_KEY, CLIENT_KEY)
    assert CLIENT_KEY not in repr(key) and APP_KEY not in repr(key)


def test_config_from_settings_and_repr_hides_keys():
    settings = SimpleNamespace(
        POWEROFFICE_V2_BASE_URL="http://h/pogo/v2/",
        POWEROFFICE_V2_TOKEN_URL="http://h/pogo/OAuth/Token",
        POWEROFFICE_V1_BASE_URL="http://h/pogo/v1",
        POWEROFFICE_V1_TOKEN_URL="http://h/pogo/v1/OAuth/Token",
        POWEROFFICE_APPLICATION_KEY=APP_KEY,
        POWEROFFICE_SUBSCRIPTION_KEY=SUBSCRIPTION_KEY,
        POWEROFFICE_TIMEOUT=12,
        POWEROFFICE_RATE_LIMIT_PER_SECOND=10,
        REDIS_URL="",
    )

    config = PowerOfficeConfig.from_settings(settings)

    assert config.v2_base_url == "http://h/pogo/v2"
    assert config.timeout == 12.0
    assert APP_KEY not in repr(config) and SUBSCRIPTION_KEY not in repr(config)
    assert repr(CONFIG)  # the fixture config is valid too


def test_short_lived_tokens_renew_at_half_life(pogo, clock):
    fake = FakePoGo(token_expires_in=30)
    client = make_client(fake, clock=clock)
    fake.handle("GET", "/v2/OrganizationSettings", lambda sent: response(200, ORG))

    client.organization_settings()
    clock.advance(14)
    client.organization_settings()
    clock.advance(2)
    client.organization_settings()

    assert len(fake.token_calls()) == 2
