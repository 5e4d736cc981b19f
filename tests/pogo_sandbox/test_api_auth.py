"""OAuth tokens, subscription keys, privileges and the 10 requests/s limit."""

import datetime as dt

import pytest
import time_machine
from django.test import override_settings

from pogo_sandbox import domain
from tests.pogo_sandbox.test_api_support import (
    SUB_KEY,
    Api,
    basic,
    make_application,
    make_company,
    make_subscription,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscription():
    return make_subscription(make_company(), make_application())


def test_token_is_issued_for_valid_client_credentials(client, subscription):
    response = client.post(
        "/pogo/OAuth/Token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(subscription.application.application_key, subscription.client_key),
        HTTP_OCP_APIM_SUBSCRIPTION_KEY=SUB_KEY,
    )

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 1200
    assert body["access_token"]


def test_wrong_client_key_is_invalid_client(client, subscription):
    response = client.post(
        "/pogo/OAuth/Token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(subscription.application.application_key, "nope"),
        HTTP_OCP_APIM_SUBSCRIPTION_KEY=SUB_KEY,
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.json()["error_description"]


def test_wrong_grant_type_is_400(client, subscription):
    response = client.post(
        "/pogo/OAuth/Token",
        {"grant_type": "password"},
        HTTP_AUTHORIZATION=basic(subscription.application.application_key, subscription.client_key),
        HTTP_OCP_APIM_SUBSCRIPTION_KEY=SUB_KEY,
    )

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_v2_token_requires_the_subscription_key(client, subscription):
    response = client.post(
        "/pogo/OAuth/Token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(subscription.application.application_key, subscription.client_key),
    )

    assert response.status_code == 401


def test_v1_token_needs_no_subscription_key(client, subscription):
    response = client.post(
        "/pogo/v1/OAuth/Token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(subscription.application.application_key, subscription.client_key),
    )

    assert response.status_code == 200


def test_v2_call_without_subscription_key_is_401(client, subscription):
    api = Api(client, subscription)
    response = client.get("/pogo/v2/OrganizationSettings", HTTP_AUTHORIZATION=f"Bearer {api.token}")

    assert response.status_code == 401


def test_v2_call_without_bearer_is_401_problem(client, subscription):
    response = client.get("/pogo/v2/OrganizationSettings", HTTP_OCP_APIM_SUBSCRIPTION_KEY=SUB_KEY)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["Status"] == 401


def test_token_expires_after_1200_seconds(client, subscription):
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC), tick=False) as clock:
        api = Api(client, subscription)
        clock.shift(1199)
        assert api.get("OrganizationSettings").status_code == 200
        clock.shift(1)
        assert api.get("OrganizationSettings").status_code == 401


def test_v1_token_is_refused_on_v2(client, subscription):
    v1 = Api(client, subscription, api="v1")
    response = client.get(
        "/pogo/v2/OrganizationSettings",
        HTTP_AUTHORIZATION=f"Bearer {v1.token}",
        HTTP_OCP_APIM_SUBSCRIPTION_KEY=SUB_KEY,
    )

    assert response.status_code == 401


def test_missing_privilege_is_403_problem(client):
    subscription = make_subscription(
        make_company(), make_application(), privileges=["OrganizationSettings_Read"]
    )
    api = Api(client, subscription)

    response = api.get("Customers")

    assert response.status_code == 403
    assert response.json()["Title"] == "Forbidden"
    assert "Customer_Read" in response.json()["Detail"]


def test_client_integration_information_lists_missing_privileges(client):
    subscription = make_subscription(
        make_company(), make_application(), privileges=["Customer_Full"]
    )
    body = Api(client, subscription).get("ClientIntegrationInformation").json()

    assert "Customer_Full" in body["ValidPrivileges"]
    assert "OutgoingInvoice_Read" in body["InvalidPrivileges"]


def test_eleventh_request_within_a_second_is_429(client, subscription):
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, 0, 5, tzinfo=dt.UTC), tick=False) as clock:
        api = Api(client, subscription)
        clock.shift(1)  # the token request counted in the second before
        statuses = [api.get("OrganizationSettings").status_code for _ in range(11)]
        counts = domain.request_counts(SUB_KEY)

    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429
    assert counts[int(dt.datetime(2026, 3, 1, 12, 0, 6, tzinfo=dt.UTC).timestamp())] == 10


def test_429_carries_retry_after(client, subscription):
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, 0, 5, tzinfo=dt.UTC), tick=False) as clock:
        api = Api(client, subscription)
        clock.shift(1)
        for _ in range(10):
            api.get("OrganizationSettings")
        response = api.get("OrganizationSettings")

    assert response.status_code == 429
    assert response["Retry-After"] == "1"


def test_the_budget_renews_the_next_second(client, subscription):
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, 0, 5, tzinfo=dt.UTC), tick=False) as clock:
        api = Api(client, subscription)
        clock.shift(1)
        for _ in range(11):
            api.get("OrganizationSettings")
        clock.shift(1)
        assert api.get("OrganizationSettings").status_code == 200


def test_token_requests_count_against_the_key(client, subscription):
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, 0, 5, tzinfo=dt.UTC), tick=False):
        api = Api(client, subscription)
        statuses = [api.get("OrganizationSettings").status_code for _ in range(10)]

    assert statuses[-1] == 429


@override_settings(POGO_SANDBOX_RATE_LIMIT=1000)
def test_the_limit_is_a_setting(client, subscription):
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, 0, 5, tzinfo=dt.UTC), tick=False):
        api = Api(client, subscription)
        statuses = {api.get("OrganizationSettings").status_code for _ in range(15)}

    assert statuses == {200}
