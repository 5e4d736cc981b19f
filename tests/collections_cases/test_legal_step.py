"""A legal step the creditor approved is recorded as started: the case leaves the case
handlers' queue, the limitation period is interrupted from its date, one event."""

import datetime as dt

import pytest

from collections_cases.cases import services
from collections_cases.cases.staff_queue import BY_KEY
from collections_cases.models import CaseEvent, CollectionCase
from kravia_web.errors import ApplicationError
from tests.collections_cases.dunning_support import on_day, open_case

pytestmark = pytest.mark.django_db

D = dt.date


def approved_case():
    case = open_case(opened_on=D(2026, 9, 1), due=D(2026, 8, 1))
    CollectionCase.objects.filter(pk=case.pk).update(
        status=CollectionCase.Status.AWAITING_APPROVAL,
        approval_kind=CollectionCase.ApprovalKind.LEGAL,
    )
    with on_day(D(2026, 11, 2), hour=9):
        return services.case_approve_legal(case=case, actor=None)


def legal_queue():
    return BY_KEY["rettslig"]


def test_recording_the_started_step_leaves_the_queue_and_interrupts_limitation():
    case = approved_case()
    assert case.next_action == CollectionCase.NextAction.START_LEGAL
    with on_day(D(2026, 11, 10), hour=9):
        assert case in legal_queue().items(D(2026, 11, 10))

        services.case_record_legal_step(
            case=case, actor=None, step="utlegg", on=D(2026, 11, 9), reference="NM-123"
        )

        assert case not in legal_queue().items(D(2026, 11, 10))
    case.refresh_from_db()
    assert case.status == CollectionCase.Status.LEGAL
    assert case.next_action == "" and case.next_action_date is None
    assert case.limitation_interrupted_on == D(2026, 11, 9)
    assert case.limitation_date == D(2029, 11, 9)
    event = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.DUNNING_STEP).last()
    assert "begjæring om utlegg" in event.message and "NM-123" in event.message
    assert event.data["legal_step"] == "utlegg"


def test_only_a_case_waiting_for_its_legal_step_can_record_one():
    case = open_case(opened_on=D(2026, 9, 1), due=D(2026, 8, 1))
    with on_day(D(2026, 11, 10), hour=9), pytest.raises(ApplicationError):
        services.case_record_legal_step(case=case, actor=None, step="utlegg", on=D(2026, 11, 9))
    case = approved_case()
    with on_day(D(2026, 11, 10), hour=9):
        with pytest.raises(ApplicationError):
            services.case_record_legal_step(
                case=case, actor=None, step="utlegg", on=D(2026, 11, 11)
            )
        with pytest.raises(ApplicationError):
            services.case_record_legal_step(case=case, actor=None, step="brev", on=D(2026, 11, 9))
