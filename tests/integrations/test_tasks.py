"""Celery tasks and the beat schedule for PowerOffice Go."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.core.cache import cache
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from integrations import tasks
from integrations.models import PowerOfficeConnection, SyncRun
from kravia_web.celery import app
from tests.factories import CreditorFactory
from tests.integrations.test_sync import connect, fast_clients

SYNC_TASK = "PowerOffice Go: synkroniser alle tilkoblinger"
OUTBOX_TASK = "PowerOffice Go: send utgående meldinger"


def test_tasks_are_routed_to_the_poweroffice_queue():
    for name in (
        "integrations.tasks.sync_all_connections",
        "integrations.tasks.sync_connection_task",
        "integrations.tasks.deliver_outbox_task",
    ):
        assert app.amqp.router.route({}, name)["queue"].name == "poweroffice"


def test_only_the_idempotent_sync_is_acknowledged_late():
    assert tasks.sync_connection_task.acks_late is True
    assert not tasks.deliver_outbox_task.acks_late


def test_sync_all_connections_fans_out_one_task_per_connected_creditor(db, monkeypatch):
    connected = [
        PowerOfficeConnection.objects.create(
            creditor=CreditorFactory(), client_key=f"key-{n}", connected_at=timezone.now()
        )
        for n in range(2)
    ]
    PowerOfficeConnection.objects.create(
        creditor=CreditorFactory(), client_key="", disconnected_at=timezone.now()
    )
    queued = []
    monkeypatch.setattr(tasks.sync_connection_task, "delay", queued.append)

    assert tasks.sync_all_connections() == 2
    assert queued == [c.pk for c in connected]


def test_a_connection_already_syncing_is_not_synced_twice(db):
    connection = PowerOfficeConnection.objects.create(
        creditor=CreditorFactory(), client_key="key", connected_at=timezone.now()
    )
    key = tasks.sync_lock_key(connection.pk)
    assert cache.add(key, "1", timeout=60)
    try:
        assert tasks.sync_connection_task(connection.pk) is None
    finally:
        cache.delete(key)
    assert not SyncRun.objects.exists()


def test_the_sync_task_runs_the_sync_and_releases_its_lock(db, settings, pogo_wsgi, monkeypatch):
    fast_clients(monkeypatch, pogo_wsgi, settings)
    go = connect(settings)
    go.customer()

    result = tasks.sync_connection_task.delay(go.connection.pk)

    assert result.get() == SyncRun.Status.OK
    assert SyncRun.objects.get().counts["customers"]["created"] == 1
    assert cache.add(tasks.sync_lock_key(go.connection.pk), "1", timeout=1)
    cache.delete(tasks.sync_lock_key(go.connection.pk))  # the next test may reuse the pk


@pytest.mark.django_db
def test_beat_schedule_is_stored_in_the_database_and_edits_survive_migrating_again():
    sync = PeriodicTask.objects.get(name=SYNC_TASK)
    outbox = PeriodicTask.objects.get(name=OUTBOX_TASK)
    assert sync.task == "integrations.tasks.sync_all_connections"
    assert (sync.interval.every, sync.interval.period) == (5, "minutes")
    assert outbox.task == "integrations.tasks.deliver_outbox_task"
    assert (outbox.interval.every, outbox.interval.period) == (1, "minutes")
    assert sync.enabled and outbox.enabled

    sync.interval = IntervalSchedule.objects.create(every=15, period="minutes")
    sync.save()
    migration = importlib.import_module("integrations.migrations.0003_beat_schedule")
    migration.create_schedule(apps, None)

    sync.refresh_from_db()
    assert sync.interval.every == 15
    assert PeriodicTask.objects.filter(name__in=[SYNC_TASK, OUTBOX_TASK]).count() == 2


def test_a_second_sync_of_a_running_connection_is_refused_by_the_database(
    db, settings, pogo_wsgi, monkeypatch
):
    from integrations.services.sync import SyncAlreadyRunning, sync_connection

    fast_clients(monkeypatch, pogo_wsgi, settings)
    go = connect(settings)
    SyncRun.objects.create(connection=go.connection)  # another worker is at it

    with pytest.raises(SyncAlreadyRunning):
        sync_connection(connection_id=go.connection.pk)
    assert tasks.sync_connection_task(go.connection.pk) is None
    assert SyncRun.objects.count() == 1


def test_a_run_left_running_by_a_dead_worker_goes_stale(db, settings, pogo_wsgi, monkeypatch):
    import datetime as dt

    from integrations.services.sync import sync_connection

    fast_clients(monkeypatch, pogo_wsgi, settings)
    go = connect(settings)
    dead = SyncRun.objects.create(
        connection=go.connection, started_at=timezone.now() - dt.timedelta(hours=1)
    )

    run = sync_connection(connection_id=go.connection.pk)

    dead.refresh_from_db()
    assert dead.status == SyncRun.Status.FAILED
    assert run.status == SyncRun.Status.OK


def test_old_sync_runs_are_pruned(db):
    import datetime as dt

    from integrations.services.sync import sync_runs_prune

    connection = PowerOfficeConnection.objects.create(
        creditor=CreditorFactory(), client_key="key", connected_at=timezone.now()
    )
    old = SyncRun.objects.create(
        connection=connection,
        started_at=timezone.now() - dt.timedelta(days=40),
        status=SyncRun.Status.OK,
    )
    recent = SyncRun.objects.create(connection=connection, status=SyncRun.Status.OK)

    assert sync_runs_prune(keep_days=30) == 1
    assert list(SyncRun.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not SyncRun.objects.filter(pk=old.pk).exists()
