"""The sandbox over a real socket: the per-second budget holds under concurrent callers."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from pogo_sandbox import domain
from tests.pogo_sandbox.test_api_support import (
    SUB_KEY,
    basic,
    make_application,
    make_company,
    make_subscription,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_callers_never_get_more_than_ten_a_second(live_server):
    subscription = make_subscription(make_company(), make_application())
    token = requests.post(
        f"{live_server.url}/pogo/OAuth/Token",
        data={"grant_type": "client_credentials"},
        headers={
            "Authorization": basic(
                subscription.application.application_key, subscription.client_key
            ),
            "Ocp-Apim-Subscription-Key": SUB_KEY,
        },
        timeout=10,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Ocp-Apim-Subscription-Key": SUB_KEY}

    def call(_):
        return requests.get(
            f"{live_server.url}/pogo/v2/OrganizationSettings", headers=headers, timeout=10
        ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(call, range(40)))

    counts = domain.request_counts(SUB_KEY)
    assert set(statuses) <= {200, 429}
    assert 429 in statuses
    assert max(counts.values()) <= 10
    assert statuses.count(200) + 1 == sum(counts.values())  # + the token request
