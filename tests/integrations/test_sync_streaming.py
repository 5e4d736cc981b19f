"""Customers and invoices are synced a chunk at a time (streamed), the cursor moving only after
the last chunk: a failure half-way keeps what was written and the next run completes it."""

from __future__ import annotations

import pytest

import integrations.services.sync as sync
from collections_cases.models import Invoice
from creditors.models import Debtor
from integrations.models import SyncCursor, SyncRun
from integrations.poweroffice import errors as pogo_errors
from tests.integrations.test_sync import go  # noqa: F401  (the fixture)


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(sync, "STREAM_CHUNK", 2)


def company_with_five(go):  # noqa: F811
    for n in range(5):
        go.invoice(go.customer(f"Kunde {n} AS"))


def test_rows_are_written_chunk_by_chunk_and_all_arrive(go, small_chunks):  # noqa: F811
    company_with_five(go)
    writes = []
    original = sync.upsert

    def counting(model, **kw):
        writes.append((model, len(kw["rows"])))
        return original(model, **kw)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sync, "upsert", counting)
        run = go.sync()

    assert run.status == SyncRun.Status.OK, run.errors
    assert run.counts["customers"] == {"fetched": 5, "created": 5}
    assert run.counts["invoices"] == {"fetched": 5, "created": 5}
    assert [n for model, n in writes if model is Debtor] == [2, 2, 1]
    assert [n for model, n in writes if model is Invoice] == [2, 2, 1]
    assert Invoice.objects.filter(creditor=go.creditor).count() == 5


def test_a_failure_half_way_keeps_the_cursor_and_the_next_run_completes(go, small_chunks):  # noqa: F811
    company_with_five(go)
    original = sync.upsert
    calls = []

    def failing(model, **kw):
        calls.append(model)
        if len(calls) == 2:
            raise pogo_errors.Unavailable("PowerOffice Go svarer ikke.")
        return original(model, **kw)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sync, "upsert", failing)
        failed = go.sync()

    assert failed.status == SyncRun.Status.FAILED
    assert Debtor.objects.filter(creditor=go.creditor).count() == 2  # the first chunk stays
    assert not SyncCursor.objects.filter(connection=go.connection).exists()

    again = go.sync()

    assert again.status == SyncRun.Status.OK, again.errors
    assert Debtor.objects.filter(creditor=go.creditor).count() == 5
    assert Invoice.objects.filter(creditor=go.creditor).count() == 5
