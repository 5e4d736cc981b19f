"""Token lifetimes, the v1 refresh grant and 401 re-authentication, against the sandbox.

The sandbox's token endpoints as PowerOffice documents them (v2: client credentials, 1200 s;
v1: 600 s with a single-use, rotated refresh token), and the real client through real HTTP
handling (``pogo_wsgi``) when tokens expire, are refreshed, or are revoked.
"""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from integrations.clients import poweroffice_client
from integrations.poweroffice import PowerOfficeClient, PowerOfficeConfig, Unauthorized
from integrations.poweroffice.auth import TokenCache
from pogo_sandbox.models import AccessToken, ClientSubscription
from tests.pogo_sandbox.test_api_support import (
    basic,
    make_application,
    make_company,
    make_subscription,
)

from .test_against_sandbox import CLIENT_KEY, START, _seed

V1_TOKEN = "/pogo/v1/OAuth/Token"
V2_TOKEN = "/pogo/OAuth/Token"
V1_CALL = "/pogo/v1/DebtCollection/IsActiveDebtCollection"
V2_CALL = "/pogo/v2/OrganizationSettings"


# --- the sandbox's token endpoints ------------------------------------------------------------


@pytest.fixture
def subscription(db):
    return make_subscription(make_company(), make_application())


def _post_token(client, subscription, api="v1", **data):
    path = V1_TOKEN if api == "v1" else V2_TOKEN
    return client.post(
        path,
        data or {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(subscription.application.application_key, subscription.client_key),
        HTTP_OCP_APIM_SUBSCRIPTION_KEY=subscription.application.subscription_key,
    )


def _v1_get(client, token):
    return client.get(
        "/pogo/v1/DebtCollection/IsActiveDebtCollection", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def test_v1_token_lives_600_seconds_and_comes_with_a_refresh_token(client, subscription):
    with time_machine.travel(START, tick=False) as clock:
        response = _post_token(client, subscription)
        body = response.json()

        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 600
        assert body["refresh_token"] and body["refresh_token"] != body["access_token"]
        clock.shift(599)
        assert _v1_get(client, body["access_token"]).status_code == 200
        clock.shift(1)
        assert _v1_get(client, body["access_token"]).status_code == 401


def test_v2_token_lives_1200_seconds_without_refresh_token_or_refresh_grant(client, subscription):
    body = _post_token(client, subscription, api="v2").json()

    assert body["expires_in"] == 1200
    assert "refresh_token" not in body
    refused = _post_token(
        client, subscription, api="v2", grant_type="refresh_token", refresh_token="anything"
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "unsupported_grant_type"


def test_v1_refresh_token_is_single_use_and_rotated(client, subscription):
    with time_machine.travel(START, tick=False) as clock:
        first = _post_token(client, subscription).json()
        clock.shift(550)

        response = _post_token(
            client, subscription, grant_type="refresh_token", refresh_token=first["refresh_token"]
        )
        second = response.json()
        again = _post_token(
            client, subscription, grant_type="refresh_token", refresh_token=first["refresh_token"]
        )
        third = _post_token(
            client, subscription, grant_type="refresh_token", refresh_token=second["refresh_token"]
        )

        assert response.status_code == 200
        assert second["expires_in"] == 600
        assert second["access_token"] != first["access_token"]
        assert second["refresh_token"] != first["refresh_token"]
        assert again.status_code == 400
        assert again.json()["error"] == "invalid_grant"
        assert third.status_code == 200
        # The refreshed-from token keeps its own expiry; the new one runs 600 s from now.
        assert _v1_get(client, first["access_token"]).status_code == 200
        clock.shift(51)
        assert _v1_get(client, first["access_token"]).status_code == 401
        assert _v1_get(client, second["access_token"]).status_code == 200


def test_a_refresh_token_outlives_its_access_token_for_a_day(client, subscription):
    with time_machine.travel(START, tick=False) as clock:
        early = _post_token(client, subscription).json()
        late = _post_token(client, subscription).json()
        clock.shift(601)
        refreshed = _post_token(
            client, subscription, grant_type="refresh_token", refresh_token=early["refresh_token"]
        )
        clock.shift(24 * 3600)
        expired = _post_token(
            client, subscription, grant_type="refresh_token", refresh_token=late["refresh_token"]
        )

    assert refreshed.status_code == 200
    assert expired.status_code == 400
    assert expired.json()["error"] == "invalid_grant"


def test_unknown_foreign_revoked_or_missing_refresh_tokens_are_refused(client, subscription):
    other = make_subscription(make_company(org_number="912345678"), subscription.application)
    foreign = _post_token(client, other).json()["refresh_token"]
    revoked = _post_token(client, subscription).json()
    AccessToken.objects.filter(token=revoked["access_token"]).update(revoked_at=timezone.now())

    answers = [
        _post_token(client, subscription, grant_type="refresh_token", refresh_token=value)
        for value in ("not-a-token", foreign, revoked["refresh_token"])
    ]
    missing = _post_token(client, subscription, grant_type="refresh_token")

    assert [(a.status_code, a.json()["error"]) for a in answers] == [(400, "invalid_grant")] * 3
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    # The refused foreign token was not spent: its own client may still use it.
    assert (
        _post_token(client, other, grant_type="refresh_token", refresh_token=foreign).status_code
        == 200
    )


def test_the_refresh_grant_still_authenticates_the_client(client, subscription):
    refresh_token = _post_token(client, subscription).json()["refresh_token"]
    ClientSubscription.objects.filter(pk=subscription.pk).update(is_active=False)

    response = _post_token(
        client, subscription, grant_type="refresh_token", refresh_token=refresh_token
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


# --- the client against the sandbox -----------------------------------------------------------


@pytest.fixture
def company(pogo_wsgi):
    return _seed()


def _client(**kwargs) -> PowerOfficeClient:
    client = poweroffice_client(client_key=CLIENT_KEY)
    client.tokens = kwargs.get("tokens") or TokenCache()  # reads the travelled time.time
    return client


def _call(client, api):
    return client.dc_is_active() if api == "v1" else client.organization_settings()


def test_the_client_refreshes_a_v1_token_shortly_before_it_expires(company, pogo_wsgi):
    with time_machine.travel(START, tick=False) as traveller:
        client = _client()
        client.dc_is_active()
        traveller.shift(600 - 61)
        client.dc_is_active()  # still more than a minute left: the cached token
        traveller.shift(2)
        client.dc_is_active()  # inside the last minute: refreshed, no 401 needed
        traveller.shift(600 - 61)
        client.dc_is_active()

    assert pogo_wsgi.statuses(V1_CALL) == [200] * 4
    assert pogo_wsgi.statuses(V1_TOKEN) == [200, 200]
    first, second = AccessToken.objects.filter(api="v1").order_by("created_at")
    assert first.refresh_used_at is not None  # the second token came from the refresh grant
    assert second.refresh_used_at is None
    assert second.created_at - first.created_at == dt.timedelta(seconds=541)


def test_a_refused_refresh_token_falls_back_to_the_keys(company, pogo_wsgi):
    with time_machine.travel(START, tick=False) as traveller:
        client = _client()
        client.dc_is_active()
        AccessToken.objects.update(refresh_used_at=timezone.now())  # spent elsewhere
        traveller.shift(570)
        assert client.dc_is_active() is not None

    assert pogo_wsgi.statuses(V1_TOKEN) == [200, 400, 200]
    assert pogo_wsgi.statuses(V1_CALL) == [200, 200]


@pytest.mark.parametrize(("api", "lifetime"), [("v1", 600), ("v2", 1200)])
def test_an_expired_token_gets_one_new_token_on_401(company, pogo_wsgi, api, lifetime):
    token_path = V1_TOKEN if api == "v1" else V2_TOKEN
    call_path = V1_CALL if api == "v1" else V2_CALL
    with time_machine.travel(START, tick=False) as traveller:
        client = _client(tokens=TokenCache(clock=lambda: 0.0))  # never notices expiry itself
        _call(client, api)
        traveller.shift(lifetime)  # the sandbox has expired it
        _call(client, api)

    assert pogo_wsgi.statuses(call_path) == [200, 401, 200]
    assert pogo_wsgi.statuses(token_path) == [200, 200]


@pytest.mark.parametrize("api", ["v1", "v2"])
def test_a_revoked_token_is_replaced_once_from_the_token_server(company, pogo_wsgi, api):
    token_path = V1_TOKEN if api == "v1" else V2_TOKEN
    call_path = V1_CALL if api == "v1" else V2_CALL
    client = _client()
    _call(client, api)
    AccessToken.objects.update(revoked_at=timezone.now())

    _call(client, api)
    _call(client, api)  # the new token is cached

    assert pogo_wsgi.statuses(call_path) == [200, 401, 200, 200]
    assert pogo_wsgi.statuses(token_path) == [200, 200]
    # Client credentials, not the revoked token's refresh token.
    assert not AccessToken.objects.filter(refresh_used_at__isnull=False).exists()


@pytest.mark.parametrize("api", ["v1", "v2"])
def test_a_second_401_is_unauthorized_without_a_loop(company, pogo_wsgi, api):
    token_path = V1_TOKEN if api == "v1" else V2_TOKEN
    call_path = V1_CALL if api == "v1" else V2_CALL
    session = pogo_wsgi.session()

    def revoke_every_token_issued(response, *args, **kwargs):
        if response.request.path_url.split("?")[0] == token_path:
            AccessToken.objects.update(revoked_at=timezone.now())
        return response

    session.hooks["response"].append(revoke_every_token_issued)
    client = PowerOfficeClient(
        PowerOfficeConfig.from_settings(settings),
        client_key=CLIENT_KEY,
        session=session,
        token_cache=TokenCache(),
    )

    with pytest.raises(Unauthorized) as caught:
        _call(client, api)

    assert caught.value.status_code == 401
    assert pogo_wsgi.statuses(call_path) == [401, 401]
    assert pogo_wsgi.statuses(token_path) == [200, 200]
