"""The dunning run's rules case by case: payment within the IV deadline, catch-up, PoGo's own
inkassovarsel, the payment-demand approval switch, paused and disputed cases, the debtor's
interest and fee flags, and the unique (case, step) letter."""

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from collections_cases.cases import services
from collections_cases.cases.selectors import case_balance
from collections_cases.dunning import batch as dunning_batch
from collections_cases.dunning import services as dunning
from collections_cases.models import CaseEvent, CollectionCase, LedgerEntry, Letter
from tests.collections_cases.dunning_support import (
    costs,
    letters,
    on_day,
    open_case,
    run,
    snapshot,
)

pytestmark = pytest.mark.django_db

Status = CollectionCase.Status
NextAction = CollectionCase.NextAction
Kind = Letter.Kind
L = LedgerEntry.Kind
D = dt.date

OPENED = D(2025, 12, 1)  # Monday; the invoice fell due on Friday 14.11.2025
DUE = D(2025, 11, 14)
BO_DAY = D(2025, 12, 18)  # IV deadline 15.12 + 3 grace days


def iv_sent_case(**debtor_fields):
    case = open_case(opened_on=OPENED, due=DUE, **debtor_fields)
    assert run(OPENED).steps == {"inkassovarsel": 1}
    return case


# Paid within the IV deadline ----------------------------------------------------------------


def test_paid_to_the_agency_within_the_iv_deadline_closes_without_salaer_or_bo():
    case = iv_sent_case()
    LedgerEntry.objects.create(
        case=case, kind=L.PAYMENT, amount=-case_balance(case), booked_on=D(2025, 12, 10)
    )

    result = run(BO_DAY)

    assert result.steps == {"closed_paid": 1}
    case.refresh_from_db()
    assert (case.status, case.close_reason) == (Status.CLOSED, CollectionCase.CloseReason.PAID)
    assert [letter[0] for letter in letters(case)] == [Kind.INKASSOVARSEL]
    assert not LedgerEntry.objects.filter(case=case, kind=L.SALAER).exists()
    assert run(BO_DAY).processed == 0


def test_principal_paid_directly_within_the_iv_deadline_closes_without_salaer():
    case = iv_sent_case()
    with on_day(D(2025, 12, 12), hour=12):
        services.case_register_direct_payment(
            case=case, actor=None, amount=Decimal("10000.00"), paid_on=D(2025, 12, 12)
        )
    case.refresh_from_db()
    assert case.status == Status.ACTIVE  # the IV fee and interest are still on the balance

    result = run(BO_DAY)

    assert result.steps == {"closed_paid": 1}
    case.refresh_from_db()
    assert (case.status, case.close_reason) == (Status.CLOSED, CollectionCase.CloseReason.PAID)
    assert not LedgerEntry.objects.filter(case=case, kind=L.SALAER).exists()
    # the IV fee and interest left are waived by a reduction: closed as paid with balance 0
    (reduction,) = LedgerEntry.objects.filter(case=case, kind=L.REDUCTION)
    assert reduction.booked_on == BO_DAY and reduction.amount < 0
    assert case_balance(case) == Decimal("0.00")
    event = CaseEvent.objects.filter(case=case).last()
    assert event.data["balance"] == "0.00"
    assert "kreves ikke inn" in event.message
    assert not Letter.objects.filter(case=case, kind=Kind.BETALINGSOPPFORDRING).exists()


# Catch-up and idempotence ---------------------------------------------------------------------


def test_a_missed_week_is_caught_up_one_step_per_run_dated_the_run_day():
    case = open_case(opened_on=OPENED, due=DUE)

    late = OPENED + dt.timedelta(days=60)
    result = run(late)

    assert result.steps == {"inkassovarsel": 1}
    (iv,) = letters(case)
    assert iv[2:4] == (late, D(2026, 2, 13))  # sent and deadline counted from the run day
    case.refresh_from_db()
    assert case.next_action == NextAction.SEND_BETALINGSOPPFORDRING
    assert case.next_action_date == D(2026, 2, 18)  # 13.02 (Fri) + 3 banking days: 16, 17, 18
    assert run(late).processed == 0
    assert run(late + dt.timedelta(days=1)).processed == 0


def test_a_step_three_days_overdue_is_taken_today():
    case = iv_sent_case()

    result = run(BO_DAY + dt.timedelta(days=3))

    assert result.steps == {"betalingsoppfordring": 1}
    bo = Letter.objects.get(case=case, kind=Kind.BETALINGSOPPFORDRING)
    assert (bo.sent_on, bo.deadline) == (D(2025, 12, 21), D(2026, 1, 5))


