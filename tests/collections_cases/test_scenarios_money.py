"""Whole cases walked through time (reference §§ 1–5, 4b): part payments before and after the
inkassovarsel's deadline, credit notes mid-case, a deadline on 24 December, the end of the
rate table — each asserting the ledger to the øre and the letters sent.

Every scenario moves the clock with ``time_machine`` (``on_day``) and takes each step the way
production does: the dunning run on its day, payments registered on the day they arrive.
"""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collections_cases import rules
from collections_cases.cases.credit_notes import case_register_credit_note
from collections_cases.cases.selectors import (
    case_amounts,
    case_balance,
    case_principal_outstanding,
)
from collections_cases.models import LedgerEntry, Letter, Payment, PaymentAllocation
from collections_cases.payments.services import payment_register
from tests.collections_cases.dunning_support import on_day, open_case, run

pytestmark = pytest.mark.django_db

D = dt.date
M = Decimal
K = LedgerEntry.Kind


def ledger(case, *, exclude_principal=True) -> list[tuple]:
    entries = LedgerEntry.objects.filter(case=case).order_by("booked_on", "id")
    if exclude_principal:
        entries = entries.exclude(kind=K.PRINCIPAL)
    return [(e.booked_on, e.kind, e.amount) for e in entries]


def sent(case) -> list[tuple]:
    return [
        (letter.kind, letter.sent_on, letter.deadline, letter.fee)
        for letter in Letter.objects.filter(case=case).order_by("sent_on", "id")
    ]


def pay(case, amount: str, day: dt.date, *, ref: str | None = None) -> Payment:
    with on_day(day, hour=12):
        return payment_register(
            amount=M(amount),
            paid_on=day,
            external_reference=ref or f"bank-{case.pk}-{day.isoformat()}-{amount}",
            case=case,
        )


def split(payment: Payment) -> dict[str, Decimal]:
    return {
        a.component: a.amount
        for a in PaymentAllocation.objects.filter(payment=payment).order_by("id")
    }


# --------------------------------------------------------------------------------------------
# The worked example of reference § 4b, and what follows it
# --------------------------------------------------------------------------------------------


def test_worked_example_part_payment_before_the_iv_deadline_consumer():
    """Consumer invoice 5 000.00 due 01.06.2026; IV 16.06 (37.50); 2 000.00 paid 25.06."""
    case = open_case(opened_on=D(2026, 6, 16), due=D(2026, 6, 1), amount="5000.00")
    run(D(2026, 6, 16))
    assert sent(case) == [(Letter.Kind.INKASSOVARSEL, D(2026, 6, 16), D(2026, 6, 30), M("37.50"))]

    payment = pay(case, "2000.00", D(2026, 6, 25))

    # interest 02.06–25.06 = 24 days × 12.00 % = 39.45 covered first (after the fee)
    assert split(payment) == {"fee": M("37.50"), "interest": M("39.45"), "principal": M("1923.05")}
    assert case_principal_outstanding(case) == M("3076.95")
    case.refresh_from_db()
    # a part-payment interrupts the limitation period: three new years from it
    assert case.limitation_date == D(2029, 6, 25)
    assert case.next_action_date == D(2026, 7, 3)  # 30.06 + 3 banking days

    run(D(2026, 7, 3))

    # the BO's interest runs on 3 076.95 from 26.06: 5 days at 12.00 % + 3 days at 12.25 %
    # (5.058 + 3.098), not on 5 000 (which would be 28.05 more)
    assert ledger(case) == [
        (D(2026, 6, 16), K.INTEREST, M("24.66")),
        (D(2026, 6, 16), K.FEE, M("37.50")),
        (D(2026, 6, 25), K.INTEREST, M("14.79")),
        (D(2026, 6, 25), K.PAYMENT, M("-37.50")),
        (D(2026, 6, 25), K.PAYMENT, M("-39.45")),
        (D(2026, 6, 25), K.PAYMENT, M("-1923.05")),
        (D(2026, 7, 3), K.INTEREST, M("8.16")),
        # salær banded by the principal outstanding (≤ 10 000: 0.80 × 750), consumer
        (D(2026, 7, 3), K.SALAER, M("600.00")),
    ]
    bo = Letter.objects.get(case=case, kind=Letter.Kind.BETALINGSOPPFORDRING)
    assert bo.amounts["principal"] == "3076.95"
    assert case_balance(case) == M("3076.95") + M("8.16") + M("600.00")


