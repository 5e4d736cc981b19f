"""Services under real concurrency: row locks need PostgreSQL (SQLite serialises writers and
ignores SELECT ... FOR UPDATE), so these run only there (DATABASE_URL=postgres://...)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from collections_cases.cases import services
from collections_cases.models import CaseEvent, CollectionCase
from kravia_web.errors import ApplicationError
from tests.collections_cases.factories import (
    CollectionCaseFactory,
    DebtorFactory,
    InvoiceFactory,
    LedgerEntryFactory,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def run_together(calls):
    """Run the calls in threads released at the same moment; results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(i, call):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[i] = exc
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_case_creation_gets_distinct_consecutive_numbers():
    debtor = DebtorFactory()
    invoices = [InvoiceFactory(debtor=debtor) for _ in range(8)]

    results = run_together(
        [
            lambda inv=inv: services.case_create(
                creditor=debtor.creditor, debtor=debtor, invoices=[inv], needs_approval=False
            )
            for inv in invoices
        ]
    )

    assert all(isinstance(r, CollectionCase) for r in results), results
    serials = sorted(int(r.number.rsplit("-", 1)[1]) for r in results)
    assert serials == list(range(1, 9))
    assert len({r.kid for r in results}) == 8


def test_one_invoice_never_ends_up_in_two_cases():
    debtor = DebtorFactory()
    invoice = InvoiceFactory(debtor=debtor, total_amount=Decimal("500"))

    results = run_together(
        [
            lambda: services.case_create(
                creditor=debtor.creditor, debtor=debtor, invoices=[invoice], needs_approval=False
            )
            for _ in range(4)
        ]
    )

    assert sum(isinstance(r, CollectionCase) for r in results) == 1
    assert sum(isinstance(r, ApplicationError) for r in results) == 3
    assert CollectionCase.objects.count() == 1


def test_concurrent_withdraw_and_pause_one_wins_with_one_event():
    case = CollectionCaseFactory()
    LedgerEntryFactory(case=case)

    results = run_together(
        [
            lambda: services.case_withdraw(case=case, actor=None, reason="Trukket"),
            lambda: services.case_withdraw(case=case, actor=None, reason="Trukket"),
        ]
    )

    assert sum(isinstance(r, CollectionCase) for r in results) == 1
    assert sum(isinstance(r, ApplicationError) for r in results) == 1
    assert CaseEvent.objects.filter(case=case).count() == 1