def test_running_twice_on_the_same_date_changes_nothing():
    cases = [open_case(opened_on=OPENED, due=DUE) for _ in range(3)]
    first = run(OPENED)
    before = [snapshot(case) for case in cases]

    second = run(OPENED)

    assert first.steps == {"inkassovarsel": 3}
    assert (second.processed, second.skipped, second.errors) == (0, 0, [])
    assert [snapshot(case) for case in cases] == before


def test_cases_are_taken_in_batches():
    cases = [open_case(opened_on=OPENED, due=DUE) for _ in range(5)]

    result = run(OPENED, batch_size=2)

    assert result.steps == {"inkassovarsel": 5}
    assert Letter.objects.filter(case__in=cases).count() == 5


def test_a_letter_already_recorded_for_the_step_rolls_the_step_back():
    # Given: the IV letter of this case is already there (as a concurrent run would leave it)
    case = open_case(opened_on=OPENED, due=DUE)
    Letter.objects.create(
        case=case, kind=Kind.INKASSOVARSEL, step="inkassovarsel", sent_on=OPENED, deadline=OPENED
    )
    before = snapshot(case)

    result = run(OPENED)

    assert (result.processed, result.skipped) == (0, 1)
    assert snapshot(case) == before  # no fee, no interest, no event, next action unchanged


@pytest.mark.parametrize("run_function", ["dunning_run", "dunning_run_per_case"])
def test_one_failing_case_does_not_stop_the_run(monkeypatch, run_function):
    good = open_case(opened_on=OPENED, due=DUE)
    bad = open_case(opened_on=OPENED, due=DUE)

    real = dunning_batch._inkassovarsel

    def failing(facts, plan, on):
        if facts.case.pk == bad.pk:
            raise RuntimeError("boom")
        return real(facts, plan, on)

    monkeypatch.setattr(dunning_batch, "_inkassovarsel", failing)
    with on_day(OPENED):
        result = getattr(dunning, run_function)(on=OPENED)

    assert result.steps == {"inkassovarsel": 1}
    assert result.errors == [(bad.pk, "boom")]
    assert Letter.objects.filter(case=good).count() == 1
    assert Letter.objects.filter(case=bad).count() == 0


def test_no_inkassovarsel_on_or_before_the_due_date():
    case = open_case(opened_on=DUE, due=DUE)

    result = run(DUE)

    assert result.steps == {"rescheduled": 1}
    case.refresh_from_db()
    assert case.next_action_date == DUE + dt.timedelta(days=1)
    assert run(DUE).processed == 0
    assert run(DUE + dt.timedelta(days=1)).steps == {"inkassovarsel": 1}
    # sent earlier than 14 days after the due date: no fee (INKF § 1-2)
    assert letters(case)[0][4] == Decimal("0.00")


# PowerOffice Go's own inkassovarsel -----------------------------------------------------------


def test_pogo_inkassovarsel_with_passed_deadline_skips_our_inkassovarsel():
    case = open_case(opened_on=OPENED, due=DUE)
    case.invoices.update(
        last_reminder_voucher_type="OutgoingNoticeOfDebtCollection",
        last_reminder_sent_date=D(2025, 11, 15),
        last_reminder_due_date=D(2025, 11, 26),
    )

    result = run(OPENED)

    assert result.steps == {"betalingsoppfordring": 1}
    assert [letter[:3] for letter in letters(case)] == [
        (Kind.BETALINGSOPPFORDRING, "betalingsoppfordring", OPENED)
    ]
    assert not LedgerEntry.objects.filter(case=case, kind=L.FEE).exists()
    event = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.LETTER).get()
    assert "PowerOffice Go" in event.message


def test_pogo_inkassovarsel_still_running_waits_for_its_deadline_without_a_second_one():
    case = open_case(opened_on=OPENED, due=DUE)
    case.invoices.update(
        last_reminder_voucher_type="OutgoingNoticeOfDebtCollection",
        last_reminder_due_date=D(2025, 12, 5),  # Friday
    )

    result = run(OPENED)

    assert result.steps == {"waiting_for_pogo_inkassovarsel": 1}
    assert letters(case) == []
    case.refresh_from_db()
    assert case.next_action == NextAction.SEND_BETALINGSOPPFORDRING
    assert case.next_action_date == D(2025, 12, 10)  # Fri 05.12 + 3 banking days: 8, 9, 10
    assert run(D(2025, 12, 9)).steps == {}
    assert run(D(2025, 12, 10)).steps == {"betalingsoppfordring": 1}


