"""Two dunning runs side by side on PostgreSQL: ``select_for_update(skip_locked=True)`` lets
them share the work, the unique (case, step) constraint keeps one letter per step. SQLite
serialises writers and ignores row locks, so these run only on PostgreSQL."""

import datetime as dt
import threading

import pytest
from django.db import connection

from collections_cases.dunning.services import dunning_run
from collections_cases.models import CaseEvent, LedgerEntry, Letter
from tests.collections_cases.dunning_support import open_case

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]

OPENED = dt.date(2025, 12, 1)
DUE = dt.date(2025, 11, 14)
BO_DAY = dt.date(2025, 12, 18)


def run_together(calls):
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


@pytest.mark.parametrize("batch_size", [500, 3])
def test_two_concurrent_runs_record_one_letter_per_case_and_step(batch_size):
    cases = [open_case(opened_on=OPENED, due=DUE) for _ in range(20)]

    results = run_together(
        [lambda: dunning_run(on=OPENED, batch_size=batch_size) for _ in range(2)]
    )

    assert not any(isinstance(r, Exception) for r in results), results
    assert sum(r.steps["inkassovarsel"] for r in results) == 20
    assert not any(r.errors for r in results)
    for case in cases:
        assert Letter.objects.filter(case=case, step="inkassovarsel").count() == 1
        assert LedgerEntry.objects.filter(case=case, kind=LedgerEntry.Kind.FEE).count() == 1
        assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.LETTER).count() == 1


def test_concurrent_runs_over_the_next_step_still_one_letter_each():
    cases = [open_case(opened_on=OPENED, due=DUE) for _ in range(10)]
    dunning_run(on=OPENED)

    results = run_together([lambda: dunning_run(on=BO_DAY) for _ in range(4)])

    assert not any(isinstance(r, Exception) for r in results), results
    assert sum(r.steps["betalingsoppfordring"] for r in results) == 10
    for case in cases:
        assert list(Letter.objects.filter(case=case).values_list("step", flat=True)) == [
            "inkassovarsel",
            "betalingsoppfordring",
        ]
        assert LedgerEntry.objects.filter(case=case, kind=LedgerEntry.Kind.SALAER).count() == 1
