"""Fault injection: error status, 429, latency, timeout and a dropped connection."""

import time

import pytest
import requests
from django.test import override_settings

from pogo_sandbox import domain
from pogo_sandbox.api.faults import ConnectionDropped
from tests.pogo_sandbox.test_api_support import (
    SUB_KEY,
    Api,
    make_application,
    make_company,
    make_subscription,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client):
    return Api(client, make_subscription(make_company(), make_application()))


@pytest.mark.parametrize("status", [500, 503])
def test_error_status_is_a_problem(api, status):
    domain.set_fault_rule("/pogo/v2/Customers", error_rate=1, faults=[str(status)])

    response = api.get("Customers")

    assert response.status_code == status
    assert response.json()["Status"] == status


def test_faults_apply_only_under_their_prefix(api):
    domain.set_fault_rule("/pogo/v2/Customers", error_rate=1, faults=["500"])

    assert api.get("OrganizationSettings").status_code == 200


def test_injected_429_has_retry_after(api):
    domain.set_fault_rule("/pogo/v2/", error_rate=1, faults=["429"])

    response = api.get("OrganizationSettings")

    assert response.status_code == 429
    assert response["Retry-After"] == "1"


def test_zero_rate_never_fails_and_clear_removes_rules(api):
    domain.set_fault_rule("/pogo/v2/", error_rate=0, faults=["500"])
    assert api.get("OrganizationSettings").status_code == 200
    domain.set_fault_rule("/pogo/v2/", error_rate=1, faults=["500"])
    domain.clear_faults()
    assert api.get("OrganizationSettings").status_code == 200


def test_latency_slows_the_answer(api):
    domain.set_fault_rule("/pogo/v2/", error_rate=0, faults=[], latency_ms=200)

    started = time.monotonic()
    response = api.get("OrganizationSettings")

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.2


@override_settings(POGO_SANDBOX_TIMEOUT_SECONDS=0.1)
def test_timeout_answers_504_after_the_wait(api):
    domain.set_fault_rule("/pogo/v2/", error_rate=1, faults=["timeout"])

    assert api.get("OrganizationSettings").status_code == 504


def test_drop_without_a_socket_raises(api):
    domain.set_fault_rule("/pogo/v2/", error_rate=1, faults=["drop"])

    with pytest.raises(ConnectionDropped):
        api.get("OrganizationSettings")


def test_unknown_fault_is_refused():
    with pytest.raises(domain.SandboxError):
        domain.set_fault_rule("/pogo/", error_rate=1, faults=["teapot"])


@pytest.mark.django_db(transaction=True)
def test_drop_over_a_real_socket_is_a_connection_error(live_server):
    make_subscription(make_company(), make_application())
    domain.set_fault_rule("/pogo/v2/", error_rate=1, faults=["drop"])

    with pytest.raises(requests.ConnectionError):
        requests.get(
            f"{live_server.url}/pogo/v2/OrganizationSettings",
            headers={"Ocp-Apim-Subscription-Key": SUB_KEY},
            timeout=5,
        )