def test_worked_example_business_debtor_salaer_times_one_and_a_half():
    case = open_case(opened_on=D(2026, 6, 16), due=D(2026, 6, 1), amount="5000.00", is_person=False)
    run(D(2026, 6, 16))
    pay(case, "2000.00", D(2026, 6, 25))
    run(D(2026, 7, 3))

    salaer = LedgerEntry.objects.get(case=case, kind=K.SALAER)
    assert salaer.amount == M("900.00")  # 600 × 1.5
    assert case_principal_outstanding(case) == M("3076.95")


def test_paying_the_invoice_amount_within_the_iv_deadline_gets_a_statement_not_a_bo():
    """1 000.00 due 01.06, IV 16.06 (37.50 + 24 days' interest), 1 000.00 paid 25.06: the
    costs and interest come first, 45.39 of the principal is left. The debtor gets a plain
    statement first (no cost), and only after its deadline a BO with salær banded by 45.39."""
    case = open_case(opened_on=D(2026, 6, 16), due=D(2026, 6, 1), amount="1000.00")
    run(D(2026, 6, 16))

    payment = pay(case, "1000.00", D(2026, 6, 25))

    assert split(payment) == {"fee": M("37.50"), "interest": M("7.89"), "principal": M("954.61")}
    assert case_principal_outstanding(case) == M("45.39")
    statement = Letter.objects.get(case=case, kind=Letter.Kind.REMAINDER_STATEMENT)
    assert statement.fee == M("0")
    assert statement.sent_on == D(2026, 6, 25)
    case.refresh_from_db()
    # the BO waits for the statement's deadline (+ 3 banking days)
    assert case.next_action_date > statement.deadline

    run(D(2026, 7, 3))  # the IV's grace day: nothing, the statement's deadline runs
    assert not Letter.objects.filter(case=case, kind=Letter.Kind.BETALINGSOPPFORDRING).exists()
    assert not LedgerEntry.objects.filter(case=case, kind=K.SALAER).exists()

    run(case.next_action_date)
    salaer = LedgerEntry.objects.get(case=case, kind=K.SALAER)
    assert salaer.amount == M("187.50")  # band ≤ 500: 0.25 × 750, not 262.50 (band ≤ 1 000)


def test_part_payment_after_the_bo_lowers_the_base_and_the_tungt_salaer_band():
    case = open_case(opened_on=D(2026, 3, 2), due=D(2026, 2, 13), amount="20000.00")
    run(D(2026, 3, 2))  # IV, deadline 16.03
    run(D(2026, 3, 19))  # BO (16.03 + 3 banking days), salær 1 200 (≤ 50 000: 1.60 × 750)
    assert LedgerEntry.objects.get(case=case, kind=K.SALAER).amount == M("1200.00")

    payment = pay(case, "15000.00", D(2026, 4, 10))
    parts = split(payment)
    assert parts["fee"] == M("37.50") and parts["salaer"] == M("1200.00")
    principal = case_principal_outstanding(case)
    assert principal == M("20000.00") - parts["principal"]
    assert principal < M("10000")

    case.refresh_from_db()
    run(case.next_action_date)  # varsel om rettslig inndriving with tungt salær

    salaer = list(LedgerEntry.objects.filter(case=case, kind=K.SALAER).order_by("id"))
    # tungt salær for the band of the principal outstanding (≤ 10 000: 2 × 600 = 1 200)
    # less the lett salær already booked (1 200): nothing more is added
    assert [e.amount for e in salaer] == [M("1200.00")]
    varsel = Letter.objects.get(case=case, kind=Letter.Kind.VARSEL_RETTSLIG)
    assert varsel.amounts["principal"] == str(principal)
    # the interest booked up to the varsel is the day-by-day interest on what was owed:
    # 20 000 up to 10.04, the principal outstanding after it
    booked = sum(
        (e.amount for e in LedgerEntry.objects.filter(case=case, kind=K.INTEREST)), start=M(0)
    )
    assert booked == rules.late_interest(
        principal=M("20000"),
        due_date=D(2026, 2, 13),
        until=varsel.sent_on,
        reductions=[(D(2026, 4, 10), parts["principal"])],
    )
    assert booked < rules.late_interest(
        principal=M("20000"), due_date=D(2026, 2, 13), until=varsel.sent_on
    )


