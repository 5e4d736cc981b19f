"""Broker and database outages.

* PostgreSQL cut off (a TCP proxy between Django and the server, closed by the test): pages
  answer the friendly 503 page, the API the 503 JSON error, ``/healthz`` says the database is
  down; a write cut off half-way leaves nothing behind; all works again when it is back.
* Redis killed and restarted while a real Celery worker works through a queue (Redis with its
  append-only file, as production must run it): the worker reconnects and every task is done.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time

import pytest
from django.db import connection, connections
from django.test import Client

from collections_cases.models import CaseEvent, CollectionCase, Settlement
from tests.api.conftest import make_settlement
from tests.collections_cases.factories_pages import open_case
from tests.factories import MembershipFactory
from tests.reliability.processes import PrivateRedis, TcpProxy, Worker, wait_until

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL over TCP"),
]


@pytest.fixture
def db_through_proxy(transactional_db):
    conn = connections["default"]
    original = (conn.settings_dict["HOST"], conn.settings_dict["PORT"])
    proxy = TcpProxy(original[0] or "127.0.0.1", int(original[1] or 5432))
    proxy.start()
    conn.close()
    conn.settings_dict["HOST"], conn.settings_dict["PORT"] = "127.0.0.1", proxy.port
    yield proxy
    proxy.cut()
    conn.close()
    conn.settings_dict["HOST"], conn.settings_dict["PORT"] = original


def test_a_database_outage_is_a_friendly_503_and_healthz_says_so(db_through_proxy, settings):
    settings.DEBUG = False
    # As in production: an exception becomes a response, it is not re-raised into the test.
    client = Client(raise_request_exception=False)
    member = MembershipFactory()
    client.force_login(member.user)
    assert client.get("/saker/").status_code == 200
    assert client.get("/healthz").json()["database"]["ok"] is True

    db_through_proxy.cut()
    page = client.get("/saker/")
    api = client.get("/api/v1/cases/")
    health = client.get("/healthz")
    db_through_proxy.restore()
    connections["default"].close()

    assert page.status_code == 503
    assert page["Retry-After"] == "30"
    assert "midlertidig" in page.content.decode().lower()
    assert api.status_code == 503, api.content[:300]
    assert api.json()["error"]["code"] == "service_unavailable", api.content[:400]
    assert health.status_code == 503
    assert health.json()["database"]["ok"] is False
    assert client.get("/saker/").status_code == 200


def test_a_write_cut_off_half_way_leaves_nothing_behind(db_through_proxy, settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    member = MembershipFactory()
    case = open_case(member.creditor)
    client.force_login(member.user)
    events_before = case.events.count()

    def cut_before_the_event(execute, sql, params, many, context):
        # The case row is already updated in this transaction; the event is next.
        if sql.lstrip().upper().startswith("INSERT") and CaseEvent._meta.db_table in sql:
            db_through_proxy.cut()
        return execute(sql, params, many, context)

    with connections["default"].execute_wrapper(cut_before_the_event):
        response = client.post(
            f"/saker/{case.pk}/pause/", {"pause-reason": "Kunden ringte", "pause-until": ""}
        )
    db_through_proxy.restore()
    connections["default"].close()

    assert response.status_code == 503
    case.refresh_from_db()
    assert case.status == CollectionCase.Status.ACTIVE
    assert case.events.count() == events_before


@pytest.mark.live
def test_a_redis_restart_mid_queue_loses_no_task(transactional_db, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    creditor = MembershipFactory().creditor
    on = dt.date(2026, 11, 27)
    settlements = [
        make_settlement(creditor, settled_on=on - dt.timedelta(days=7 * i)) for i in range(8)
    ]
    redis = PrivateRedis()
    redis.start_persistent(tmp_path / "redis")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kravia_web.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis.port}/0",
        "REDIS_URL": f"redis://127.0.0.1:{redis.port}/1",
        "MEDIA_ROOT": str(tmp_path / "media"),
        # The message the worker had reserved when Redis died stays unacknowledged until the
        # visibility timeout (20 minutes in production); a short one lets the test see it
        # handed out again instead of waiting. Rendering a statement twice is harmless.
        "CELERY_VISIBILITY_TIMEOUT": "5",
    }
    from celery import Celery

    # Celery prefers $CELERY_BROKER_URL (set in CI) to the broker it is given.
    monkeypatch.setenv("CELERY_BROKER_URL", env["CELERY_BROKER_URL"])
    producer = Celery(broker=env["CELERY_BROKER_URL"])
    worker = Worker(env, tmp_path / "worker.log")
    try:
        for settlement in settlements:
            producer.send_task(
                "collections_cases.tasks.settlement_statement_task",
                args=[settlement.pk],
                queue="default",
            )
        worker.start()
        rendered = Settlement.objects.exclude(statement_pdf="")
        wait_until(lambda: rendered.count() >= 1, timeout=60, what="the first statement")

        # When Redis dies mid-queue and comes back a few seconds later
        redis.proc.send_signal(signal.SIGKILL)
        redis.proc.wait(timeout=10)
        done_while_down = rendered.count()
        time.sleep(3)
        redis.start_persistent(tmp_path / "redis")

        # Then the worker reconnects and every statement is rendered, once
        wait_until(lambda: rendered.count() == len(settlements), timeout=120, what="all tasks")
        assert worker.proc.poll() is None
        log = worker.log_path.read_text()
        assert "Cannot connect to redis" in log or "Connection to broker lost" in log
        print(f"\n[reliability] redis restart: {done_while_down} of {len(settlements)} done before")
    finally:
        worker.stop()
        redis.stop()
