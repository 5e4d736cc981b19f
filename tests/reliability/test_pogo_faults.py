"""Faults at PowerOffice Go lose nothing and duplicate nothing.

The same full cycle — sync, cases created in Go, two dunning steps, status pushes, a payment to
the agency by KID, a direct payment in Go, the settlement and its voucher — is run twice against
the in-process sandbox: once for a creditor whose Go answers every request, once for a creditor
whose Go fails 20 % of requests (500, 503, 429, timeouts, dropped connections; seeded, so a
failure can be replayed). After enough retry rounds both end in exactly the same state: cases,
letters, ledger, events, settlements, vouchers in Go and case statuses in Go, compared by
content (with each creditor's own ids taken out), and nothing twice.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import Counter
from decimal import Decimal

import pytest
from django.db.models import Count
from django.utils import timezone

from collections_cases.cases.selectors import case_balance
from collections_cases.dunning.services import dunning_run
from collections_cases.models import CaseEvent, CollectionCase, LedgerEntry, Letter, Settlement
from collections_cases.payments.imports import payments_import_file
from collections_cases.settlements.services import settle
from integrations.models import OutboxMessage, SyncRun
from integrations.services.outbox import deliver_outbox
from pogo_sandbox import domain
from pogo_sandbox.models import DebtCollectionCase as PogoCase
from pogo_sandbox.models import FaultRule, GeneralLedgerAccount, JournalVoucher
from tests.integrations.test_settlement_e2e import CAMT
from tests.integrations.test_sync import TODAY, connect, fast_clients

pytestmark = pytest.mark.reliability

# The 20 %, and a storm where the client's own retries are not enough (the outbox's
# backoff, failed sync runs and re-reads do the rest). RELIABILITY_FAULT_RATE adds another.
FAULT_RATES = [0.2, 0.5] + [
    float(r) for r in os.environ.get("RELIABILITY_FAULT_RATE", "").split(",") if r
]
FAULTS = ["500", "503", "429", "timeout", "drop"]
SEED = int(os.environ.get("RELIABILITY_FAULT_SEED", "3"))
MAX_ROUNDS = 40
SECOND_STEP = TODAY + dt.timedelta(days=30)


@pytest.fixture
def sandbox(transactional_db, settings, pogo_wsgi, monkeypatch, tmp_path, rates_known_through):
    rates_known_through(SECOND_STEP)  # the cycle, not the rate tables' end, is tested here
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.POGO_SANDBOX_TIMEOUT_SECONDS = 0  # the injected "timeout" answers 504 at once
    fast_clients(monkeypatch, pogo_wsgi, settings)
    yield pogo_wsgi
    domain.seed_faults(None)


def connect_with_chart(settings):
    """A connected creditor whose Go company has every account the settlement voucher uses."""
    go = connect(settings)
    for account_no, name in ((7770, "Inkassokostnad"), (2710, "Inngående mva."), (8050, "Renter")):
        GeneralLedgerAccount.objects.create(company=go.company, account_no=account_no, name=name)
    return go


def converge(go) -> int:
    """Sync and deliver until a sync succeeds and nothing waits in the outbox; the rounds used."""
    pending = OutboxMessage.objects.filter(
        creditor=go.creditor, status=OutboxMessage.Status.PENDING
    )
    for round_no in range(1, MAX_ROUNDS + 1):
        # Time passing: every backed-off row is due again.
        pending.update(next_attempt_at=timezone.now())
        run = go.sync()
        pending.update(next_attempt_at=timezone.now())
        deliver_outbox(creditor_id=go.creditor.pk)
        if run.status == SyncRun.Status.OK and not pending.exists():
            return round_no
    pytest.fail(f"no convergence after {MAX_ROUNDS} rounds: {list(pending.values())}")


def run_cycle(go) -> dict:
    """The whole life of four invoices of three debtors; returns the retry rounds used."""
    ola, kari, per = (go.customer(name) for name in ("Ola Nordmann", "Kari Hansen", "Per Berg"))
    go.invoice(ola, "1000.00", invoice_no=5001)
    go.invoice(ola, "250.00", invoice_no=5002)
    kari_invoice = go.invoice(kari, "4000.00", invoice_no=5003)
    per_invoice = go.invoice(per, "800.00", invoice_no=5004)
    rounds = converge(go)

    # Dunning: the inkassovarsel today, the betalingsoppfordring after its deadline.
    for on in (TODAY, SECOND_STEP):
        dunning_run(on=on)
        rounds += converge(go)

    # Kari pays the agency in full by KID; Per pays the creditor directly in Go.
    kari_case = CollectionCase.objects.get(creditor=go.creditor, invoices__pogo_id=kari_invoice.pk)
    camt = CAMT.format(
        kid=kari_case.kid, amount=f"{case_balance(kari_case):.2f}", day=SECOND_STEP.isoformat()
    )
    payments_import_file(content=camt.encode(), file_name=f"camt-{go.creditor.pk}.xml")
    domain.register_payment(per_invoice, amount=Decimal("800.00"), on=SECOND_STEP)
    rounds += converge(go)

    settle(on=SECOND_STEP, creditor_ids=[go.creditor.pk])
    rounds += converge(go)
    return rounds


def invoice_key(case) -> tuple:
    return tuple(sorted(case.invoices.values_list("invoice_no", flat=True)))


def end_state(go) -> dict:
    """Everything the cycle produced for one creditor, in a form two creditors can compare."""
    cases = CollectionCase.objects.filter(creditor=go.creditor)
    key = {case.pk: invoice_key(case) for case in cases}
    pogo_cases = PogoCase.objects.filter(company=go.company)
    vouchers = JournalVoucher.objects.filter(company=go.company)
    return {
        "cases": sorted(
            (key[c.pk], c.status, c.stage, c.close_reason, c.next_action, c.next_action_date)
            for c in cases
        ),
        "letters": sorted(
            # a remainder statement's step names its payment's id, which differs per run
            (
                key[letter.case_id],
                letter.kind,
                re.sub(r"^remainder_\d+$", "remainder_<payment>", letter.step),
                letter.sent_on,
                letter.deadline,
            )
            for letter in Letter.objects.filter(case__in=cases)
        ),
        "ledger": sorted(
            (key[e.case_id], e.kind, e.amount, e.booked_on)
            for e in LedgerEntry.objects.filter(case__in=cases)
        ),
        "events": sorted(
            Counter(
                (key[e.case_id], e.kind) for e in CaseEvent.objects.filter(case__in=cases)
            ).items()
        ),
        "settlements": sorted(
            (s.settled_on, s.period_start, s.period_end, s.voucher_status, len(s.voucher_lines))
            for s in Settlement.objects.filter(creditor=go.creditor)
        ),
        "go_cases": sorted(
            (c.status, c.balance_agency, c.status_text.replace(str(go.creditor.name), "<creditor>"))
            for c in pogo_cases
        ),
        "go_vouchers": sorted(
            (
                v.kind,
                v.is_posted,
                v.voucher_date,
                tuple(sorted(str(line.get("Amount")) for line in v.lines)),
                v.pages.count(),
            )
            for v in vouchers
        ),
        "outbox": sorted(
            Counter(
                (m.kind, m.status) for m in OutboxMessage.objects.filter(creditor=go.creditor)
            ).items()
        ),
    }


@pytest.mark.parametrize("fault_rate", FAULT_RATES)
def test_a_cycle_with_faults_ends_exactly_like_one_without(sandbox, settings, capsys, fault_rate):
    # Given the cycle run by a creditor whose Go never fails
    calm = connect_with_chart(settings)
    calm_rounds = run_cycle(calm)
    calm_requests = len(sandbox.exchanges)
    expected = end_state(calm)

    # When another creditor runs the same cycle while Go fails a fifth of all API requests
    domain.seed_faults(SEED)
    domain.set_fault_rule("", error_rate=fault_rate, faults=FAULTS)
    stormy = connect_with_chart(settings)
    first_faulty = len(sandbox.exchanges)
    stormy_rounds = run_cycle(stormy)
    FaultRule.objects.all().delete()
    seen = sandbox.exchanges[first_faulty:]

    # Then the faults really happened, of every kind
    statuses = Counter(e.status for e in seen)
    injected = {code: statuses[code] for code in (500, 503, 429, 504, None)}
    assert all(injected.values()), (injected, len(seen), statuses)
    assert sum(injected.values()) >= 0.1 * len(seen)

    # and the end state is the same, record for record
    actual = end_state(stormy)
    for part in expected:
        assert actual[part] == expected[part], part
    assert len(expected["cases"]) == 3
    assert {letter[1] for letter in expected["letters"]} == {
        Letter.Kind.INKASSOVARSEL,
        Letter.Kind.BETALINGSOPPFORDRING,
    }
    assert len(expected["go_cases"]) == 3
    assert len(expected["go_vouchers"]) == 1
    assert all(status == OutboxMessage.Status.SENT for (_kind, status), _n in actual["outbox"])

    # and nothing exists twice: one case per invoice, in Kundeweb and in Go
    for go in (calm, stormy):
        cases = CollectionCase.objects.filter(creditor=go.creditor)
        assert cases.values("invoices").count() == 4
        assert PogoCase.objects.filter(company=go.company).values("code").distinct().count() == 3
        assert not (
            OutboxMessage.objects.filter(creditor=go.creditor)
            .values("dedupe_key")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
        )
    with capsys.disabled():
        print(
            f"\n[reliability] faults at {fault_rate:.0%}: calm {calm_requests} requests in "
            f"{calm_rounds} rounds; "
            f"stormy {len(seen)} requests in {stormy_rounds} rounds, injected {injected} "
            f"(500/503/429/timeout→504/drop), duplicates 0, lost 0"
        )
