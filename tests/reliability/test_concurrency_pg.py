"""Races on PostgreSQL, with real threads on separate connections (beside the dunning races in
tests/collections_cases/test_dunning_concurrency.py and the case-service races in
test_services_concurrency.py): settlement runs against each other, and a Kundeweb pause against
the dunning run. SQLite serialises writers and has no row locks, so these need PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection

from collections_cases.cases.services import case_pause
from collections_cases.dunning.services import dunning_run
from collections_cases.models import (
    CaseEvent,
    CollectionCase,
    Letter,
    PaymentAllocation,
    Settlement,
    SettlementLine,
)
from collections_cases.settlements.services import settle
from tests.collections_cases.dunning_support import open_case as open_dunning_case
from tests.collections_cases.test_dunning_concurrency import DUE, OPENED, run_together
from tests.collections_cases.test_settlements import PAID, SETTLE, creditor_with, owing, pay
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SETTLEMENT_WEEKDAY = 4


def test_concurrent_settlement_runs_make_one_settlement_per_creditor_and_date(capsys):
    creditors = [creditor_with() for _ in range(3)]
    for creditor in creditors:
        for amount in ("1000.00", "400.00"):
            case = owing(creditor, amounts=(amount,))
            pay(case, amount, on=PAID)

    results = run_together([lambda: settle(on=SETTLE) for _ in range(4)])

    assert not [r for r in results if isinstance(r, Exception)], results
    for creditor in creditors:
        [settlement] = Settlement.objects.filter(creditor=creditor, settled_on=SETTLE)
        assert settlement.principal == 1400
        assert SettlementLine.objects.filter(settlement=settlement).count() == 2
    # every case settled once, every allocation on exactly one settlement line
    assert SettlementLine.objects.values("case").distinct().count() == 6
    assert SettlementLine.objects.count() == 6
    allocations = PaymentAllocation.objects.all()
    assert allocations.exists()
    assert not allocations.filter(settlement_line__isnull=True).exists()
    created = sum(len(r.created) for r in results)
    assert created == 3
    with capsys.disabled():
        print(
            f"\n[reliability] 4 concurrent settlement runs: {created} settlements for 3 creditors"
        )


def test_a_pause_racing_the_dunning_run_wins_or_loses_cleanly_with_a_timeline_that_says_which(
    capsys,
):
    cases = [open_dunning_case(opened_on=OPENED, due=DUE) for _ in range(30)]
    user = UserFactory()

    def pause_all():
        for case in reversed(cases):  # from the other end, so the two meet in the middle
            case_pause(case=case, actor=user, reason="Kunden ringte")

    results = run_together([lambda: dunning_run(on=OPENED), pause_all])

    assert not [r for r in results if isinstance(r, Exception)], results
    assert not results[0].errors
    won = lost = 0
    for case in cases:
        case.refresh_from_db()
        assert case.status == CollectionCase.Status.PAUSED
        letters = Letter.objects.filter(case=case)
        events = list(case.events.order_by("id").values_list("kind", flat=True))
        assert events.count(CaseEvent.Kind.PAUSED) == 1
        if letters.exists():
            # The run locked the case first: its letter, then the pause, in that order.
            lost += 1
            assert letters.count() == 1
            assert events.index(CaseEvent.Kind.LETTER) < events.index(CaseEvent.Kind.PAUSED)
            assert case.held_next_action == CollectionCase.NextAction.SEND_BETALINGSOPPFORDRING
        else:
            # The pause locked it first: no letter, no fee, the step waits for the resume.
            won += 1
            assert CaseEvent.Kind.LETTER not in events
            assert case.held_next_action == CollectionCase.NextAction.SEND_INKASSOVARSEL
            assert not case.ledger_entries.exclude(kind="principal").exists()
    assert won + lost == 30
    assert results[0].steps["inkassovarsel"] == lost
    with capsys.disabled():
        print(f"\n[reliability] pause vs dunning over 30 cases: pause won {won}, lost {lost}")