def test_credit_note_mid_case_lowers_the_base_from_its_date():
    case = open_case(opened_on=D(2026, 3, 2), due=D(2026, 2, 13), amount="10000.00")
    run(D(2026, 3, 2))  # IV: interest 14.02–02.03 (17 days × 12 % on 10 000) = 55.89
    with on_day(D(2026, 3, 9), hour=12):
        case_register_credit_note(
            case=case, actor=None, amount=M("4000"), credited_on=D(2026, 3, 9)
        )
    run(D(2026, 3, 19))  # BO

    interest = [
        e.amount
        for e in LedgerEntry.objects.filter(case=case, kind=K.INTEREST).order_by("booked_on")
    ]
    # 03.03–09.03 (7 days) on 10 000, 10.03–19.03 (10 days) on 6 000, at 12.00 %:
    # 23.013… + 19.726… ; total since due (55.890… + 42.739…) = 98.63, 55.89 booked before
    assert interest == [M("55.89"), M("42.74")]
    # salær banded by 6 000 (≤ 10 000: 600), not 10 000
    assert LedgerEntry.objects.get(case=case, kind=K.SALAER).amount == M("600.00")


def test_a_payment_known_after_a_letter_corrects_the_interest_booked_past_its_day():
    """The bank file arrives after the BO was sent, with a value date before it: the payment
    covers only the interest up to its own day, and the interest booked for the later days
    on the old base is corrected."""
    case = open_case(opened_on=D(2026, 3, 2), due=D(2026, 2, 13), amount="10000.00")
    run(D(2026, 3, 2))
    run(D(2026, 3, 19))  # BO: interest up to 19.03 on 10 000

    payment = pay(case, "5000.00", D(2026, 3, 16))  # paid on the IV deadline, known 16.03…

    parts = split(payment)
    # interest 14.02–16.03 (31 days × 12 % on 10 000) = 101.92; fee and salær first
    assert parts["interest"] == M("101.92")
    assert parts["principal"] == M("5000.00") - M("37.50") - M("600.00") - M("101.92")
    correction = LedgerEntry.objects.get(case=case, kind=K.INTEREST_CORRECTION)
    # 17.03–19.03 (3 days): 9.86 booked on 10 000; on 5 739.42 it is 5.66
    assert correction.amount == M("-4.20")
    assert case_amounts(case)["principal_outstanding"] == M("5739.42")


def test_payment_on_a_deadline_that_falls_on_christmas_eve():
    """IV sent 10.12.2026: 24.12 is no banking day, so the deadline is Monday 28.12, and the
    BO waits 3 banking days after it (29, 30.12, 04.01 — 31.12 and 01.01 are closed). The
    debtor who pays on 28.12 owes nothing more and gets no BO."""
    case = open_case(opened_on=D(2026, 12, 10), due=D(2026, 11, 20), amount="3000.00")
    run(D(2026, 12, 10))
    iv = Letter.objects.get(case=case)
    assert iv.deadline == D(2026, 12, 28)
    case.refresh_from_db()
    assert case.next_action_date == D(2027, 1, 4)

    owed = case_balance(case)
    # interest 11.12–28.12 on 3 000 at 12.25 %: 18 days
    interest_to_deadline = M("18.12")
    pay(case, str(owed + interest_to_deadline), D(2026, 12, 28))

    case.refresh_from_db()
    assert case_balance(case) == 0
    assert case.status == case.Status.CLOSED
    run(D(2027, 1, 4))
    assert [letter[0] for letter in sent(case)] == [Letter.Kind.INKASSOVARSEL]


