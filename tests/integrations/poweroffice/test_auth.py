"""OAuth client credentials, the token cache and the one-retry-on-401 rule."""

import base64
import json
import threading
from types import SimpleNamespace
from urllib.parse import parse_qs

import pytest

from integrations.poweroffice import PowerOfficeConfig, Unauthorized
from integrations.poweroffice.auth import TokenCache, TokenKey, request_token

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


# --- v1: refresh tokens ------------------------------------------------------------------------

IS_ACTIVE = "/v1/DebtCollection/IsActiveDebtCollection"


class RefreshingPoGo(FakePoGo):
    """v1 as PowerOffice documents it: 600 s tokens with a single-use refresh token."""

    def __init__(self) -> None:
        super().__init__()
        self.refresh_tokens: set[str] = set()

    def _token(self, sent):
        if not sent.path.startswith("/v1/"):
            return super()._token(sent)
        form = parse_qs(sent.body.decode())
        if form["grant_type"] == ["refresh_token"]:
            presented = form.get("refresh_token", [""])[0]
            if presented not in self.refresh_tokens:
                return response(400, {"error": "invalid_grant", "error_description": "used"})
            self.refresh_tokens.discard(presented)
        answer = super()._token(sent)
        if answer.status_code == 200:
            number = len(self.issued)
            self.refresh_tokens.add(f"refresh-{number}")
            body = {**json.loads(answer.content), "expires_in": 600}
            answer = response(200, {**body, "refresh_token": f"refresh-{number}"})
        return answer


@pytest.fixture
def v1_fake():
    fake = RefreshingPoGo()
    fake.handle("GET", IS_ACTIVE, lambda sent: response(200, {"data": True, "success": True}))
    return fake


def _grants(fake):
    return [parse_qs(call.body.decode()) for call in fake.token_calls()]


def test_v1_uses_the_refresh_token_in_the_last_minute(v1_fake, clock):
    client = make_client(v1_fake, clock=clock)
    client.dc_is_active()

    clock.advance(600 - 61)
    client.dc_is_active()
    clock.advance(2)
    client.dc_is_active()
    clock.advance(600 - 59)
    client.dc_is_active()

    assert _grants(v1_fake) == [
        {"grant_type": ["client_credentials"]},
        {"grant_type": ["refresh_token"], "refresh_token": ["refresh-1"]},
        {"grant_type": ["refresh_token"], "refresh_token": ["refresh-2"]},  # the rotated one
    ]
    expected = base64.b64encode(f"{APP_KEY}:{CLIENT_KEY}".encode()).decode()
    assert all(c.headers["Authorization"] == f"Basic {expected}" for c in v1_fake.token_calls())
    assert [c.headers["Authorization"] for c in v1_fake.api_calls()][-1] == "Bearer tok-3"


def test_a_refused_refresh_token_falls_back_to_client_credentials(v1_fake, clock):
    client = make_client(v1_fake, clock=clock)
    client.dc_is_active()
    v1_fake.refresh_tokens.clear()  # PoGo no longer knows it

    clock.advance(570)
    assert client.dc_is_active() is True

    assert [g["grant_type"] for g in _grants(v1_fake)] == [
        ["client_credentials"],
        ["refresh_token"],
        ["client_credentials"],
    ]


def test_an_expired_v1_token_is_not_refreshed(v1_fake, clock):
    client = make_client(v1_fake, clock=clock)
    client.dc_is_active()

    clock.advance(601)  # idle past the access token's life: we no longer rely on its refresh token
    client.dc_is_active()

    assert [g["grant_type"] for g in _grants(v1_fake)] == [
        ["client_credentials"],
        ["client_credentials"],
    ]


def test_a_401_on_v1_renews_with_the_keys_not_the_rejected_tokens_refresh_token(v1_fake, clock):
    client = make_client(v1_fake, clock=clock)
    client.dc_is_active()
    v1_fake.revoke_tokens()

    assert client.dc_is_active() is True

    assert [g["grant_type"] for g in _grants(v1_fake)] == [
        ["client_credentials"],
        ["client_credentials"],
    ]


def test_a_refresh_error_echoing_the_refresh_token_is_redacted(v1_fake):
    client = make_client(v1_fake)
    v1_fake.token_answers.append(
        response(400, {"error": "invalid_grant", "error_description": "refresh-77 is spent"})
    )

    with pytest.raises(Unauthorized) as caught:
        request_token(
            client.transport,
            token_url=CONFIG.v1_token_url,
            application_key=APP_KEY,
            client_key=CLIENT_KEY,
            subscription_key=None,
            refresh_token="refresh-77",
        )

    assert "refresh-77" not in str(caught.value)
    assert "invalid_grant" in str(caught.value)
    (call,) = v1_fake.token_calls()
    assert parse_qs(call.body.decode()) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["refresh-77"],
    }
