"""The settlement run: arithmetic, exactly-once, schedule, posting lines, statement."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from collections_cases.models import (
    CaseEvent,
    LedgerEntry,
    PaymentAllocation,
    Settlement,
    SettlementInvoicePart,
)
from collections_cases.payments import services as payments
from collections_cases.settlements import services
from collections_cases.settlements.vouchers import lines_balance
from creditors.models import Creditor
from tests.collections_cases.factories import LedgerEntryFactory
from tests.collections_cases.factories_pages import open_case
from tests.collections_cases.test_documents import keep, pdf_text
from tests.factories import CreditorFactory

pytestmark = pytest.mark.django_db

Kind = LedgerEntry.Kind
PAID = dt.date(2026, 11, 20)  # Friday
SETTLE = dt.date(2026, 11, 27)  # Friday, the default weekly settlement day


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SETTLEMENT_WEEKDAY = 4


def owing(creditor, amounts=("1000.00",), fee="0", salaer="0", interest="0"):
    """A case owing exactly these amounts: the interest is booked here by hand, so the debtor
    is exempt from the interest a payment would otherwise accrue up to its day first."""
    case = open_case(creditor, amounts=amounts)
    case.debtor.do_not_add_late_payment_interest = True
    case.debtor.save(update_fields=["do_not_add_late_payment_interest"])
    for kind, amount in ((Kind.FEE, fee), (Kind.SALAER, salaer), (Kind.INTEREST, interest)):
        if Decimal(amount) > 0:
            LedgerEntryFactory(case=case, kind=kind, amount=Decimal(amount))
    return case


def pay(case, amount, *, on=PAID, ref=None):
    return payments.payment_register(
        amount=Decimal(amount),
        paid_on=on,
        external_reference=ref or f"test-{case.pk}-{amount}-{on}",
        case=case,
    )


def creditor_with(**settings):
    defaults = {"bank_account": "15036123459"}
    return CreditorFactory(**{**defaults, **settings})


# --- arithmetic ------------------------------------------------------------------------------


def test_vat_registered_creditor_without_commission_pays_vat_on_salaer():
    creditor = creditor_with(vat_registered=True)
    case = owing(creditor, fee="70.00", salaer="525.00", interest="40.00")
    pay(case, "1635.00")  # everything: 70 + 525 + 40 + 1000

    settlement, created = services.settle_creditor(creditor_id=creditor.pk, on=SETTLE)

    assert created
    assert settlement.collected == Decimal("1635.00")
    assert settlement.principal == Decimal("1000.00")
    assert (settlement.fees, settlement.salaer) == (Decimal("70.00"), Decimal("525.00"))
    assert settlement.interest == Decimal("40.00")
    assert settlement.interest_to_creditor == Decimal("0.00")  # default: the agency keeps it
    assert settlement.commission == Decimal("0.00")
    assert settlement.vat == Decimal("131.25")  # 25 % of 525.00
    assert settlement.payout == Decimal("868.75")  # 1000 - 131.25
    assert settlement.agency_keeps == Decimal("766.25")
    assert settlement.collected == settlement.payout + settlement.agency_keeps


def test_vat_registered_creditor_with_commission_and_interest():
    creditor = creditor_with(
        vat_registered=True,
        interest_to=Creditor.InterestTo.CREDITOR,
        success_commission_percent=Decimal("10"),
        success_commission_min_days_overdue=20,  # open_case invoices are 30 days overdue
    )
    case = owing(creditor, amounts=("1000.00", "234.50"), salaer="525.00", interest="12.34")
    pay(case, "1771.84")

    settlement, _ = services.settle_creditor(creditor_id=creditor.pk, on=SETTLE)

    line = settlement.lines.get()
    assert line.days_overdue == 30
    assert settlement.principal == Decimal("1234.50")
    assert settlement.interest_to_creditor == Decimal("12.34")
    assert settlement.commission == Decimal("123.45")  # 10 % of 1234.50
    assert settlement.vat == Decimal("162.11")  # 25 % of (525.00 + 123.45) = 162.1125
    assert settlement.payout == Decimal("961.28")  # 1234.50 + 12.34 - 123.45 - 162.11


def test_commission_only_for_invoices_overdue_longer_than_the_limit():
    creditor = creditor_with(
        vat_registered=True,
        success_commission_percent=Decimal("10"),
        success_commission_min_days_overdue=90,
    )
    case = owing(creditor)
    pay(case, "1000.00")

    settlement, _ = services.settle_creditor(creditor_id=creditor.pk, on=SETTLE)

    assert settlement.commission == Decimal("0.00")
    assert settlement.payout == Decimal("1000.00")


@pytest.mark.parametrize(
    ("min_days", "commission"),
    [(29, Decimal("100.00")), (30, Decimal("0.00")), (31, Decimal("0.00"))],
)
def test_commission_only_when_overdue_more_than_the_limit_not_at_it(min_days, commission):
    """«More than N days»: an invoice exactly N days overdue earns no commission."""
    creditor = creditor_with(
        vat_registered=False,
        success_commission_percent=Decimal("10"),
        success_commission_min_days_overdue=min_days,
    )
    case = owing(creditor)  # its invoice was 30 days overdue when the case was registered
    pay(case, "1000.00")

    settlement, _ = services.settle_creditor(creditor_id=creditor.pk, on=SETTLE)

    line = settlement.lines.get()
    assert line.days_overdue == 30
    assert (line.commission, settlement.commission) == (commission, commission)
    assert settlement.payout == Decimal("1000.00") - commission


def test_the_commission_boundary_in_the_pure_arithmetic():
    def commission(days_overdue, min_days):
        return services.line_amounts(
            services.CaseAmounts(principal=Decimal("500.00"), days_overdue=days_overdue),
            interest_to_creditor=False,
            vat_registered=False,
            commission_percent=Decimal("10"),
            commission_min_days=min_days,
        )["commission"]

    assert commission(14, 14) == Decimal("0.00")
    assert commission(15, 14) == Decimal("50.00")
    assert commission(0, 0) == Decimal("0.00")
    assert commission(1, 0) == Decimal("50.00")


def test_not_vat_registered_creditor_pays_no_vat_and_commission_is_gross():
    creditor = creditor_with(
        vat_registered=False,
        success_commission_percent=Decimal("10"),
        success_commission_min_days_overdue=0,
    )
    case = owing(creditor, salaer="656.25")
    pay(case, "1656.25")

    settlement, _ = services.settle_creditor(creditor_id=creditor.pk, on=SETTLE)

    assert settlement.vat == Decimal("0.00")
    assert settlement.commission == Decimal("100.00")
    assert settlement.payout == Decimal("900.00")


def test_totals_are_the_sums_of_the_case_lines():
    creditor = creditor_with(vat_registered=True)
    cases = [owing(creditor, salaer="175.00"), owing(creditor, amounts=("333.33",), salaer="1.01")]
    pay(cases[0], "1175.00")
    pay(cases[1], "334.34")

    settlement, _ = services.settle_creditor(creditor_id=creditor.pk, on=SETTLE)

    lines = list(settlement.lines.all())
    assert len(lines) == 2
    for name in services.MONEY_FIELDS:
        assert getattr(settlement, name) == sum(getattr(line, name) for line in lines), name
    assert settlement.vat == Decimal("43.75") + Decimal("0.25")  # rounded per case


# --- what is settled, exactly once -----------------------------------------------------------


def test_overpayment_is_not_paid_to_the_creditor():
    creditor = creditor_with(vat_registered=False)
    case = owing(creditor)
    pay(case, "1200.00")

    settlement, _ = services.settle_creditor(creditor_id=creditor.pk, on=SETTLE)

    assert settlement.collected == Decimal("1000.00")
    overpayment = PaymentAllocation.objects.get(component="overpayment")
    assert overpayment.settlement_line is None


def test_a_second_run_makes_nothing_new_and_later_money_goes_in_the_next_settlement():
    creditor = creditor_with(vat_registered=False)
    case = owing(creditor, amounts=("3000.00",))
    pay(case, "1000.00")

    first = services.settle(on=SETTLE)
    again = services.settle(on=SETTLE)

    assert len(first.created) == 1 and again.created == []
    assert Settlement.objects.count() == 1
    assert not PaymentAllocation.objects.filter(settlement_line__isnull=True).exists()

    pay(case, "500.00", on=dt.date(2026, 11, 30))
    services.settle(on=dt.date(2026, 12, 4))
    second = Settlement.objects.get(settled_on=dt.date(2026, 12, 4))
    assert second.principal == Decimal("500.00")
    assert second.period_start == dt.date(2026, 11, 28)
    assert Settlement.objects.count() == 2


def test_payments_after_the_settlement_date_wait():
    creditor = creditor_with(vat_registered=False)
    case = owing(creditor)
    pay(case, "400.00", on=SETTLE + dt.timedelta(days=1))

    report = services.settle(on=SETTLE, creditor_ids=[creditor.pk])

    assert report.created == [] and creditor.pk in report.skipped
    assert not Settlement.objects.exists()


def test_nothing_is_settled_when_vat_exceeds_what_the_creditor_gets():
    creditor = creditor_with(vat_registered=True)
    case = owing(creditor, salaer="525.00")
    pay(case, "525.00")  # only the salær: VAT 131.25 and no principal

    report = services.settle(on=SETTLE, creditor_ids=[creditor.pk])

    assert "neste oppgjør" in report.skipped[creditor.pk]
    assert not Settlement.objects.exists()
    pay(case, "1000.00", ref="second")
    services.settle(on=SETTLE, creditor_ids=[creditor.pk])
    assert Settlement.objects.get().payout == Decimal("868.75")


def test_the_principal_is_split_over_the_invoices_oldest_first():
    creditor = creditor_with(vat_registered=False)
    case = owing(creditor, amounts=("600.00", "500.00"))
    first, second = case.invoices.order_by("invoice_no")
    pay(case, "700.00")

    settlement, _ = services.settle_creditor(creditor_id=creditor.pk, on=SETTLE)

    parts = {
        p.invoice_id: p.amount
        for p in SettlementInvoicePart.objects.filter(line__settlement=settlement)
    }
    assert sum(parts.values()) == Decimal("700.00")
    assert len(parts) == 2 and max(parts.values()) == Decimal("600.00")


def test_each_settled_case_gets_an_event():
    creditor = creditor_with(vat_registered=False)
    case = owing(creditor)
    pay(case, "1000.00")

    settlement, _ = services.settle_creditor(creditor_id=creditor.pk, on=SETTLE)

    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.SETTLEMENT)
    assert settlement.number in event.message
    assert event.data["payout"] == "1000.00"


# --- schedule --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "last", "on", "due"),
    [
        ("daily", None, dt.date(2026, 11, 25), True),
        ("daily", None, dt.date(2026, 11, 28), False),  # Saturday
        ("weekly", None, dt.date(2026, 11, 25), True),  # never settled: at once
        ("weekly", dt.date(2026, 11, 20), dt.date(2026, 11, 26), False),  # Thursday
        ("weekly", dt.date(2026, 11, 20), dt.date(2026, 11, 27), True),  # Friday
        ("weekly", dt.date(2026, 11, 27), dt.date(2026, 11, 30), False),  # Monday after
        ("weekly", dt.date(2026, 3, 27), dt.date(2026, 4, 6), False),  # Easter Monday
        ("weekly", dt.date(2026, 3, 27), dt.date(2026, 4, 7), True),  # Good Friday → Tuesday
        ("weekly", dt.date(2026, 4, 7), dt.date(2026, 4, 8), False),  # not twice that week
    ],
)
def test_settlement_is_due(frequency, last, on, due):
    assert services.settlement_is_due(frequency=frequency, last_settled_on=last, on=on) is due


def test_the_run_takes_only_due_creditors():
    weekly = creditor_with(vat_registered=False)
    daily = creditor_with(vat_registered=False, settlement_frequency="daily")
    for creditor in (weekly, daily):
        pay(owing(creditor), "1000.00")
    Settlement.objects.create(
        creditor=weekly,
        settled_on=dt.date(2026, 11, 20),
        period_start=dt.date(2026, 11, 20),
        period_end=dt.date(2026, 11, 20),
        bookkeeping_mode="none",
        vat_registered=False,
        interest_to="agency",
        vat_percent=Decimal("25"),
        **{name: Decimal("1.00") for name in services.MONEY_FIELDS},
    )

    report = services.settle(on=dt.date(2026, 11, 24))  # Tuesday

    assert [Settlement.objects.get(pk=pk).creditor for pk in report.created] == [daily]


# --- posting lines and statement -------------------------------------------------------------


def test_posting_lines_balance_and_use_the_mapping():
    creditor = creditor_with(
        vat_registered=True,
        interest_to=Creditor.InterestTo.CREDITOR,
        success_commission_percent=Decimal("10"),
        success_commission_min_days_overdue=0,
        account_bank=1921,
        account_receivables=1501,
        account_collection_cost=7771,
        account_input_vat=2711,
        account_interest_income=8051,
    )
    case = owing(creditor, amounts=("800.00", "200.00"), salaer="525.00", interest="10.00")
    pay(case, "1535.00")

    settlement, _ = services.settle_creditor(creditor_id=creditor.pk, on=SETTLE)

    lines = settlement.voucher_lines
    debits, credits = lines_balance(lines)
    assert debits == credits == Decimal("1010.00")
    by_account = {}
    for line in lines:
        by_account.setdefault((line["side"], line["account_no"]), []).append(line)
    assert Decimal(by_account[("debit", 1921)][0]["amount"]) == settlement.payout
    receivables = by_account[("credit", 1501)]
    assert sorted(Decimal(x["amount"]) for x in receivables) == [
        Decimal("200.00"),
        Decimal("800.00"),
    ]
    assert {x["invoice_no"] for x in receivables} == {
        str(i.invoice_no) for i in case.invoices.all()
    }
    assert all(x["debtor_id"] == case.debtor_id for x in receivables)
    assert Decimal(by_account[("credit", 8051)][0]["amount"]) == Decimal("10.00")
    assert Decimal(by_account[("debit", 7771)][0]["amount"]) == Decimal("100.00")
    assert Decimal(by_account[("debit", 2711)][0]["amount"]) == Decimal("156.25")


def test_none_mode_is_manual_and_others_wait_for_the_voucher():
    manual = creditor_with(vat_registered=False, bookkeeping_mode="none")
    unposted = creditor_with(vat_registered=False)
    for creditor in (manual, unposted):
        pay(owing(creditor), "1000.00")

    services.settle(on=SETTLE)

    assert Settlement.objects.get(creditor=manual).voucher_status == "manual"
    assert Settlement.objects.get(creditor=unposted).voucher_status == "pending"


def test_the_statement_shows_cases_deductions_payout_and_postings():
    creditor = creditor_with(
        vat_registered=True,
        success_commission_percent=Decimal("10"),
        success_commission_min_days_overdue=0,
        bookkeeping_mode="none",
    )
    case = owing(creditor, fee="70.00", salaer="525.00", interest="40.00")
    pay(case, "1635.00")

    report = services.settle(on=SETTLE)

    settlement = Settlement.objects.get(pk=report.created[0])
    assert report.statements_rendered == 1
    data = settlement.statement_pdf.read()
    keep("settlement_statement.pdf", data)
    text = pdf_text(data)
    assert "Oppgjørsoppstilling" in text and settlement.number in text
    assert creditor.name in text and case.number in text
    compact = text.replace(" ", "")
    # collected, principal, interest, fee + salær, commission, VAT, payout
    assert "1635,001000,0040,00595,00100,00156,25743,75" in compact
    assert "Utbetales til deg kr 743,75" in text
    assert "1503 61 23459" in text
    assert "Før disse linjene i regnskapet" in text
    assert "1920" in text and "7770" in text and "2710" in text


def test_statements_missing_after_a_crash_are_rendered_by_the_next_run():
    creditor = creditor_with(vat_registered=False)
    pay(owing(creditor), "1000.00")
    settlement, _ = services.settle_creditor(creditor_id=creditor.pk, on=SETTLE)
    assert not settlement.statement_pdf

    report = services.settle(on=SETTLE)

    settlement.refresh_from_db()
    assert report.statements_rendered == 1 and settlement.statement_pdf


# --- command ---------------------------------------------------------------------------------


def test_settle_command_for_one_creditor():
    creditor = creditor_with(vat_registered=False, name="Fjordkaffe Demo AS")
    pay(owing(creditor), "1000.00")
    out = StringIO()

    call_command("settle", date="2026-11-25", creditor=[creditor.org_number], stdout=out)

    assert "1 new" in out.getvalue() and "Fjordkaffe Demo AS: payout 1000.00" in out.getvalue()


def test_settle_command_refuses_bad_input():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("settle", date="27.11.2026")
    with pytest.raises(CommandError, match="No creditor"):
        call_command("settle", creditor=["999999999"])


# --- the Celery task: statements fanned out, one task each -----------------------------------


def test_settle_task_settles_then_renders_each_statement_in_its_own_task(monkeypatch):
    from collections_cases.settlements import tasks

    first, second = creditor_with(vat_registered=False), creditor_with(vat_registered=False)
    pay(owing(first), "1000.00")
    pay(owing(second), "500.00")
    queued = []
    original = tasks.settlement_statement_task.delay
    monkeypatch.setattr(
        tasks.settlement_statement_task,
        "delay",
        lambda settlement_id: queued.append(settlement_id) or original(settlement_id),
    )

    result = tasks.settle_task.delay(SETTLE.isoformat()).get()

    settlements = Settlement.objects.filter(creditor__in=[first, second])
    assert result["created"] == 2 and result["statements_rendered"] == 0
    assert result["statements_queued"] == 2
    assert sorted(queued) == sorted(settlements.values_list("pk", flat=True))
    assert all(settlement.statement_pdf for settlement in settlements)


def test_settle_without_rendering_leaves_the_statements_for_the_tasks():
    creditor = creditor_with(vat_registered=False)
    pay(owing(creditor), "1000.00")

    report = services.settle(on=SETTLE, render_statements=False)

    settlement = Settlement.objects.get(pk=report.created[0])
    assert report.statements_rendered == 0 and not settlement.statement_pdf
    assert services.statements_missing_ids() == [settlement.pk]
