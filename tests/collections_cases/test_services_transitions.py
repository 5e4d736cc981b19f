"""Every move in the transition table, allowed and refused, through the services."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from collections_cases.cases import services
from collections_cases.cases.states import RETURN, TRANSITIONS
from collections_cases.models import CaseEvent, CollectionCase
from kravia_web.errors import ApplicationError
from tests.collections_cases.factories import CollectionCaseFactory, LedgerEntryFactory

Status = CollectionCase.Status

CALLS = {
    "approve": lambda case, actor: services.case_approve(case=case, actor=actor),
    "request_payment_demand_approval": (
        lambda case, actor: services.case_request_payment_demand_approval(case=case, actor=actor)
    ),
    "request_legal_approval": lambda case, actor: services.case_request_legal_approval(
        case=case, actor=actor
    ),
    "approve_legal": lambda case, actor: services.case_approve_legal(case=case, actor=actor),
    "pause": lambda case, actor: services.case_pause(case=case, actor=actor, reason="Avtale"),
    "resume": lambda case, actor: services.case_resume(case=case, actor=actor),
    "mark_disputed": lambda case, actor: services.case_mark_disputed(
        case=case, actor=actor, reason="Varen var defekt"
    ),
    "resolve_dispute": lambda case, actor: services.case_resolve_dispute(case=case, actor=actor),
    "to_monitoring": lambda case, actor: services.case_to_monitoring(
        case=case, actor=actor, reason="Ingen betalingsevne"
    ),
    # "paid" needs a balance of 0 (tested in test_services_cases); the move is the same
    "close": lambda case, actor: services.case_close(
        case=case, actor=actor, reason=CollectionCase.CloseReason.WRITTEN_OFF
    ),
    "withdraw": lambda case, actor: services.case_withdraw(
        case=case, actor=actor, reason="Kunden har betalt"
    ),
}

ALL_MOVES = [(action, status) for action in TRANSITIONS for status in Status.values]
ALLOWED = [(a, s) for a, s in ALL_MOVES if s in TRANSITIONS[a]]
REFUSED = [(a, s) for a, s in ALL_MOVES if s not in TRANSITIONS[a]]


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(
        dt.datetime(2026, 10, 20, 10, tzinfo=ZoneInfo("Europe/Oslo")), tick=False
    ):
        yield


def case_in(status: str, action: str) -> CollectionCase:
    """A case in ``status`` that meets every other precondition of ``action``."""
    approval_kind = ""
    if status == Status.AWAITING_APPROVAL:
        approval_kind = (
            CollectionCase.ApprovalKind.LEGAL
            if action == "approve_legal"
            else CollectionCase.ApprovalKind.START
        )
    held = Status.ACTIVE if status in (Status.PAUSED, Status.DISPUTED) else ""
    # The payment-demand approval comes before the first betalingsoppfordring.
    stage = (
        CollectionCase.Stage.INKASSOVARSEL
        if action == "request_payment_demand_approval"
        else CollectionCase.Stage.VARSEL_RETTSLIG
    )
    case = CollectionCaseFactory(
        status=status,
        stage=stage,
        approval_kind=approval_kind,
        held_status=held,
        held_next_action=CollectionCase.NextAction.REQUEST_LEGAL_APPROVAL if held else "",
        held_next_action_date=dt.date(2026, 10, 25) if held else None,
    )
    LedgerEntryFactory(case=case)
    return case


def test_every_action_has_a_service():
    assert set(CALLS) == set(TRANSITIONS)


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "status_from"), ALLOWED)
def test_allowed_move_changes_status_and_writes_one_event(action, status_from, user):
    # Given a case in a status the action may leave
    case = case_in(status_from, action)
    expected = TRANSITIONS[action][status_from]
    if expected == RETURN:
        expected = Status.ACTIVE

    # When the service runs
    result = CALLS[action](case, user)

    # Then the status moved and exactly one event records the move
    result.refresh_from_db()
    assert result.status == expected
    events = list(CaseEvent.objects.filter(case=case))
    assert len(events) == 1
    assert events[0].status_from == status_from
    assert events[0].status_to == expected
    assert events[0].actor == user
    assert events[0].message


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "status_from"), REFUSED)
def test_refused_move_raises_and_changes_nothing(action, status_from, user):
    case = case_in(status_from, action)

    with pytest.raises(ApplicationError) as excinfo:
        CALLS[action](case, user)

    case.refresh_from_db()
    assert case.status == status_from
    assert not CaseEvent.objects.filter(case=case).exists()
    # The message names the case and the status it is in
    assert case.number in excinfo.value.message
    assert f"fra «{Status(status_from).label}»" in excinfo.value.message
    targets = {t for t in TRANSITIONS[action].values() if t != RETURN}
    if len(targets) == 1:
        assert f"til «{Status(targets.pop()).label}»" in excinfo.value.message
    else:
        assert "til «forrige status»" in excinfo.value.message