def test_a_run_past_the_rate_table_holds_the_step_with_its_reason():
    """2027-01-04: no forsinkelsesrente (or inkassosats) for 2027 yet. The BO due that day is
    held — no letter, no cost — and counted as held with the reason; it is sent by the first
    run after the new rows exist."""
    case = open_case(opened_on=D(2026, 12, 10), due=D(2026, 11, 20), amount="3000.00")
    run(D(2026, 12, 10))
    entries_before = ledger(case)

    result = run(D(2027, 1, 4))

    assert result.steps == {"held_rule_unknown": 1}
    assert result.processed == 0
    assert [(case_id, "forsinkelsesrente" in reason) for case_id, reason in result.held] == [
        (case.pk, True)
    ]
    assert ledger(case) == entries_before
    assert Letter.objects.filter(case=case).count() == 1
    case.refresh_from_db()
    assert case.next_action == case.NextAction.SEND_BETALINGSOPPFORDRING
    assert case.next_action_date == D(2027, 1, 4)  # still due: taken again later


# --------------------------------------------------------------------------------------------
# Property: any sequence of payments
# --------------------------------------------------------------------------------------------

payment_days = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=120),  # days after the IV
        st.decimals(min_value=M("1.00"), max_value=M("4000.00"), places=2),
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payments=payment_days)
def test_any_sequence_of_payments_allocates_exactly_what_was_paid(payments):
    """For any payments (in any order of days): every øre paid is allocated (costs, interest,
    principal or overpayment), and the interest booked never exceeds the interest of the
    principal still outstanding day by day."""
    from collections_cases import rules
    from collections_cases.ledger.interest import case_interest_facts

    iv_day = D(2026, 3, 2)
    case = open_case(opened_on=iv_day, due=D(2026, 2, 13), amount="5000.00")
    run(iv_day)
    paid = M("0")
    for i, (offset, amount) in enumerate(sorted(payments)):
        day = iv_day + dt.timedelta(days=offset)
        case.refresh_from_db()
        if case.next_action_date and case.next_action_date <= day and case.is_open:
            run(case.next_action_date)
        pay(case, str(amount), day, ref=f"prop-{case.pk}-{i}")
        paid += amount

    allocated = sum((a.amount for a in PaymentAllocation.objects.filter(case=case)), start=M("0"))
    assert allocated == paid
    assert (
        sum((e.amount for e in LedgerEntry.objects.filter(case=case, kind=K.PAYMENT)), start=M("0"))
        == -paid
    )
    # the interest booked equals the day-by-day interest on the principal still outstanding
    # up to the last accrual (rounded once), never the original principal's
    for facts in case_interest_facts(case):
        if facts.last_booked_on is None:
            continue
        expected = rules.late_interest(
            principal=facts.principal,
            due_date=facts.invoice.due_date,
            until=facts.last_booked_on,
            reductions=facts.reductions,
        )
        assert facts.booked == expected


# --------------------------------------------------------------------------------------------
# A reversal after settlement; a claim whose limitation passes mid-case
# --------------------------------------------------------------------------------------------


