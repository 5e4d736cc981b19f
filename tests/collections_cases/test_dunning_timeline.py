"""The dunning timeline day by day, from the invoice's due date to the request for the
creditor's approval of legal steps: letters, deadlines, fees, salær, interest and next actions.

Every run is made twice on the same date; the second changes nothing. Expected amounts are
worked out by hand from the reference (``shared/reference/norwegian-collection-rules.md``)."""

import datetime as dt
from decimal import Decimal

import pytest

from collections_cases.cases.selectors import case_balance
from collections_cases.models import CollectionCase, LedgerEntry, Letter
from tests.collections_cases.dunning_support import costs, letters, open_case, run, snapshot

pytestmark = pytest.mark.django_db

Status = CollectionCase.Status
NextAction = CollectionCase.NextAction
Kind = Letter.Kind
L = LedgerEntry.Kind
D = dt.date


def run_daily(case, start: dt.date, until: dt.date):
    """Run every day from ``start`` to ``until`` (twice a day); return what changed when."""
    changes = []
    day = start
    while day <= until:
        before = snapshot(case)
        first = run(day)
        after = snapshot(case)
        second = run(day)
        assert second.processed == 0 and second.skipped == 0 and not second.errors, day
        assert snapshot(case) == after, f"second run on {day} changed the case"
        assert not first.errors, first.errors
        if after != before:
            changes.append((day, dict(first.steps), case.next_action, case.next_action_date))
        day += dt.timedelta(days=1)
    return changes


def test_consumer_timeline_from_due_date_to_legal_approval_request():
    # Given: a consumer's invoice of 10 000 due Friday 14.11.2025, released on 01.12.2025
    case = open_case(opened_on=D(2025, 12, 1), due=D(2025, 11, 14), is_person=True)

    # When: the run goes every day from the due date to the end of February
    changes = run_daily(case, D(2025, 11, 14), D(2026, 2, 28))

    # Then: one step on each of four days, each with its next action
    assert changes == [
        (
            D(2025, 12, 1),
            {"inkassovarsel": 1},
            NextAction.SEND_BETALINGSOPPFORDRING,
            D(2025, 12, 18),
        ),
        (
            D(2025, 12, 18),
            {"betalingsoppfordring": 1},
            NextAction.SEND_VARSEL_RETTSLIG,
            D(2026, 1, 31),
        ),
        (D(2026, 1, 31), {"varsel_rettslig": 1}, NextAction.REQUEST_LEGAL_APPROVAL, D(2026, 2, 19)),
        (
            D(2026, 2, 19),
            {"legal_approval_requested": 1},
            NextAction.AWAIT_APPROVAL,
            D(2026, 6, 18),
        ),
    ]
    # IV 01.12 (fee 1/20 × 700; deadline Mon 15.12); BO on the deadline + 3 grace days; the BO
    # deadline 01.01.2026 is a public holiday → Fri 02.01; tungt salær from 02.01 + 29 days; the
    # varsel's deadline Sat 14.02 → Mon 16.02; legal approval asked 3 days later.
    assert letters(case) == [
        (Kind.INKASSOVARSEL, "inkassovarsel", D(2025, 12, 1), D(2025, 12, 15), Decimal("35.00")),
        (
            Kind.BETALINGSOPPFORDRING,
            "betalingsoppfordring",
            D(2025, 12, 18),
            D(2026, 1, 2),
            Decimal("560.00"),
        ),
        (
            Kind.VARSEL_RETTSLIG,
            "varsel_rettslig",
            D(2026, 1, 31),
            D(2026, 2, 16),
            Decimal("640.00"),
        ),
    ]
    assert costs(case) == [
        # 17 days at 12.25 % on 10 000
        (D(2025, 12, 1), L.INTEREST, Decimal("57.05")),
        (D(2025, 12, 1), L.FEE, Decimal("35.00")),
        # 34 days since due, rounded once: 114.11 less the 57.05 booked
        (D(2025, 12, 18), L.INTEREST, Decimal("57.06")),
        # lett salær: band ≤ 10 000 → 0.80 × 700
        (D(2025, 12, 18), L.SALAER, Decimal("560.00")),
        # 13 days at 12.25 % + 31 days at 12.00 %
        (D(2026, 1, 31), L.INTEREST, Decimal("145.55")),
        # tungt salær 2 × 0.80 × 750 = 1 200, less the 560 booked
        (D(2026, 1, 31), L.SALAER, Decimal("640.00")),
    ]
    case.refresh_from_db()
    assert case.status == Status.AWAITING_APPROVAL
    assert case.approval_kind == CollectionCase.ApprovalKind.LEGAL
    assert case.stage == CollectionCase.Stage.VARSEL_RETTSLIG
    assert case_balance(case) == Decimal("11494.66")
    bo = Letter.objects.get(case=case, kind=Kind.BETALINGSOPPFORDRING)
    assert bo.amounts == {
        "principal": "10000.00",
        "interest": "114.11",
        "fees": "35.00",
        "salaer": "560.00",
        "payments": "0.00",
        "total": "10709.11",
        "interest_rate": "12.25",
        "interest_from": "2025-11-14",
    }


