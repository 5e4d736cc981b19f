"""A Celery worker killed with SIGKILL in the middle of a sync, a dunning batch and a voucher
push: after a restart the work completes, nothing twice, nothing lost.

Real processes: the worker is ``celery -A kravia_web worker`` (solo pool, so SIGKILL takes the
task down with it and nothing is acknowledged), the broker a private redis-server, the database
the test's PostgreSQL database, PowerOffice Go the sandbox on this test's live server. The
worker kills itself at a named crash point (kravia_web/crashpoints.py, on only in test
settings); a marker file makes the restarted worker pass the point.

Which tasks may run twice (and so are ``acks_late`` with ``task_reject_on_worker_lost``):
the sync (cursors, upserts, unique matched items, the DB's one running SyncRun), the dunning
run (row locks, one letter per case and step), the settlement run and statements (one
settlement per creditor and date), letter delivery (claimed rows). The outbox task is not:
its rows are the durable state, claimed with a lease, and the next beat run retries them.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from decimal import Decimal

import pytest
from celery import Celery
from django.db import connection
from django.utils import timezone

from collections_cases.models import CollectionCase, LedgerEntry, Letter, Settlement
from collections_cases.payments.imports import payments_import_file
from collections_cases.settlements.services import settle
from integrations.models import OutboxMessage, SyncRun
from integrations.services.sync import sync_connection
from pogo_sandbox import domain
from pogo_sandbox.models import DebtCollectionCase as PogoCase
from pogo_sandbox.models import JournalVoucher
from tests.collections_cases.dunning_support import open_case as open_dunning_case
from tests.integrations.settlement_support import owed_on
from tests.integrations.test_settlement_e2e import CAMT
from tests.integrations.test_sync import TODAY
from tests.reliability.processes import PrivateRedis, Worker, wait_until
from tests.reliability.test_pogo_faults import connect_with_chart

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.live,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="a worker process shares the test database only on PostgreSQL",
    ),
]


VISIBILITY_TIMEOUT = 3  # seconds; production: 20 minutes (CELERY_VISIBILITY_TIMEOUT)


@pytest.fixture
def cluster(live_server, transactional_db, settings, tmp_path, monkeypatch):
    """Live server (the sandbox Go), a private Redis, and what a worker needs to join them."""
    settings.SITE_URL = live_server.url
    for name, path in (
        ("POWEROFFICE_V2_BASE_URL", "/pogo/v2"),
        ("POWEROFFICE_V2_TOKEN_URL", "/pogo/OAuth/Token"),
        ("POWEROFFICE_V1_BASE_URL", "/pogo/v1"),
        ("POWEROFFICE_V1_TOKEN_URL", "/pogo/v1/OAuth/Token"),
    ):
        setattr(settings, name, live_server.url + path)
    settings.MEDIA_ROOT = tmp_path / "media"
    redis = PrivateRedis()
    redis.start()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kravia_web.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis.port}/0",
        "REDIS_URL": f"redis://127.0.0.1:{redis.port}/1",
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "SITE_URL": live_server.url,
        "MEDIA_ROOT": str(tmp_path / "media"),
        "KRAVIA_CRASH_MARKER": str(tmp_path / "crashed"),
    }
    # Celery prefers $CELERY_BROKER_URL (set in CI) to the broker it is given.
    monkeypatch.setenv("CELERY_BROKER_URL", env["CELERY_BROKER_URL"])
    producer = Celery(broker=env["CELERY_BROKER_URL"])
    state = {"env": env, "producer": producer, "redis": redis, "tmp": tmp_path, "workers": []}
    yield state
    for worker in state["workers"]:
        worker.stop()
    redis.stop()


def start_worker(cluster, crash_point: str = "") -> Worker:
    env = {**cluster["env"], "KRAVIA_CRASH_POINT": crash_point}
    worker = Worker(env, cluster["tmp"] / f"worker-{len(cluster['workers'])}.log")
    cluster["workers"].append(worker)
    worker.start()
    return worker


def send(cluster, name: str, *args, queue: str = "default") -> None:
    cluster["producer"].send_task(name, args=list(args), queue=queue)


def crash_then_recover(
    cluster, crash_point: str, task: str, *args, queue="default", meanwhile=None
) -> Worker:
    """Run ``task`` on a worker that dies at ``crash_point``; ``meanwhile()``; restart."""
    doomed = start_worker(cluster, crash_point)
    send(cluster, task, *args, queue=queue)
    assert doomed.wait_killed() == -signal.SIGKILL, doomed.log_path.read_text()[-3000:]
    assert (cluster["tmp"] / "crashed").read_text() == crash_point
    if meanwhile is not None:
        meanwhile()
    # The unacknowledged message becomes visible again after the visibility timeout; the
    # restarted worker restores such messages when it connects.
    time.sleep(VISIBILITY_TIMEOUT + 1)
    return start_worker(cluster)


def test_a_worker_killed_in_the_middle_of_a_sync(cluster, settings):
    go = connect_with_chart(settings)
    for name in ("Ola Nordmann", "Kari Hansen", "Per Berg"):
        go.invoice(go.customer(name), "1000.00")

    seen_when_dead = {}

    def dead_worker_state():
        seen_when_dead["cases"] = CollectionCase.objects.filter(creditor=go.creditor).count()
        seen_when_dead["in_go"] = PogoCase.objects.count()
        # The dead worker's run and lock expire after 20 minutes: here the clock moves on.
        SyncRun.objects.filter(status=SyncRun.Status.RUNNING).update(
            started_at=timezone.now() - dt.timedelta(minutes=21)
        )
        cluster["redis"].client(db=1).flushdb()

    # Killed after the released invoices became cases, before they reached Go
    crash_then_recover(
        cluster,
        "sync.after_sync_released_invoices",
        "integrations.tasks.sync_connection_task",
        go.connection.pk,
        queue="poweroffice",
        meanwhile=dead_worker_state,
    )
    assert seen_when_dead == {"cases": 3, "in_go": 0}

    # Then the redelivered task completes the sync: every case once, here and in Go
    wait_until(
        lambda: SyncRun.objects.filter(status=SyncRun.Status.OK).exists(),
        timeout=90,
        what="the redelivered sync",
    )
    assert CollectionCase.objects.filter(creditor=go.creditor).count() == 3
    assert PogoCase.objects.filter(company=go.company).count() == 3
    assert not OutboxMessage.objects.exclude(status=OutboxMessage.Status.SENT).exists()
    assert SyncRun.objects.filter(status=SyncRun.Status.FAILED).count() == 1  # the dead one


def test_a_worker_killed_in_the_middle_of_a_dunning_batch(cluster):
    opened, due = dt.date(2025, 12, 1), dt.date(2025, 11, 14)
    cases = [open_dunning_case(opened_on=opened, due=due) for _ in range(6)]

    letters_when_dead = []

    # Killed with the batch's steps written but not committed (one transaction per batch)
    crash_then_recover(
        cluster,
        "dunning.batch_written",
        "collections_cases.tasks.dunning_run_task",
        str(opened),
        meanwhile=lambda: letters_when_dead.append(Letter.objects.count()),
    )
    assert letters_when_dead == [0]

    # Then the redelivered run does the whole batch, each case once
    wait_until(lambda: Letter.objects.count() >= 6, timeout=120, what="the redelivered run")
    time.sleep(1)
    for case in cases:
        assert Letter.objects.filter(case=case).count() == 1
        assert LedgerEntry.objects.filter(case=case, kind=LedgerEntry.Kind.FEE).count() == 1


def test_a_worker_killed_between_proposing_the_voucher_in_go_and_recording_it(cluster, settings):
    go = connect_with_chart(settings)
    go.invoice(go.customer(), "1000.00")
    sync_connection(connection_id=go.connection.pk)
    case = CollectionCase.objects.get(creditor=go.creditor)
    # the debtor pays what is owed that day: the invoice and the interest up to the payment
    camt = CAMT.format(kid=case.kid, amount=f"{owed_on(case, TODAY):.2f}", day=TODAY.isoformat())
    payments_import_file(content=camt.encode(), file_name="camt.xml")
    [settlement_id] = settle(on=TODAY, creditor_ids=[go.creditor.pk]).created
    voucher_rows = OutboxMessage.objects.filter(kind=OutboxMessage.Kind.SETTLEMENT_VOUCHER)
    assert voucher_rows.get().status == OutboxMessage.Status.PENDING

    crash_then_recover(cluster, "voucher.after_proposal", "integrations.tasks.deliver_outbox_task")
    # Go has the proposal; we never learnt its id
    assert JournalVoucher.objects.count() == 1
    assert Settlement.objects.get(pk=settlement_id).pogo_voucher_id == ""

    # When the claim's lease has run out and the beat sends the outbox again
    voucher_rows.update(next_attempt_at=timezone.now())
    send(cluster, "integrations.tasks.deliver_outbox_task")

    # Then the proposal in Go is adopted, not sent twice, and gets its statement page
    wait_until(
        lambda: (
            Settlement.objects.get(pk=settlement_id).voucher_status == Settlement.VoucherStatus.SENT
        ),
        timeout=90,
        what="the voucher after the restart",
    )
    voucher = JournalVoucher.objects.get()
    assert Settlement.objects.get(pk=settlement_id).pogo_voucher_id == str(voucher.pk)
    assert voucher.pages.count() == 1
    debits, credits = domain.voucher_balance(voucher.lines)
    assert debits == credits == Decimal("1000.00")
