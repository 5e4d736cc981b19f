"""Oversikt's figures, with exact numbers, and the query bound that keeps them database work."""

import datetime as dt
from decimal import Decimal

import pytest

from collections_cases.dashboard import selectors as sel
from collections_cases.models import CollectionCase, LedgerEntry, Letter, Settlement
from collections_cases.models import PaymentAllocation as Alloc
from tests.dashboard.builders import case, close, entry, letter, payment, settlement
from tests.factories import CreditorFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 15)
Status = CollectionCase.Status
Reason = CollectionCase.CloseReason
D = Decimal


@pytest.fixture
def book():
    """Creditor A's cases (see each line), and creditor B with one paid case of its own."""
    a, b = CreditorFactory(), CreditorFactory()
    # Open: 1000 + 70 fee, 500 paid this month (+ 50 overpaid, held for the debtor) → 570.
    active = case(a, principal="1000.00")
    entry(active, LedgerEntry.Kind.FEE, "70.00")
    payment(
        active,
        paid_on=dt.date(2026, 11, 10),
        parts={Alloc.Component.FEE: "70.00", Alloc.Component.PRINCIPAL: "430.00"},
    )
    payment(active, paid_on=dt.date(2026, 11, 11), parts={Alloc.Component.OVERPAYMENT: "50.00"})
    case(a, principal="2000.00", status=Status.AWAITING_APPROVAL, approval_kind="start")
    case(a, principal="300.00", status=Status.DISPUTED)
    # Closed paid directly in March (30 days after start), started at the inkassovarsel.
    direct = case(a, principal="800.00", created=dt.date(2026, 2, 1))
    entry(direct, LedgerEntry.Kind.DIRECT_PAYMENT, "-800.00", dt.date(2026, 3, 5))
    letter(direct, Letter.Kind.INKASSOVARSEL)
    close(direct, reason=Reason.PAID_DIRECTLY, on=dt.date(2026, 3, 3))
    # Withdrawn, started at the betalingsoppfordring (no letter).
    withdrawn = case(a, principal="100.00", stage="betalingsoppfordring")
    close(withdrawn, reason=Reason.WITHDRAWN, on=dt.date(2026, 5, 1))
    # Paid to the agency last December (20 days), started at the betalingsoppfordring.
    december = case(
        a, principal="1200.00", stage="betalingsoppfordring", created=dt.date(2025, 12, 1)
    )
    letter(december, Letter.Kind.BETALINGSOPPFORDRING)
    payment(december, paid_on=dt.date(2025, 12, 20), parts={Alloc.Component.PRINCIPAL: "1200.00"})
    close(december, reason=Reason.PAID, on=dt.date(2025, 12, 21))
    # Older than 12 months: not in any chart.
    old = case(a, principal="400.00")
    payment(old, paid_on=dt.date(2025, 10, 31), parts={Alloc.Component.PRINCIPAL: "400.00"})
    settlement(a, on=dt.date(2026, 6, 30), payout="900.00")
    settlement(a, on=dt.date(2026, 11, 13), payout="300.00", status=Settlement.PayoutStatus.PENDING)
    settlement(a, on=dt.date(2025, 12, 28), payout="400.00")
    # Creditor B: must never show up in A's figures.
    other = case(b, principal="5000.00")
    payment(other, paid_on=dt.date(2026, 11, 12), parts={Alloc.Component.PRINCIPAL: "5000.00"})
    settlement(b, on=dt.date(2026, 11, 1), payout="4000.00")
    return a, b


def test_totals(book):
    a, _b = book
    totals = sel.dashboard_totals(creditor=a, today=TODAY)
    assert totals.open_cases == 4  # active, awaiting, disputed, the old one (400 − 400 = 0)
    assert totals.outstanding == D("2870.00")  # 570 + 2000 + 300 + 0
    assert totals.collected_month == D("500.00")
    assert totals.collected_year == D("1300.00")  # 500 in November + 800 direct in March
    assert totals.paid_out_year == D("900.00")
    assert totals.paid_out_total == D("1300.00")
    assert totals.pending_payout == D("300.00")
    assert (totals.awaiting_approval, totals.disputed) == (1, 1)


