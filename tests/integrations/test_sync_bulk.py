"""The sync's bulk writes: PostgreSQL's COPY + ``INSERT … ON CONFLICT`` path gives exactly what
the ORM path gives (SQLite's), in a fixed number of statements per page; and the chart of
accounts is read at most once an hour."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import integrations.services.sync as sync
from collections_cases.models import Invoice
from creditors.models import Debtor
from integrations.models import PogoInvoiceState, SyncCursor
from integrations.poweroffice import errors as pogo_errors
from integrations.services import bulk
from tests.factories import CreditorFactory
from tests.integrations.test_sync import go  # noqa: F401  (the fixture)

pg_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the COPY path is PostgreSQL's"
)

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
#: Text that COPY's CSV and text formats must quote or escape, and text like their NULL markers.
AWKWARD = 'Back\\slash \\N og\ttab\nlinje\r æøå «» "sitat", komma; \'apostrof\' ""'


def debtor_values(n: int, **changes) -> dict:
    values = {
        "customer_number": 10000 + n,
        "name": f"Kunde {n} AS" if n else AWKWARD,
        "is_person": n % 2 == 0,
        "org_number": "",
        "email": f"kunde{n}@example.no",
        "reminder_email": "",
        "phone": "",
        "address_line": "Storgata 1",
        "postal_code": "0155",
        "postal_city": "Oslo",
        "country_code": "NO",
        "transfer_to_debt_collection_agency": True,
        "send_payment_reminders": True,
        "do_not_add_late_payment_fees": False,
        "do_not_add_late_payment_interest": n % 3 == 0,
        "pogo_last_changed": T0 + dt.timedelta(seconds=n, microseconds=123456),
        "pogo_subledger_account_id": None if n % 2 else 900 + n,
    }
    values.update(changes)
    return values


def debtor_rows(count: int) -> dict:
    return {1000 + n: debtor_values(n) for n in range(count)}


def stored(creditor) -> dict:
    skip = {"id", "creditor_id", "created_at", "updated_at"}
    return {
        d["pogo_id"]: {k: v for k, v in d.items() if k not in skip}
        for d in Debtor.objects.filter(creditor=creditor).values()
    }


def orm_path(monkeypatch):
    monkeypatch.setattr(bulk, "supported", lambda connection=None: False)


@pytest.fixture(params=["orm", pytest.param("copy", marks=pg_only)])
def path(request, monkeypatch):
    if request.param == "orm":
        orm_path(monkeypatch)
    return request.param


@pytest.mark.django_db
def test_upsert_creates_then_updates_only_what_changed(path):
    creditor = CreditorFactory()
    rows = debtor_rows(5)

    with time_machine.travel(T0, tick=False):  # the ORM path stamps new rows itself
        created = sync.upsert(Debtor, creditor=creditor, key="pogo_id", rows=rows, now=T0)
    assert created == (5, 0)
    debtor = Debtor.objects.get(creditor=creditor, pogo_id=1000)
    assert debtor.name == AWKWARD
    assert debtor.entry_step == "" and debtor.collection_opt_out is False  # model defaults
    assert debtor.created_at == debtor.updated_at == T0

    later = T0 + dt.timedelta(hours=1)
    same = sync.upsert(Debtor, creditor=creditor, key="pogo_id", rows=rows, now=later)
    assert same == (0, 0)
    assert set(Debtor.objects.filter(creditor=creditor).values_list("updated_at", flat=True)) == {
        T0
    }

    rows[1002] = debtor_values(2, name="Nytt Navn AS", pogo_subledger_account_id=None)
    rows[1009] = debtor_values(9)
    assert sync.upsert(Debtor, creditor=creditor, key="pogo_id", rows=rows, now=later) == (1, 1)
    changed = Debtor.objects.get(creditor=creditor, pogo_id=1002)
    assert (changed.name, changed.pogo_subledger_account_id) == ("Nytt Navn AS", None)
    assert changed.updated_at == later and changed.created_at == T0
    untouched = Debtor.objects.filter(creditor=creditor).exclude(pogo_id__in=[1002, 1009])
    assert set(untouched.values_list("updated_at", flat=True)) == {T0}


@pg_only
@pytest.mark.django_db
def test_copy_path_stores_exactly_what_the_orm_path_stores(monkeypatch):
    by_copy, by_orm = CreditorFactory(), CreditorFactory()
    rows = debtor_rows(7)

    sync.upsert(Debtor, creditor=by_copy, key="pogo_id", rows=rows, now=T0)
    with monkeypatch.context() as patch:
        orm_path(patch)
        sync.upsert(Debtor, creditor=by_orm, key="pogo_id", rows=rows, now=T0)

    assert stored(by_copy) == stored(by_orm)
    assert len(stored(by_copy)) == 7


@pg_only
@pytest.mark.django_db
def test_copy_path_takes_the_same_statements_for_any_number_of_rows():
    creditor = CreditorFactory()
    counts = []
    for size in (3, 1500):
        rows = {pogo_id + size * 10: values for pogo_id, values in debtor_rows(size).items()}
        with CaptureQueriesContext(connection) as queries:
            assert sync.upsert(Debtor, creditor=creditor, key="pogo_id", rows=rows, now=T0) == (
                size,
                0,
            )
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 3  # drop and create the staging table, one upsert (+ COPY)


@pytest.mark.django_db
def test_match_ids_are_recorded_and_follow_go(path):
    creditor = CreditorFactory()
    sync.upsert(Debtor, creditor=creditor, key="pogo_id", rows=debtor_rows(1), now=T0)
    debtor = Debtor.objects.get(creditor=creditor)
    ids = [uuid.uuid4() for _ in range(3)]
    invoice_rows = {
        pogo_id: {
            "debtor_id": debtor.pk,
            "invoice_no": 500 + n,
            "voucher_type": "OutgoingInvoice",
            "invoice_date": dt.date(2026, 1, 1),
            "due_date": dt.date(2026, 1, 15),
            "currency": "NOK",
            "total_amount": Decimal("1250.50"),
            "balance": Decimal("1250.50"),
            "balance_last_changed": None,
            "cid": f"{500 + n}5",
            "pogo_last_changed": T0,
        }
        for n, pogo_id in enumerate(ids)
    }
    assert sync.upsert(Invoice, creditor=creditor, key="pogo_id", rows=invoice_rows, now=T0) == (
        3,
        0,
    )
    invoice = Invoice.objects.get(pogo_id=ids[0])
    assert invoice.case_id is None and invoice.last_reminder_voucher_type == ""
    assert not invoice.original_pdf

    sync._record_match_ids(creditor, {ids[0]: 71, ids[1]: None, ids[2]: 73})
    sync._record_match_ids(creditor, {ids[0]: 71, ids[1]: 72, ids[2]: 73})

    states = PogoInvoiceState.objects.filter(creditor=creditor)
    assert dict(states.values_list("invoice__pogo_id", "match_id")) == {
        ids[0]: 71,
        ids[1]: 72,
        ids[2]: 73,
    }
    assert not states.filter(released_at__isnull=False).exists()


def test_a_sync_keeps_awkward_text_and_analyses_after_a_large_load(go, monkeypatch):  # noqa: F811
    monkeypatch.setattr(bulk, "ANALYZE_AFTER_ROWS", 2)
    analysed = []
    monkeypatch.setattr(bulk, "analyze", lambda *models, **kw: analysed.extend(models))
    for name in (AWKWARD.replace("\n", " ").strip(), "Kunde To AS", "Kunde Tre AS"):
        go.invoice(go.customer(name))

    run = go.sync()

    assert run.counts["customers"]["created"] == 3, run.errors
    assert Debtor.objects.filter(name=AWKWARD.replace("\n", " ").strip()).exists()
    assert Invoice.objects.filter(creditor=go.creditor).count() == 3
    assert PogoInvoiceState.objects.filter(creditor=go.creditor, match_id__isnull=False).count()
    if connection.vendor == "postgresql":
        assert analysed == [Debtor, Invoice, PogoInvoiceState]
    else:
        assert analysed == []


# --- the chart of accounts ------------------------------------------------------------------


def chart_reads(go, since: int = 0) -> int:  # noqa: F811
    return sum(1 for e in go.http.exchanges[since:] if e.path == "/pogo/v2/GeneralLedgerAccounts")


def test_the_chart_of_accounts_is_read_once_an_hour(go):  # noqa: F811
    first = go.sync()
    assert chart_reads(go) == 1
    assert first.counts["accounts"]["fetched"] == 2
    read_at = SyncCursor.objects.get(connection=go.connection, resource="accounts").value

    seen = len(go.http.exchanges)
    second = go.sync()
    assert chart_reads(go, seen) == 0
    assert "accounts" not in second.counts
    # no chart, no tokens, no IsActiveDebtCollection (its yes is trusted for the hour too)
    assert second.request_count == first.request_count - 1 - 2 - 1

    with time_machine.travel(read_at + sync.CHART_MAX_AGE + dt.timedelta(seconds=1)):
        seen = len(go.http.exchanges)
        go.sync()
        assert chart_reads(go, seen) == 1
        assert SyncCursor.objects.get(connection=go.connection, resource="accounts").value > read_at


def test_a_missing_chart_is_read_even_within_the_hour(go):  # noqa: F811
    go.sync()
    go.connection.__class__.objects.filter(pk=go.connection.pk).update(chart_of_accounts={})

    seen = len(go.http.exchanges)
    go.sync()

    assert chart_reads(go, seen) == 1
    go.connection.refresh_from_db()
    assert go.connection.chart_of_accounts["1920"] == {"name": "Bankinnskudd", "is_active": True}
    assert timezone.now() - SyncCursor.objects.get(
        connection=go.connection, resource="accounts"
    ).value < dt.timedelta(minutes=1)


# --- reading the next page while this one is written -----------------------------------------


def test_streamed_reads_ahead_in_a_thread_and_keeps_the_order_of_skips(monkeypatch, settings):
    settings.POWEROFFICE_SYNC_PREFETCH = True
    monkeypatch.setattr(sync, "STREAM_CHUNK", 2)
    logged, readers = [], set()
    unreadable = sync._Unreadable(lambda record, reason: logged.append(record))

    def rows():
        for n in range(5):
            readers.add(threading.current_thread().name)
            if n == 3:
                unreadable(f"rad {n}", "uleselig")
            yield n

    seen = []
    for chunk in sync._streamed(rows(), unreadable):
        seen.append((chunk, list(logged)))

    # "rad 3" is logged when its chunk is handed over, not while the reader reads it ahead.
    assert seen == [([0, 1], []), ([2, 3], ["rad 3"]), ([4], ["rad 3"])]
    assert all(name.startswith("pogo-prefetch") for name in readers)


def test_streamed_passes_a_read_failure_to_the_caller(settings, monkeypatch):
    settings.POWEROFFICE_SYNC_PREFETCH = True
    monkeypatch.setattr(sync, "STREAM_CHUNK", 2)

    def rows():
        yield from (1, 2)
        raise pogo_errors.Unavailable("PowerOffice Go svarer ikke.")

    chunks = sync._streamed(rows())
    assert next(chunks) == [1, 2]
    with pytest.raises(pogo_errors.Unavailable):
        next(chunks)


@pg_only
def test_a_sync_reading_ahead_writes_the_same_as_one_that_does_not(go, settings, monkeypatch):  # noqa: F811
    # On PostgreSQL the in-process sandbox can answer from the reader thread's own connection
    # (the fixture's rows are committed).
    settings.POWEROFFICE_SYNC_PREFETCH = True
    monkeypatch.setattr(sync, "STREAM_CHUNK", 2)
    for n in range(5):
        go.invoice(go.customer(f"Kunde {n} AS"))
    go.customer("Dårlig Kunde", email_address="ikke-en-epost")

    run = go.sync()

    assert run.counts["customers"] == {"fetched": 6, "created": 5, "skipped": 1}
    assert run.counts["invoices"] == {"fetched": 5, "created": 5}
    assert Invoice.objects.filter(creditor=go.creditor).count() == 5


def test_the_quick_org_number_check_agrees_with_the_full_one():
    import random

    from creditors.validators import org_number_or_blank

    rng = random.Random(9)
    values = [f"{rng.randrange(10**9):09d}" for _ in range(2000)]
    values += ["923609016", "923 609 016", "NO923609016MVA", "٩٢٣٦٠٩٠١٦", "12345678", "", None]
    for value in values:
        assert sync._org_number(value) == org_number_or_blank(value), value
    assert sync._org_number("923609016") == "923609016"


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pg_only
def test_page_commits_do_not_wait_for_the_wal_but_nothing_else_changes(go, monkeypatch):  # noqa: F811
    seen = []
    original = sync.upsert

    def spy(model, **kw):
        seen.append(synchronous_commit())
        return original(model, **kw)

    monkeypatch.setattr(sync, "upsert", spy)
    go.invoice(go.customer())

    go.sync()

    assert seen == ["off", "off"]  # the customers' page, the invoices' page
    assert synchronous_commit() == "on"  # SET LOCAL: the cursor's and the run's commits wait
    with transaction.atomic():  # a caller's own transaction is never made less durable
        with transaction.atomic():
            bulk.commit_without_waiting()
        assert synchronous_commit() == "on"


@pg_only
@pytest.mark.django_db
def test_analyze_refreshes_the_planners_row_count():
    creditor = CreditorFactory()
    sync.upsert(Debtor, creditor=creditor, key="pogo_id", rows=debtor_rows(50), now=T0)

    bulk.analyze(Debtor)

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [Debtor._meta.db_table])
        assert cursor.fetchone()[0] >= 50