def test_an_ordinary_pogo_reminder_does_not_skip_the_inkassovarsel():
    case = open_case(opened_on=OPENED, due=DUE)
    case.invoices.update(
        last_reminder_voucher_type="OutgoingReminder", last_reminder_due_date=D(2025, 11, 26)
    )

    assert run(OPENED).steps == {"inkassovarsel": 1}


# The creditor approves payment demands --------------------------------------------------------


def test_approve_payment_demands_parks_the_case_until_the_creditor_approves():
    case = iv_sent_case()
    case.creditor.approve_payment_demands = True
    case.creditor.save()

    result = run(BO_DAY)

    assert result.steps == {"awaiting_payment_demand_approval": 1}
    case.refresh_from_db()
    assert case.status == Status.AWAITING_APPROVAL
    assert case.approval_kind == CollectionCase.ApprovalKind.PAYMENT_DEMAND
    assert (case.next_action, case.next_action_date) == (NextAction.AWAIT_APPROVAL, None)
    event = CaseEvent.objects.filter(case=case).last()
    assert (event.kind, event.status_from, event.status_to) == (
        CaseEvent.Kind.DEMAND_APPROVAL_REQUESTED,
        Status.ACTIVE,
        Status.AWAITING_APPROVAL,
    )
    assert not Letter.objects.filter(case=case, kind=Kind.BETALINGSOPPFORDRING).exists()
    assert not LedgerEntry.objects.filter(case=case, kind=L.SALAER).exists()
    assert run(BO_DAY + dt.timedelta(days=5)).processed == 0

    approved_on = D(2025, 12, 29)
    with on_day(approved_on, hour=14):
        services.case_approve(case=case, actor="Kreditor")
    case.refresh_from_db()
    assert (case.status, case.approval_kind) == (Status.ACTIVE, "")
    assert (case.next_action, case.next_action_date) == (
        NextAction.SEND_BETALINGSOPPFORDRING,
        approved_on,
    )
    result = run(approved_on)

    assert result.steps == {"betalingsoppfordring": 1}
    case.refresh_from_db()
    assert case.status == Status.ACTIVE
    bo = Letter.objects.get(case=case, kind=Kind.BETALINGSOPPFORDRING)
    assert bo.sent_on == approved_on
    assert LedgerEntry.objects.get(case=case, kind=L.SALAER).amount == Decimal("560.00")
    assert run(approved_on).processed == 0


def test_approve_payment_demands_also_parks_when_pogo_sent_the_inkassovarsel():
    case = open_case(opened_on=OPENED, due=DUE)
    case.creditor.approve_payment_demands = True
    case.creditor.save()
    case.invoices.update(
        last_reminder_voucher_type="OutgoingNoticeOfDebtCollection",
        last_reminder_due_date=D(2025, 11, 26),
    )

    assert run(OPENED).steps == {"awaiting_payment_demand_approval": 1}
    case.refresh_from_db()
    assert (case.status, case.approval_kind) == (
        Status.AWAITING_APPROVAL,
        CollectionCase.ApprovalKind.PAYMENT_DEMAND,
    )
    assert letters(case) == []

    with on_day(D(2025, 12, 2), hour=9):
        services.case_approve(case=case, actor="Kreditor")
    assert run(D(2025, 12, 2)).steps == {"betalingsoppfordring": 1}


# Paused and disputed cases --------------------------------------------------------------------


def test_disputed_and_paused_cases_are_not_touched():
    disputed = iv_sent_case()
    paused = iv_sent_case()
    with on_day(D(2025, 12, 5), hour=12):
        services.case_mark_disputed(case=disputed, actor=None, reason="Varen er ikke levert")
        services.case_pause(case=paused, actor=None, reason="Forhandler om avtale")
    before = [snapshot(disputed), snapshot(paused)]

    result = run(D(2026, 3, 1))

    assert result.processed == 0
    assert [snapshot(disputed), snapshot(paused)] == before


def test_a_paused_case_resumes_on_its_date_and_takes_its_step():
    case = iv_sent_case()
    with on_day(D(2025, 12, 10), hour=12):
        services.case_pause(case=case, actor=None, reason="Betalingsavtale", until=D(2026, 1, 5))

    assert run(D(2026, 1, 4)).processed == 0
    result = run(D(2026, 1, 5))

    assert result.steps == {"resumed": 1, "betalingsoppfordring": 1}
    case.refresh_from_db()
    assert case.status == Status.ACTIVE
    assert Letter.objects.get(case=case, kind=Kind.BETALINGSOPPFORDRING).sent_on == D(2026, 1, 5)


# The debtor's flags ---------------------------------------------------------------------------