def test_collected_per_month_covers_twelve_months_oldest_first(book):
    a, _b = book
    points = sel.collected_per_month(creditor=a, today=TODAY)
    assert [p.key for p in points][0] == "2025-12-01"
    assert [p.key for p in points][-1] == "2026-11-01"
    values = {p.key: p.value for p in points}
    assert values == {
        **{p.key: D("0.00") for p in points},
        "2025-12-01": D("1200.00"),
        "2026-03-01": D("800.00"),
        "2026-11-01": D("500.00"),
    }


def test_cases_by_status(book):
    a, _b = book
    counts = {p.key: p.value for p in sel.cases_by_status(creditor=a)}
    assert counts == {
        "awaiting_approval": 1,
        "active": 2,
        "paused": 0,
        "disputed": 1,
        "legal": 0,
        "monitoring": 0,
        "closed": 3,
    }


def test_average_days_to_payment_by_month_closed(book):
    a, _b = book
    points = {
        p.key: (p.value, p.extra) for p in sel.average_days_to_payment(creditor=a, today=TODAY)
    }
    assert points["2025-12-01"] == (20.0, 1)
    assert points["2026-03-01"] == (30.0, 1)
    assert points["2026-05-01"] == (None, 0)  # withdrawn is not paid


def test_recovery_rate_by_entry_step(book):
    a, _b = book
    rates = {p.key: (p.value, p.extra) for p in sel.recovery_by_entry_step(creditor=a)}
    assert rates == {"inkassovarsel": (100.0, 1), "betalingsoppfordring": (50.0, 2)}


def test_other_creditor_sees_only_its_own(book):
    _a, b = book
    totals = sel.dashboard_totals(creditor=b, today=TODAY)
    assert (totals.open_cases, totals.outstanding) == (1, D("0.00"))
    assert totals.collected_month == D("5000.00")
    assert totals.paid_out_year == D("4000.00")
    assert sel.recovery_by_entry_step(creditor=b)[0].value is None


def test_totals_side_by_side_in_given_order(book):
    a, b = book
    rows = sel.totals_for_creditors(creditors=[b, a], today=TODAY)
    assert [(r.creditor, r.collected_month) for r in rows] == [(b, D("5000.00")), (a, D("500.00"))]


def test_tasks(book):
    a, _b = book
    case(a, status=Status.AWAITING_APPROVAL, approval_kind="legal", stage="varsel_rettslig")
    case(a, status=Status.AWAITING_APPROVAL, approval_kind="payment_demand")
    nowhere = case(a)
    nowhere.debtor.address_line = ""
    nowhere.debtor.email = ""
    nowhere.debtor.save()
    settlement(
        a, on=dt.date(2026, 11, 14), payout="10.00", voucher_status=Settlement.VoucherStatus.BLOCKED
    )
    tasks = {t.kind: t for t in sel.dashboard_tasks(creditor=a)}
    assert set(tasks) == {
        "approval_start",
        "approval_payment_demand",
        "approval_legal",
        "disputed",
        "debtor_contact",
        "connection_missing",
        "settlement_blocked",
    }
    assert tasks["debtor_contact"].count == 1
    assert tasks["debtor_contact"].items[0].detail == "Mangler postadresse og e-post"
    assert tasks["approval_legal"].items[0].url.endswith("#handlinger")
    assert tasks["disputed"].count == 1
    blocked = Settlement.objects.get(voucher_status=Settlement.VoucherStatus.BLOCKED)
    assert tasks["settlement_blocked"].items[0].url == f"/utbetalinger/{blocked.pk}/"
    assert tasks["settlement_blocked"].url.endswith("#kontosjekk")


def test_no_tasks_when_nothing_waits():
    a = CreditorFactory()
    case(a)
    from integrations.models import PowerOfficeConnection

    connection = PowerOfficeConnection.objects.create(
        creditor=a, client_key="k", client_org_number=a.org_number
    )
    assert sel.dashboard_tasks(creditor=a, connection=connection) == []
    connection.last_error = "PowerOffice Go har for mange forespørsler akkurat nå."
    assert [t.kind for t in sel.dashboard_tasks(creditor=a, connection=connection)] == [
        "connection_error"
    ]
