"""The dunning batch keeps the cases' stored ledger totals itself (issue 19): on PostgreSQL its
ledger insert runs with the totals trigger skipped (``kravia.ledger_totals = 'batch'``,
migration 0024) and its one ``UPDATE`` of the cases adds the same amounts; every other write —
the status moves the batch makes through the case services in savepoints included — is
counted by the trigger. On SQLite the trigger counts the batch's rows too. Either way the
stored totals equal the ledger's sums after every run (run these on both databases)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, transaction

from collections_cases.cases import services as case_services
from collections_cases.dunning import batch as dunning_batch
from collections_cases.ledger import totals
from collections_cases.models import CollectionCase, LedgerEntry, Letter
from tests.collections_cases import dunning_support
from tests.collections_cases.factories import LedgerEntryFactory
from tests.collections_cases.test_case_list_stored_totals import (
    assert_every_case_consistent,
    stored,
    summed,
)
from tests.collections_cases.test_dunning_batch import LAST_DAY, OPENED, D, between_runs, build

pytestmark = pytest.mark.django_db
Kind = LedgerEntry.Kind
postgres_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the trigger's skip is PostgreSQL's"
)


def test_one_batch_with_fees_on_several_cases_and_a_close_in_a_savepoint():
    """One batch: two cases get their betalingsoppfordring (interest and salær booked by the
    batch's insert), a third — its principal paid since the inkassovarsel — closes as paid
    through the case services in a savepoint, which books a reduction of the fee left."""
    due = D(2026, 3, 2)
    cases = [
        dunning_support.open_case(opened_on=due + dt.timedelta(days=1), due=due, amount=amount)
        for amount in ("10000.00", "2500.55", "99.99")
    ]
    dunning_support.run(due + dt.timedelta(days=5))  # the inkassovarsel and its fee
    assert_every_case_consistent()
    closing = cases[2]
    with dunning_support.on_day(due + dt.timedelta(days=6), hour=12):
        case_services.case_register_direct_payment(
            case=closing, actor="Saksbehandler", amount="99.99", paid_on=due + dt.timedelta(days=6)
        )
    day = CollectionCase.objects.get(pk=cases[0].pk).next_action_date
    assert all(CollectionCase.objects.get(pk=c.pk).next_action_date == day for c in cases)
    entries_before = set(LedgerEntry.objects.values_list("pk", flat=True))

    result = dunning_support.run(day, batch_size=500)

    assert result.steps == {"betalingsoppfordring": 2, "closed_paid": 1}, result.as_dict()
    new = LedgerEntry.objects.exclude(pk__in=entries_before)
    assert {e.kind for e in new.filter(case__in=cases[:2])} >= {Kind.SALAER, Kind.INTEREST}
    assert new.filter(case=closing, kind=Kind.REDUCTION).exists()
    closing.refresh_from_db()
    assert closing.status == CollectionCase.Status.CLOSED
    assert stored(closing.pk)[0] == Decimal("0.00")
    assert_every_case_consistent()
    assert Letter.objects.filter(kind=Letter.Kind.BETALINGSOPPFORDRING).count() == 2


def test_the_batch_keeps_the_totals_over_a_varied_timeline(django_capture_on_commit_callbacks):
    """Every step, creditors with and without approvals, direct payments, pauses, disputes,
    PoGo's own inkassovarsel (the fixture of test_dunning_batch), run day by day in batches of
    500 and checked after every day that changed something."""
    with django_capture_on_commit_callbacks(execute=True):
        cases = build()
    checked = 0
    day = OPENED
    while day <= LAST_DAY:
        with dunning_support.on_day(day), django_capture_on_commit_callbacks(execute=True):
            result = dunning_batch.dunning_run_batched(on=day, batch_size=500)
        assert not result.errors, result.errors
        if result.steps:
            assert_every_case_consistent()
            checked += 1
        with django_capture_on_commit_callbacks(execute=True):
            between_runs(day, cases)
        day += dt.timedelta(days=1)
    assert checked >= 5
    assert LedgerEntry.objects.filter(kind=Kind.SALAER).exists()
    assert CollectionCase.objects.filter(status=CollectionCase.Status.CLOSED).exists()


def test_deltas_count_as_the_trigger_does():
    rows = [
        (Kind.PRINCIPAL, Decimal("100.00")),
        ("fee", Decimal("35.00")),
        (Kind.PAYMENT, Decimal("-20.005")),  # stored as -20.01 (half away from zero)
        ("direct_payment", Decimal("-5.00")),
        (Kind.PAYMENT_REVERSAL, Decimal("3.00")),
        (Kind.REDUCTION, Decimal("-1.00")),
    ]
    assert totals.deltas(rows) == (Decimal("111.99"), Decimal("100.00"), Decimal("-22.01"))


@postgres_only
def test_the_trigger_skips_only_inside_the_block(creditor):
    from tests.collections_cases.factories_pages import open_case

    case = open_case(creditor, amounts=("1000.00",))
    with transaction.atomic():
        with totals.trigger_skipped() as skipped:
            LedgerEntryFactory(case=case, kind=Kind.FEE, amount=Decimal("70.00"))
        assert skipped
        assert stored(case.pk)[0] == Decimal("1000.00")  # left to the writer
        LedgerEntryFactory(case=case, kind=Kind.FEE, amount=Decimal("5.00"))  # counted
        assert stored(case.pk)[0] == Decimal("1005.00")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('kravia.ledger_totals', true)")
        assert cursor.fetchone()[0] in (None, "")
    assert summed(case.pk)[0] - stored(case.pk)[0] == Decimal("70.00")


@postgres_only
def test_a_rollback_inside_the_block_turns_the_skip_off(creditor):
    from tests.collections_cases.factories_pages import open_case

    case = open_case(creditor, amounts=("1000.00",))
    with transaction.atomic():
        try:
            with transaction.atomic(), totals.trigger_skipped():
                raise ValueError("rolled back")
        except ValueError:
            pass
        LedgerEntryFactory(case=case, kind=Kind.FEE, amount=Decimal("5.00"))
    assert stored(case.pk) == summed(case.pk)


@pytest.mark.skipif("connection.vendor == 'postgresql'", reason="SQLite's behaviour")
def test_on_sqlite_the_block_leaves_the_counting_to_the_trigger(creditor):
    from tests.collections_cases.factories_pages import open_case

    case = open_case(creditor, amounts=("1000.00",))
    with totals.trigger_skipped() as skipped:
        LedgerEntryFactory(case=case, kind=Kind.FEE, amount=Decimal("70.00"))
    assert skipped is False
    assert stored(case.pk) == summed(case.pk) == (Decimal("1070.00"), Decimal("1000.00"), 0)