def test_do_not_add_late_payment_interest_and_fees_are_honoured():
    case = iv_sent_case(do_not_add_late_payment_interest=True, do_not_add_late_payment_fees=True)
    run(BO_DAY)

    assert letters(case)[0][4] == Decimal("0.00")
    # no fee, no interest; salær is a collection cost, not a late-payment fee
    assert costs(case) == [(BO_DAY, L.SALAER, Decimal("560.00"))]


def test_not_vat_registered_creditor_gets_table_b_salaer():
    case = open_case(opened_on=OPENED, due=DUE)
    case.creditor.vat_registered = False
    case.creditor.save()
    run(OPENED)
    run(BO_DAY)

    assert LedgerEntry.objects.get(case=case, kind=L.SALAER).amount == Decimal("700.00")


def test_entry_step_betalingsoppfordring_starts_with_the_bo():
    case = open_case(opened_on=OPENED, due=DUE, entry_step="betalingsoppfordring")

    assert run(OPENED).steps == {"betalingsoppfordring": 1}
    assert [letter[0] for letter in letters(case)] == [Kind.BETALINGSOPPFORDRING]


def test_dunning_case_step_takes_one_case_s_due_step_only():
    case = open_case(opened_on=OPENED, due=DUE)
    other = open_case(opened_on=OPENED, due=DUE)

    with on_day(OPENED):
        assert dunning.dunning_case_step(case=case, on=OPENED) == "inkassovarsel"
        assert dunning.dunning_case_step(case=case, on=OPENED) is None

    assert Letter.objects.filter(case=case).count() == 1
    assert not Letter.objects.filter(case=other).exists()


# Event kinds ----------------------------------------------------------------------------------


def test_every_event_the_run_writes_has_a_declared_kind_with_a_norwegian_label():
    # Given: a case through IV, BO parked for approval, approved, BO, varsel, legal request;
    # and a case waiting for PowerOffice Go's own inkassovarsel
    case = iv_sent_case()
    case.creditor.approve_payment_demands = True
    case.creditor.save()
    run(BO_DAY)
    with on_day(BO_DAY, hour=14):
        services.case_approve(case=case, actor="Kreditor")
    run(BO_DAY)
    case.refresh_from_db()
    run(case.next_action_date)
    case.refresh_from_db()
    run(case.next_action_date)
    waiting = open_case(opened_on=OPENED, due=DUE)
    waiting.invoices.update(
        last_reminder_voucher_type="OutgoingNoticeOfDebtCollection",
        last_reminder_due_date=D(2025, 12, 5),
    )
    run(OPENED)

    events = list(CaseEvent.objects.filter(case__in=[case, waiting]))
    kinds = {event.kind for event in events}

    # Then: every kind is a choice (no bare strings) and shows its Norwegian label
    assert {
        CaseEvent.Kind.LETTER,
        CaseEvent.Kind.DEMAND_APPROVAL_REQUESTED,
        CaseEvent.Kind.DUNNING_STEP,
        CaseEvent.Kind.LEGAL_APPROVAL_REQUESTED,
    } <= kinds
    assert kinds <= set(CaseEvent.Kind.values)
    labels = {event.kind: event.get_kind_display() for event in events}
    assert labels[CaseEvent.Kind.LETTER] == "Brev sendt"
    assert labels[CaseEvent.Kind.DEMAND_APPROVAL_REQUESTED] == (
        "Betalingsoppfordring venter godkjenning"
    )
    assert labels[CaseEvent.Kind.DUNNING_STEP] == "Inkassosteg"
    for event in events:
        event.full_clean()


# Settings -------------------------------------------------------------------------------------


def _settings_from_environment(**environ) -> list[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DUNNING_RUN_TIME", "DUNNING_GRACE_DAYS")
    }
    env.update(environ, DJANGO_SETTINGS_MODULE="kravia_web.settings.test")
    code = (
        "from django.conf import settings; "
        "print(repr(settings.DUNNING_RUN_TIME)); print(repr(settings.DUNNING_GRACE_DAYS))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


@pytest.mark.django_db(False)
def test_dunning_settings_defaults_and_environment():
    assert _settings_from_environment() == ["'06:00'", "3"]
    assert _settings_from_environment(DUNNING_RUN_TIME="05:30", DUNNING_GRACE_DAYS="5") == [
        "'05:30'",
        "5",
    ]


@pytest.mark.django_db(False)
def test_grace_days_are_read_from_settings_without_a_hidden_default(settings):
    settings.DUNNING_GRACE_DAYS = 4
    # Fri 05.12 + 4 banking days: 8, 9, 10, 11.12
    assert dunning.after_grace(D(2025, 12, 5)) == D(2025, 12, 11)

    del settings.DUNNING_GRACE_DAYS
    with pytest.raises(AttributeError):
        dunning.grace_days()