def test_a_reversal_after_settlement_reopens_the_case_and_claims_the_payout_back():
    """Paid in full by KID on 25.06 (closed), settled on Friday 26.06, reversed by the bank on
    29.06: the case reopens with every component owed again, interest runs on the whole
    principal again from the payment day, the creditor's share becomes a claim against the next
    payout, and dunning goes on (the BO after the IV deadline's grace)."""
    from collections_cases.models import CollectionCase, SettlementClaim
    from collections_cases.payments.imports import payments_import_file
    from collections_cases.settlements import services as settlements
    from tests.collections_cases.bankfiles_support import Entry, Tx, camt, payment_entry

    case = open_case(opened_on=D(2026, 6, 16), due=D(2026, 6, 1), amount="5000.00")
    case.creditor.bank_account = "15036123459"
    case.creditor.save(update_fields=["bank_account"])
    run(D(2026, 6, 16))
    # fee 37.50 + interest to 25.06 (39.45) + principal
    owed = M("5000.00") + M("37.50") + M("39.45")
    with on_day(D(2026, 6, 25), hour=12):
        payments_import_file(
            content=camt(
                payment_entry(str(owed), case.kid, "P-1", e2e="E2E-1", day=D(2026, 6, 25))
            ),
            file_name="in.xml",
        )
    case.refresh_from_db()
    assert (case.status, case_balance(case)) == (CollectionCase.Status.CLOSED, M("0.00"))
    with on_day(D(2026, 6, 26), hour=7):
        settled, _ = settlements.settle_creditor(creditor_id=case.creditor_id, on=D(2026, 6, 26))
    assert settled.principal == M("5000.00")

    with on_day(D(2026, 6, 29), hour=12):
        payments_import_file(
            content=camt(
                Entry(
                    str(owed),
                    [Tx(str(owed), kid=case.kid, ref="R-1", e2e="E2E-1")],
                    indicator="DBIT",
                    reversal=True,
                    day=D(2026, 6, 29),
                )
            ),
            file_name="reversal.xml",
        )

    case.refresh_from_db()
    assert case.is_open
    assert case_balance(case) == owed
    assert case_principal_outstanding(case) == M("5000.00")
    claim = SettlementClaim.objects.get()
    assert claim.amount == settled.payout
    assert claim.deducted_in is None

    run(D(2026, 7, 3))  # the IV's deadline 30.06 + 3 banking days
    # interest on the whole 5 000 again after the payment day: 02.06–03.07 is 29 days at
    # 12.00 % and 3 at 12.25 % = 52.705… → 52.71 in all, 39.45 booked before
    assert ledger(case)[-2:] == [
        (D(2026, 7, 3), K.INTEREST, M("13.26")),
        (D(2026, 7, 3), K.SALAER, M("600.00")),
    ]
    assert [letter[0] for letter in sent(case)] == [
        Letter.Kind.INKASSOVARSEL,
        Letter.Kind.BETALINGSOPPFORDRING,
    ]


def test_a_claim_whose_limitation_passes_mid_case_stops_before_the_next_step():
    """Due 20.11.2023, registered 01.10.2026: time-barred on 20.11.2026 unless interrupted. IV
    and BO go out; the varsel due 02.12.2026 is never sent — the case is held for a case
    handler with the reason, no letter, no salær."""
    case = open_case(opened_on=D(2026, 10, 1), due=D(2023, 11, 20), amount="8000.00")
    case.refresh_from_db()
    assert case.limitation_date == D(2026, 11, 20)
    run(D(2026, 10, 1))
    case.refresh_from_db()
    run(case.next_action_date)
    assert [letter[0] for letter in sent(case)] == [
        Letter.Kind.INKASSOVARSEL,
        Letter.Kind.BETALINGSOPPFORDRING,
    ]
    case.refresh_from_db()
    varsel_day = case.next_action_date
    assert varsel_day > case.limitation_date
    entries = ledger(case)

    result = run(varsel_day)

    assert result.steps == {"held_time_barred": 1}
    case.refresh_from_db()
    assert case.status == case.Status.PAUSED
    assert "foreldet" in case.pause_reason
    assert ledger(case) == entries
    assert not Letter.objects.filter(case=case, kind=Letter.Kind.VARSEL_RETTSLIG).exists()
    assert run(varsel_day + dt.timedelta(days=30)).processed == 0
