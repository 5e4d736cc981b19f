"""The ledger totals stored on each case (``stored_balance``, ``stored_principal``,
``stored_paid``) are kept by database triggers on the ledger: whatever path writes an entry —
a service's ``create``, ``bulk_create``, the dunning run, payments, raw SQL — the stored
values equal the ledger's sums, on SQLite and PostgreSQL. The Saker list sorts and filters on
them (docs/performance.md)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone

from collections_cases.cases import services as case_services
from collections_cases.cases.credit_notes import case_register_credit_note
from collections_cases.dunning import services as dunning
from collections_cases.ledger.totals import ledger_totals_recompute
from collections_cases.models import CollectionCase, LedgerEntry
from collections_cases.payments import services as payments
from collections_cases.payments.reversals import payment_reverse
from tests.collections_cases import dunning_support
from tests.collections_cases.factories import LedgerEntryFactory
from tests.collections_cases.factories_pages import open_case

pytestmark = pytest.mark.django_db
Kind = LedgerEntry.Kind
PAID = (Kind.PAYMENT, Kind.DIRECT_PAYMENT, Kind.PAYMENT_REVERSAL)


def summed(case_id: int) -> tuple[Decimal, Decimal, Decimal]:
    totals = LedgerEntry.objects.filter(case_id=case_id).aggregate(
        balance=Sum("amount"),
        principal=Sum("amount", filter=Q(kind=Kind.PRINCIPAL)),
        paid=Sum("amount", filter=Q(kind__in=PAID)),
    )
    return tuple(Decimal(totals[k] or 0).quantize(Decimal("0.01")) for k in totals)


def stored(case_id: int) -> tuple[Decimal, Decimal, Decimal]:
    return CollectionCase.objects.values_list(
        "stored_balance", "stored_principal", "stored_paid"
    ).get(pk=case_id)


def assert_every_case_consistent():
    cases = list(CollectionCase.objects.values_list("pk", flat=True))
    assert cases
    for pk in cases:
        assert stored(pk) == summed(pk), pk


def test_every_write_path_keeps_the_stored_totals(creditor, user):
    # case_create: the principal entries by bulk_create.
    case = open_case(creditor, amounts=("1000.00", "250.55"), actor=user)
    other = open_case(creditor, amounts=("99.99",))
    assert stored(case.pk) == (Decimal("1250.55"), Decimal("1250.55"), Decimal("0.00"))

    # Costs, a direct payment and a credit note through the services (create).
    today = timezone.localdate()
    case_services.case_add_cost(
        case=case, actor=user, kind=Kind.FEE, amount=Decimal("70.00"), booked_on=today
    )
    case_services.case_add_cost(
        case=case, actor=user, kind=Kind.INTEREST, amount=Decimal("3.33"), booked_on=today
    )
    case_services.case_register_direct_payment(
        case=case, actor=user, amount=Decimal("100.10"), paid_on=today
    )
    case_register_credit_note(case=case, actor=user, amount=Decimal("50.00"), credited_on=today)

    # A payment to the agency, allocated over costs, interest and principal.
    payments.payment_register(
        amount=Decimal("80.00"),
        paid_on=today,
        external_reference="stored-totals-1",
        kid="",
        case=case,
    )

    # The bank reverses payments: payment_reversal entries (paid goes down), and for an
    # overpayment a refund_cancelled credit too.
    for reference, target, amount in (("r-1", case, "45.00"), ("r-2", other, "150.00")):
        reversed_payment = payments.payment_register(
            amount=Decimal(amount), paid_on=today, external_reference=reference, case=target
        )
        payment_reverse(payment=reversed_payment, reversed_on=today, reference=f"{reference}-r")
    assert stored(other.pk) == summed(other.pk)
    assert stored(other.pk)[2] == Decimal("0.00")  # nothing paid once it is reversed
    # (allocating books the interest accrued up to the payment day; a reversal keeps it)
    other_before = stored(other.pk)[0]
    assert LedgerEntry.objects.filter(kind=Kind.REFUND_CANCELLED).exists()

    # bulk_create across several cases in one statement, and a factory's create.
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(case=case, kind=Kind.SALAER, amount=Decimal("0.01"), booked_on=today),
            LedgerEntry(case=other, kind=Kind.FEE, amount=Decimal("35.00"), booked_on=today),
            LedgerEntry(case=other, kind=Kind.PAYMENT, amount=Decimal("-0.03"), booked_on=today),
        ]
    )
    LedgerEntryFactory(case=other, kind=Kind.REDUCTION, amount=Decimal("-10.00"))

    assert_every_case_consistent()
    assert stored(other.pk) == (other_before + Decimal("24.97"), Decimal("99.99"), Decimal("-0.03"))


@pytest.mark.parametrize("run", [dunning.dunning_run, dunning.dunning_run_per_case])
def test_the_dunning_run_keeps_the_stored_totals(run):
    """The batched run (on PostgreSQL one INSERT … SELECT FROM unnest per batch) and the
    per-case run alike."""
    due = dt.date(2026, 3, 2)
    cases = [
        dunning_support.open_case(opened_on=due + dt.timedelta(days=1), due=due, amount=amount)
        for amount in ("10000.00", "2500.55", "99.99")
    ]
    for days in (5, 20, 40):  # inkassovarsel, then fees and interest as the steps come
        day = due + dt.timedelta(days=days)
        with dunning_support.on_day(day):
            run(on=day)

    assert LedgerEntry.objects.filter(case__in=cases).exclude(kind=Kind.PRINCIPAL).exists()
    assert_every_case_consistent()


def test_a_stale_case_saved_after_an_entry_does_not_overwrite_the_totals(creditor, user):
    case = open_case(creditor, amounts=("1000.00",))
    stale = CollectionCase.objects.get(pk=case.pk)  # read before the entry
    LedgerEntryFactory(case=case, kind=Kind.FEE, amount=Decimal("70.00"))

    stale.close_note = "changed by a page"
    stale.save()

    stale.refresh_from_db()
    assert stale.close_note == "changed by a page"
    assert stored(case.pk) == (Decimal("1070.00"), Decimal("1000.00"), Decimal("0.00"))


def test_raw_sql_changes_to_the_ledger_are_followed(creditor):
    """The model refuses updates and deletes; the triggers follow them all the same."""
    case = open_case(creditor, amounts=("1000.00",))
    entry = LedgerEntryFactory(case=case, kind=Kind.PAYMENT, amount=Decimal("-400.00"))
    table = LedgerEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET amount = %s WHERE id = %s", [Decimal("-450.25"), entry.pk]
        )  # noqa: S608
        assert stored(case.pk) == (Decimal("549.75"), Decimal("1000.00"), Decimal("-450.25"))
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [entry.pk])  # noqa: S608
    assert stored(case.pk) == (Decimal("1000.00"), Decimal("1000.00"), Decimal("0.00"))
    assert_every_case_consistent()


def test_many_small_amounts_stay_exact_to_the_ore(creditor):
    case = open_case(creditor, amounts=("0.10",))
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                case=case, kind=Kind.FEE, amount=Decimal("0.10"), booked_on=timezone.localdate()
            )
            for _ in range(50)
        ]
    )
    assert stored(case.pk) == (Decimal("5.10"), Decimal("0.10"), Decimal("0.00"))
    assert_every_case_consistent()


def test_the_totals_can_be_recomputed_from_the_ledger(creditor):
    """After writes that bypass the triggers (e.g. ``loaddata`` of a dump holding both the
    totals and the entries), ``ledger_totals_recompute`` sets them from the ledger."""
    case = open_case(creditor, amounts=("1000.00",))
    LedgerEntryFactory(case=case, kind=Kind.PAYMENT, amount=Decimal("-250.50"))
    untouched = open_case(creditor, amounts=("10.00",))
    CollectionCase.objects.filter(pk=case.pk).update(
        stored_balance=Decimal("1"), stored_principal=Decimal("2"), stored_paid=Decimal("3")
    )

    corrected = ledger_totals_recompute()

    assert stored(case.pk) == (Decimal("749.50"), Decimal("1000.00"), Decimal("-250.50"))
    assert stored(untouched.pk) == (Decimal("10.00"), Decimal("10.00"), Decimal("0.00"))
    assert_every_case_consistent()
    if connection.vendor == "postgresql":
        assert corrected == 1  # only what was wrong is written


def test_the_recompute_command_corrects_the_stored_totals(creditor):
    from io import StringIO

    from django.core.management import call_command

    case = open_case(creditor, amounts=("300.00",))
    CollectionCase.objects.filter(pk=case.pk).update(stored_balance=Decimal("7"))

    out = StringIO()
    call_command("recompute_ledger_totals", stdout=out)

    assert stored(case.pk) == (Decimal("300.00"), Decimal("300.00"), Decimal("0.00"))
    assert "corrected" in out.getvalue()