def test_business_timeline_salaer_times_one_and_a_half_and_fee_at_the_cap_in_2026():
    # Given: a company's invoice of 20 000 due Monday 05.01.2026, released on 20.01.2026
    case = open_case(
        opened_on=D(2026, 1, 20), due=D(2026, 1, 5), amount="20000.00", is_person=False
    )

    changes = run_daily(case, D(2026, 1, 5), D(2026, 4, 30))

    assert changes == [
        (D(2026, 1, 20), {"inkassovarsel": 1}, NextAction.SEND_BETALINGSOPPFORDRING, D(2026, 2, 6)),
        (
            D(2026, 2, 6),
            {"betalingsoppfordring": 1},
            NextAction.SEND_VARSEL_RETTSLIG,
            D(2026, 3, 21),
        ),
        (D(2026, 3, 21), {"varsel_rettslig": 1}, NextAction.REQUEST_LEGAL_APPROVAL, D(2026, 4, 10)),
        (D(2026, 4, 10), {"legal_approval_requested": 1}, NextAction.AWAIT_APPROVAL, D(2026, 8, 6)),
    ]
    # IV fee 1/20 × 750 = 37.50 (a cap: never rounded up); the varsel's deadline Sat 04.04 passes Easter Sunday and
    # Easter Monday → Tue 07.04.
    assert letters(case) == [
        (Kind.INKASSOVARSEL, "inkassovarsel", D(2026, 1, 20), D(2026, 2, 3), Decimal("37.50")),
        (
            Kind.BETALINGSOPPFORDRING,
            "betalingsoppfordring",
            D(2026, 2, 6),
            D(2026, 2, 20),
            Decimal("1800.00"),
        ),
        (
            Kind.VARSEL_RETTSLIG,
            "varsel_rettslig",
            D(2026, 3, 21),
            D(2026, 4, 7),
            Decimal("1800.00"),
        ),
    ]
    assert costs(case) == [
        # 15 days at 12.00 % on 20 000
        (D(2026, 1, 20), L.INTEREST, Decimal("98.63")),
        (D(2026, 1, 20), L.FEE, Decimal("37.50")),
        # 17 days
        (D(2026, 2, 6), L.INTEREST, Decimal("111.78")),
        # band ≤ 50 000 → 1.60 × 750 × 1.5 (business debtor)
        (D(2026, 2, 6), L.SALAER, Decimal("1800.00")),
        # 43 days
        (D(2026, 3, 21), L.INTEREST, Decimal("282.74")),
        # tungt 2 × 1 800 = 3 600, less the 1 800 booked
        (D(2026, 3, 21), L.SALAER, Decimal("1800.00")),
    ]
    case.refresh_from_db()
    assert case.status == Status.AWAITING_APPROVAL
    assert case.approval_kind == CollectionCase.ApprovalKind.LEGAL


def test_new_betalingsoppfordring_when_six_months_pass_without_legal_steps():
    case = open_case(opened_on=D(2025, 12, 1), due=D(2025, 11, 14))
    for day in (D(2025, 12, 1), D(2025, 12, 18), D(2026, 1, 31), D(2026, 2, 19)):
        run(day)

    assert run(D(2026, 6, 17)).processed == 0
    result = run(D(2026, 6, 18))

    assert result.steps == {"new_betalingsoppfordring": 1}
    new_bo = Letter.objects.get(case=case, kind=Kind.NEW_BETALINGSOPPFORDRING)
    assert (new_bo.step, new_bo.sent_on, new_bo.deadline, new_bo.fee) == (
        "betalingsoppfordring_2",
        D(2026, 6, 18),
        D(2026, 7, 2),
        Decimal("0.00"),
    )
    case.refresh_from_db()
    assert case.status == Status.AWAITING_APPROVAL
    assert case.next_action_date == D(2026, 12, 18)
    # interest 01.02–18.06.2026: 138 days at 12.00 % on 10 000 (January came with the
    # varsel); no new salær
    assert costs(case)[-1] == (D(2026, 6, 18), L.INTEREST, Decimal("453.70"))
    assert run(D(2026, 6, 18)).processed == 0
