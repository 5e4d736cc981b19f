"""PowerOffice Go's 10 requests/s, held by two worker processes together.

Two separate Python processes, each with its own PowerOfficeClient sharing only a (private)
Redis, call the sandbox as fast as their limiter lets them. The sandbox — here allowed 1000/s,
so that it counts what arrives instead of refusing it — counts the requests of the subscription
key per second: no second may see more than 10.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request

import pytest

from pogo_sandbox import domain
from tests.integrations.test_sync import connect
from tests.reliability.processes import ROOT, private_redis

pytestmark = [pytest.mark.reliability, pytest.mark.live]

CALLS_PER_WORKER = 30

WORKER = textwrap.dedent(
    """
    import sys
    from integrations.poweroffice import PowerOfficeClient
    from integrations.poweroffice.config import PowerOfficeConfig

    url, app_key, sub_key, client_key, redis_url, calls = sys.argv[1:]
    config = PowerOfficeConfig(
        v2_base_url=f"{url}/pogo/v2",
        v2_token_url=f"{url}/pogo/OAuth/Token",
        v1_base_url=f"{url}/pogo/v1",
        v1_token_url=f"{url}/pogo/v1/OAuth/Token",
        application_key=app_key,
        subscription_key=sub_key,
        timeout=10.0,
        rate_limit_per_second=10,
        redis_url=redis_url,
    )
    client = PowerOfficeClient(config, client_key=client_key)
    for _ in range(int(calls)):
        client.organization_settings()
    print(client.request_count)
    """
)


def test_two_worker_processes_never_send_more_than_ten_requests_a_second(
    live_server, transactional_db, settings, capsys
):
    settings.POGO_SANDBOX_RATE_LIMIT = 1000
    go = connect(settings)
    key = settings.POWEROFFICE_SUBSCRIPTION_KEY

    # Warm the server first (URLconf, middleware, first connections): a cold first request
    # takes long enough to bunch the requests queued behind it into one second.
    for path in ("/healthz", "/pogo/v2/OrganizationSettings"):
        request = urllib.request.Request(
            live_server.url + path, headers={"Ocp-Apim-Subscription-Key": "warm-up"}
        )
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(request, timeout=30).close()

    with private_redis() as redis:
        args = [
            live_server.url,
            settings.POWEROFFICE_APPLICATION_KEY,
            key,
            go.connection.client_key,
            redis.url,
            str(CALLS_PER_WORKER),
        ]
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, *args],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [w.communicate(timeout=120) for w in workers]

    assert [w.returncode for w in workers] == [0, 0], outputs
    sent = sum(int(out.strip()) for out, _err in outputs)
    counts = domain.request_counts(key)
    assert sent >= 2 * CALLS_PER_WORKER
    assert sum(counts.values()) == sent  # every request arrived and was counted
    assert max(counts.values()) <= 10, counts
    assert len(counts) >= sent // 10
    with capsys.disabled():
        print(
            f"\n[reliability] rate limit, 2 processes: {sent} requests over {len(counts)} s, "
            f"max {max(counts.values())} in one second"
        )
