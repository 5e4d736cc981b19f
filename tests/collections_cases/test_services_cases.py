import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from stdnum import luhn

from collections_cases import rules
from collections_cases.cases import services
from collections_cases.cases.selectors import case_amounts, case_balance
from collections_cases.models import CaseEvent, CollectionCase, Invoice, LedgerEntry, Letter
from collections_cases.signals import case_changed
from creditors.models import Creditor
from kravia_web.errors import ApplicationError
from tests.collections_cases.factories import (
    CollectionCaseFactory,
    DebtorFactory,
    InvoiceFactory,
    LedgerEntryFactory,
)

Status = CollectionCase.Status
Stage = CollectionCase.Stage
NextAction = CollectionCase.NextAction
TODAY = dt.date(2026, 10, 20)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(
        dt.datetime(2026, 10, 20, 10, tzinfo=ZoneInfo("Europe/Oslo")), tick=False
    ):
        yield


@pytest.fixture
def debtor(creditor):
    return DebtorFactory(creditor=creditor)


def make_case(debtor, *amounts, needs_approval=False, actor=None):
    invoices = [
        InvoiceFactory(debtor=debtor, total_amount=Decimal(a), due_date=dt.date(2026, 9, 15 - i))
        for i, a in enumerate(amounts)
    ]
    return services.case_create(
        creditor=debtor.creditor,
        debtor=debtor,
        invoices=invoices,
        actor=actor,
        needs_approval=needs_approval,
    )


# case_create ------------------------------------------------------------------------------


def test_create_active_case_books_principal_per_invoice(debtor, user):
    case = make_case(debtor, "1000.00", "250.50", actor=user)

    assert case.status == Status.ACTIVE
    assert case.stage == Stage.INKASSOVARSEL
    assert case.next_action == NextAction.SEND_INKASSOVARSEL
    assert case.next_action_date == TODAY
    assert case.invoices.count() == 2
    entries = LedgerEntry.objects.filter(case=case)
    assert sorted(e.amount for e in entries) == [Decimal("250.50"), Decimal("1000.00")]
    assert {e.kind for e in entries} == {LedgerEntry.Kind.PRINCIPAL}
    assert all(e.invoice_id for e in entries)
    assert case_balance(case) == Decimal("1250.50")
    # Limitation runs from the earliest due date (2026-09-14)
    assert case.limitation_date == rules.limitation_date(dt.date(2026, 9, 14))
    event = CaseEvent.objects.get(case=case)
    assert event.kind == CaseEvent.Kind.CREATED
    assert event.status_from == "" and event.status_to == Status.ACTIVE
    assert event.data["principal"] == "1250.50"
    assert event.actor == user


def test_create_with_approval_waits(debtor):
    case = make_case(debtor, "500", needs_approval=True)

    assert case.status == Status.AWAITING_APPROVAL
    assert case.approval_kind == CollectionCase.ApprovalKind.START
    assert case.next_action == NextAction.AWAIT_APPROVAL
    assert case.next_action_date is None
    assert CaseEvent.objects.get(case=case).actor_label == "system"


def test_create_uses_debtor_entry_step_over_creditor_default(debtor):
    debtor.entry_step = Creditor.EntryStep.BETALINGSOPPFORDRING
    debtor.save()

    case = make_case(debtor, "500")

    assert case.stage == Stage.BETALINGSOPPFORDRING
    assert case.next_action == NextAction.SEND_BETALINGSOPPFORDRING


def test_create_uses_creditor_entry_step_by_default(creditor):
    creditor.entry_step = Creditor.EntryStep.BETALINGSOPPFORDRING
    creditor.save()
    debtor = DebtorFactory(creditor=creditor)

    assert make_case(debtor, "500").stage == Stage.BETALINGSOPPFORDRING


def test_case_numbers_and_kids_are_unique_and_valid(debtor):
    cases = [make_case(debtor, "100") for _ in range(5)]

    numbers = [c.number for c in cases]
    kids = [c.kid for c in cases]
    assert len(set(numbers)) == 5 and len(set(kids)) == 5
    assert numbers[0] == "K-2026-000001" and numbers[4] == "K-2026-000005"
    for case in cases:
        assert luhn.is_valid(case.kid)
        assert rules.kid_is_valid(case.kid)
        assert case.kid[:-1] == case.number.replace("K-", "").replace("-", "")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"balance": Decimal("0")}, "udekket"),
        ({"currency": "SEK"}, "NOK"),
    ],
)
def test_create_refuses_unsuitable_invoice(debtor, change, message):
    invoice = InvoiceFactory(debtor=debtor, **change)

    with pytest.raises(ApplicationError, match=message):
        services.case_create(
            creditor=debtor.creditor, debtor=debtor, invoices=[invoice], needs_approval=False
        )
    assert not CollectionCase.objects.exists()


def test_create_refuses_invoice_already_in_a_case(debtor):
    case = make_case(debtor, "100")
    invoice = case.invoices.get()

    with pytest.raises(ApplicationError, match="allerede"):
        services.case_create(
            creditor=debtor.creditor, debtor=debtor, invoices=[invoice], needs_approval=False
        )
    assert CollectionCase.objects.count() == 1


def test_create_refuses_other_debtors_invoice_and_opted_out_debtor(debtor):
    other = InvoiceFactory(debtor=DebtorFactory(creditor=debtor.creditor))
    with pytest.raises(ApplicationError, match="tilhører ikke"):
        services.case_create(
            creditor=debtor.creditor, debtor=debtor, invoices=[other], needs_approval=False
        )

    debtor.collection_opt_out = True
    debtor.save()
    with pytest.raises(ApplicationError, match="unntatt"):
        services.case_create(
            creditor=debtor.creditor,
            debtor=debtor,
            invoices=[InvoiceFactory(debtor=debtor)],
            needs_approval=False,
        )
    assert not CollectionCase.objects.exists()


def test_case_changed_is_sent_on_commit_only(debtor, django_capture_on_commit_callbacks):
    received = []

    def listener(sender, case_id, kind, **kwargs):
        received.append((case_id, kind))

    case_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            case = make_case(debtor, "100")
        assert received == []
        for callback in callbacks:
            callback()
    finally:
        case_changed.disconnect(listener)
    assert received == [(case.pk, CaseEvent.Kind.CREATED)]


# approve, legal ---------------------------------------------------------------------------


def test_approve_starts_case_at_its_stage(debtor, user):
    case = make_case(debtor, "100", needs_approval=True)

    case = services.case_approve(case=case, actor=user)

    assert case.status == Status.ACTIVE
    assert case.approval_kind == ""
    assert case.next_action == NextAction.SEND_INKASSOVARSEL
    assert case.next_action_date == TODAY


def test_legal_flow_needs_the_creditors_approval(user):
    case = CollectionCaseFactory(stage=Stage.INKASSOVARSEL)
    with pytest.raises(ApplicationError, match="varsel om rettslig inndriving"):
        services.case_request_legal_approval(case=case)

    case = CollectionCaseFactory(stage=Stage.VARSEL_RETTSLIG)
    case = services.case_request_legal_approval(case=case)
    assert case.status == Status.AWAITING_APPROVAL
    assert case.approval_kind == CollectionCase.ApprovalKind.LEGAL
    with pytest.raises(ApplicationError, match="rettslige tiltak"):
        services.case_approve(case=case, actor=user)

    case = services.case_approve_legal(case=case, actor=user)
    assert case.status == Status.LEGAL
    assert case.legal_approved_at is not None
    assert case.next_action == NextAction.START_LEGAL


def test_approve_legal_refuses_a_case_waiting_for_start(user):
    case = CollectionCaseFactory(
        status=Status.AWAITING_APPROVAL, approval_kind=CollectionCase.ApprovalKind.START
    )
    with pytest.raises(ApplicationError, match="oppstart"):
        services.case_approve_legal(case=case, actor=user)


# payment-demand approval --------------------------------------------------------------------


def bo_due_case(**fields):
    """An active case whose next step is its first betalingsoppfordring."""
    fields = {
        "next_action": NextAction.SEND_BETALINGSOPPFORDRING,
        "next_action_date": TODAY,
        **fields,
    }
    case = CollectionCaseFactory(**fields)
    LedgerEntryFactory(case=case)
    return case


def test_request_payment_demand_approval_parks_the_case(user, django_capture_on_commit_callbacks):
    case = bo_due_case()
    received = []

    def listener(sender, case_id, kind, **kwargs):
        received.append((case_id, kind))

    case_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            case = services.case_request_payment_demand_approval(case=case, actor=user)
    finally:
        case_changed.disconnect(listener)

    case.refresh_from_db()
    assert case.status == Status.AWAITING_APPROVAL
    assert case.approval_kind == CollectionCase.ApprovalKind.PAYMENT_DEMAND
    assert (case.next_action, case.next_action_date) == (NextAction.AWAIT_APPROVAL, None)
    assert case.stage == Stage.INKASSOVARSEL  # no betalingsoppfordring sent yet
    event = CaseEvent.objects.get(case=case)
    assert event.kind == CaseEvent.Kind.DEMAND_APPROVAL_REQUESTED
    assert (event.status_from, event.status_to) == (Status.ACTIVE, Status.AWAITING_APPROVAL)
    assert event.actor == user
    assert event.data == {"next_action_date": TODAY.isoformat()}
    assert received == [(case.pk, CaseEvent.Kind.DEMAND_APPROVAL_REQUESTED)]


@pytest.mark.parametrize(
    "fields",
    [
        {"stage": Stage.VARSEL_RETTSLIG, "next_action": NextAction.REQUEST_LEGAL_APPROVAL},
        {"stage": Stage.BETALINGSOPPFORDRING, "next_action": NextAction.SEND_VARSEL_RETTSLIG},
    ],
)
def test_request_payment_demand_approval_refused_after_the_first_bo(user, fields):
    case = bo_due_case(**fields)
    if fields["stage"] == Stage.BETALINGSOPPFORDRING:
        Letter.objects.create(
            case=case,
            kind=Letter.Kind.BETALINGSOPPFORDRING,
            step="betalingsoppfordring",
            sent_on=TODAY,
            deadline=TODAY,
        )

    with pytest.raises(ApplicationError, match="allerede fått betalingsoppfordring"):
        services.case_request_payment_demand_approval(case=case, actor=user)

    case.refresh_from_db()
    assert case.status == Status.ACTIVE
    assert not CaseEvent.objects.filter(case=case).exists()


def test_approving_the_payment_demand_makes_the_bo_due_on_the_approval_day_in_oslo(user):
    case = services.case_request_payment_demand_approval(case=bo_due_case(), actor=None)

    # 23:30 UTC on 20.10 is already 21.10 in Oslo
    with time_machine.travel(dt.datetime(2026, 10, 20, 23, 30, tzinfo=dt.UTC), tick=False):
        case = services.case_approve(case=case, actor=user)

    case.refresh_from_db()
    assert case.status == Status.ACTIVE
    assert case.approval_kind == ""
    assert case.next_action == NextAction.SEND_BETALINGSOPPFORDRING
    assert case.next_action_date == dt.date(2026, 10, 21)
    event = CaseEvent.objects.filter(case=case).last()
    assert event.kind == CaseEvent.Kind.APPROVED
    assert event.data == {"approval_kind": "payment_demand"}
    assert "Betalingsoppfordringen er godkjent" in event.message


def test_a_parked_payment_demand_is_not_a_legal_approval_nor_open_for_invoices(user):
    case = services.case_request_payment_demand_approval(case=bo_due_case(), actor=None)

    with pytest.raises(ApplicationError, match="betalingsoppfordringen, ikke av rettslige"):
        services.case_approve_legal(case=case, actor=user)
    with pytest.raises(ApplicationError, match="før betalingsoppfordringen"):
        services.case_add_invoices(
            case=case, actor=user, invoices=[InvoiceFactory(debtor=case.debtor)]
        )
    case.refresh_from_db()
    assert case.status == Status.AWAITING_APPROVAL


def test_a_paused_payment_demand_approval_returns_to_waiting_for_it(user):
    case = services.case_request_payment_demand_approval(case=bo_due_case(), actor=None)
    case = services.case_pause(case=case, actor=user, reason="Avtale")
    case = services.case_resume(case=case, actor=user)

    assert case.status == Status.AWAITING_APPROVAL
    assert case.approval_kind == CollectionCase.ApprovalKind.PAYMENT_DEMAND
    assert services.case_approve(case=case, actor=user).next_action == (
        NextAction.SEND_BETALINGSOPPFORDRING
    )


def test_migration_moves_cases_parked_as_start_to_payment_demand():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("collections_cases.migrations.0004_approval_kind_payment_demand")
    parked = CollectionCaseFactory(
        status=Status.AWAITING_APPROVAL,
        approval_kind=CollectionCase.ApprovalKind.START,
        stage=Stage.BETALINGSOPPFORDRING,
    )
    CaseEvent.objects.create(case=parked, kind="demand_approval_requested", message="Venter")
    waiting_start = CollectionCaseFactory(
        status=Status.AWAITING_APPROVAL, approval_kind=CollectionCase.ApprovalKind.START
    )

    migration.parked_cases_to_payment_demand(apps, None)

    parked.refresh_from_db()
    waiting_start.refresh_from_db()
    assert parked.approval_kind == CollectionCase.ApprovalKind.PAYMENT_DEMAND
    assert waiting_start.approval_kind == CollectionCase.ApprovalKind.START


# pause / resume / dispute -----------------------------------------------------------------


def test_pause_without_date_then_resume_restores_next_action(user):
    case = CollectionCaseFactory(
        next_action=NextAction.SEND_BETALINGSOPPFORDRING, next_action_date=dt.date(2026, 11, 5)
    )

    case = services.case_pause(case=case, actor=user, reason="Betalingsavtale")
    assert case.status == Status.PAUSED
    assert case.pause_reason == "Betalingsavtale"
    assert case.paused_until is None
    assert case.next_action == "" and case.next_action_date is None

    case = services.case_resume(case=case, actor=user)
    assert case.status == Status.ACTIVE
    assert case.next_action == NextAction.SEND_BETALINGSOPPFORDRING
    assert case.next_action_date == dt.date(2026, 11, 5)
    assert case.held_status == "" and case.pause_reason == ""
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds == [CaseEvent.Kind.PAUSED, CaseEvent.Kind.RESUMED]


def test_pause_with_date_schedules_resume(user):
    case = CollectionCaseFactory(next_action_date=dt.date(2026, 10, 1))

    case = services.case_pause(case=case, actor=user, reason="Ferie", until=dt.date(2026, 12, 1))

    assert case.paused_until == dt.date(2026, 12, 1)
    assert case.next_action == NextAction.RESUME
    assert case.next_action_date == dt.date(2026, 12, 1)
    event = CaseEvent.objects.get(case=case)
    assert event.data == {"reason": "Ferie", "until": "2026-12-01"}
    assert "01.12.2026" in event.message


def test_resume_catches_up_a_step_whose_date_passed(user):
    case = CollectionCaseFactory(next_action_date=dt.date(2026, 10, 1))
    case = services.case_pause(case=case, actor=user, reason="Avtale")

    case = services.case_resume(case=case, actor=user)

    assert case.next_action_date == TODAY


@pytest.mark.parametrize(
    ("reason", "until", "message"),
    [("", None, "Oppgi"), ("  ", None, "Oppgi"), ("Ferie", TODAY, "frem i tid")],
)
def test_pause_refuses_missing_reason_or_past_date(user, reason, until, message):
    case = CollectionCaseFactory()
    with pytest.raises(ApplicationError, match=message):
        services.case_pause(case=case, actor=user, reason=reason, until=until)
    case.refresh_from_db()
    assert case.status == Status.ACTIVE


def test_paused_case_resumes_in_its_earlier_status(user):
    case = CollectionCaseFactory(status=Status.LEGAL)
    case = services.case_pause(case=case, actor=user, reason="Avtale")
    assert services.case_resume(case=case, actor=user).status == Status.LEGAL


def test_dispute_of_paused_case_returns_to_status_before_pause(user):
    case = CollectionCaseFactory(status=Status.ACTIVE)
    case = services.case_pause(case=case, actor=user, reason="Avtale")
    case = services.case_mark_disputed(case=case, actor=user, reason="Feil beløp")
    assert case.status == Status.DISPUTED
    assert case.dispute_reason == "Feil beløp"

    case = services.case_resolve_dispute(case=case, actor=user, note="Kreditor har dokumentert")

    assert case.status == Status.ACTIVE
    assert case.dispute_reason == ""
    assert "Kreditor har dokumentert" in CaseEvent.objects.filter(case=case).last().message


def test_disputed_case_gets_no_new_costs(user):
    case = CollectionCaseFactory()
    LedgerEntryFactory(case=case)
    assert services.case_may_add_costs(case)
    services.case_add_cost(
        case=case,
        actor=None,
        kind=LedgerEntry.Kind.FEE,
        amount=Decimal("38"),
        booked_on=TODAY,
    )

    case = services.case_mark_disputed(case=case, actor=user, reason="Bestrider kravet")

    assert not services.case_may_add_costs(case)
    with pytest.raises(ApplicationError, match="Omtvistet"):
        services.case_add_cost(
            case=case,
            actor=None,
            kind=LedgerEntry.Kind.SALAER,
            amount=Decimal("300"),
            booked_on=TODAY,
        )
    assert case_balance(case) == Decimal("1038.00")


def test_add_cost_refuses_a_kind_that_is_not_a_cost():
    case = CollectionCaseFactory()
    with pytest.raises(ApplicationError):
        services.case_add_cost(
            case=case, actor=None, kind=LedgerEntry.Kind.PAYMENT, amount=1, booked_on=TODAY
        )


# close / withdraw -------------------------------------------------------------------------


def test_withdraw_closes_with_reason(user, debtor):
    case = make_case(debtor, "100")

    case = services.case_withdraw(case=case, actor=user, reason="Feil sendt til inkasso")

    assert case.status == Status.CLOSED
    assert case.close_reason == CollectionCase.CloseReason.WITHDRAWN
    assert case.close_note == "Feil sendt til inkasso"
    assert case.closed_at is not None
    assert case.next_action == "" and case.next_action_date is None
    event = CaseEvent.objects.filter(case=case).last()
    assert event.data["balance"] == "100.00"


def test_close_refuses_unknown_reason(user):
    with pytest.raises(ApplicationError, match="Ukjent"):
        services.case_close(case=CollectionCaseFactory(), actor=user, reason="lei")


def test_close_as_paid_refused_while_something_is_owed(user):
    case = CollectionCaseFactory()
    LedgerEntryFactory(case=case, amount=Decimal("1000.00"))
    LedgerEntryFactory(case=case, kind=LedgerEntry.Kind.PAYMENT, amount=Decimal("-999.99"))

    with pytest.raises(ApplicationError, match="kan ikke avsluttes som betalt") as excinfo:
        services.case_close(case=case, actor=user, reason=CollectionCase.CloseReason.PAID)

    assert "kr 0,01" in excinfo.value.message
    case.refresh_from_db()
    assert case.status == Status.ACTIVE
    assert not CaseEvent.objects.filter(case=case).exists()
    # other reasons do not need a zero balance
    case = services.case_close(case=case, actor=user, reason=CollectionCase.CloseReason.WRITTEN_OFF)
    assert case.status == Status.CLOSED


@pytest.mark.parametrize("paid", ["1000.00", "1000.50"])
def test_close_as_paid_when_the_balance_is_zero_or_overpaid(user, paid):
    case = CollectionCaseFactory()
    LedgerEntryFactory(case=case, amount=Decimal("1000.00"))
    LedgerEntryFactory(case=case, kind=LedgerEntry.Kind.PAYMENT, amount=-Decimal(paid))

    case = services.case_close(case=case, actor=user, reason=CollectionCase.CloseReason.PAID)

    assert (case.status, case.close_reason) == (Status.CLOSED, CollectionCase.CloseReason.PAID)
    event = CaseEvent.objects.get(case=case)
    assert event.data == {
        "close_reason": "paid",
        "balance": str(Decimal("1000.00") - Decimal(paid)),
    }


def test_close_as_paid_of_a_closed_case_is_refused_as_a_transition(user):
    case = CollectionCaseFactory(status=Status.CLOSED)
    LedgerEntryFactory(case=case)

    with pytest.raises(ApplicationError, match="fra «Avsluttet»"):
        services.case_close(case=case, actor=user, reason=CollectionCase.CloseReason.PAID)


# direct payments --------------------------------------------------------------------------


def test_direct_payment_reduces_principal(debtor, user):
    case = make_case(debtor, "1000")

    case = services.case_register_direct_payment(
        case=case, actor=user, amount=Decimal("400"), paid_on=dt.date(2026, 10, 18), reference="X1"
    )

    assert case.status == Status.ACTIVE
    amounts = case_amounts(case)
    assert amounts[LedgerEntry.Kind.DIRECT_PAYMENT] == Decimal("-400.00")
    assert amounts["principal_outstanding"] == Decimal("600.00")
    assert amounts["balance"] == Decimal("600.00")
    event = CaseEvent.objects.filter(case=case).last()
    assert event.kind == CaseEvent.Kind.DIRECT_PAYMENT
    assert event.data == {
        "amount": "400.00",
        "paid_on": "2026-10-18",
        "reference": "X1",
        "balance": "600.00",
    }
    assert event.status_to == ""


def test_direct_payment_of_the_rest_closes_as_paid_directly(debtor, user):
    case = make_case(debtor, "1000")
    services.case_register_direct_payment(case=case, actor=user, amount="400", paid_on=TODAY)

    case = services.case_register_direct_payment(
        case=case, actor=user, amount="600.00", paid_on=TODAY
    )

    assert case.status == Status.CLOSED
    assert case.close_reason == CollectionCase.CloseReason.PAID_DIRECTLY
    assert case_balance(case) == Decimal("0")
    event = CaseEvent.objects.filter(case=case).last()
    assert (event.kind, event.status_from, event.status_to) == (
        CaseEvent.Kind.DIRECT_PAYMENT,
        Status.ACTIVE,
        Status.CLOSED,
    )
    # Created, the first (part-)payment with its interruption of the limitation, the last.
    assert list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True)) == [
        CaseEvent.Kind.CREATED,
        CaseEvent.Kind.LIMITATION,
        CaseEvent.Kind.DIRECT_PAYMENT,
        CaseEvent.Kind.DIRECT_PAYMENT,
    ]


def test_direct_payment_with_costs_left_keeps_case_open(debtor, user):
    case = make_case(debtor, "1000")
    services.case_add_cost(
        case=case, actor=None, kind=LedgerEntry.Kind.FEE, amount="38", booked_on=TODAY
    )

    case = services.case_register_direct_payment(
        case=case, actor=user, amount="1000", paid_on=TODAY
    )

    assert case.status == Status.ACTIVE
    assert case_balance(case) == Decimal("38.00")


@pytest.mark.parametrize("amount", ["1000.01", "1038", "0", "-5", "abc"])
def test_direct_payment_refuses_overpayment_and_nonsense(debtor, user, amount):
    case = make_case(debtor, "1000")
    services.case_add_cost(
        case=case, actor=None, kind=LedgerEntry.Kind.FEE, amount="38", booked_on=TODAY
    )

    with pytest.raises(ApplicationError):
        services.case_register_direct_payment(case=case, actor=user, amount=amount, paid_on=TODAY)

    assert case_balance(case) == Decimal("1038.00")
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.DIRECT_PAYMENT).exists()


def test_direct_payment_refuses_future_date_and_closed_case(debtor, user):
    case = make_case(debtor, "1000")
    with pytest.raises(ApplicationError, match="frem i tid"):
        services.case_register_direct_payment(
            case=case, actor=user, amount="1", paid_on=TODAY + dt.timedelta(days=1)
        )
    case = services.case_withdraw(case=case, actor=user, reason="Feil")
    with pytest.raises(ApplicationError, match="avsluttet"):
        services.case_register_direct_payment(case=case, actor=user, amount="1", paid_on=TODAY)


# add invoices, notes ----------------------------------------------------------------------


def test_add_invoices_before_betalingsoppfordring(debtor, user):
    case = make_case(debtor, "1000")
    later = InvoiceFactory(debtor=debtor, total_amount=Decimal("200"), due_date=dt.date(2026, 8, 1))

    case = services.case_add_invoices(case=case, actor=user, invoices=[later])

    assert case_balance(case) == Decimal("1200.00")
    later.refresh_from_db()
    assert later.case == case
    # An earlier due date moves the limitation date earlier
    assert case.limitation_date == rules.limitation_date(dt.date(2026, 8, 1))
    assert CaseEvent.objects.filter(case=case).last().kind == CaseEvent.Kind.INVOICES_ADDED


def test_add_invoices_refused_after_betalingsoppfordring(debtor, user):
    case = make_case(debtor, "1000")
    CollectionCase.objects.filter(pk=case.pk).update(stage=Stage.BETALINGSOPPFORDRING)
    later = InvoiceFactory(debtor=debtor)

    with pytest.raises(ApplicationError, match="før betalingsoppfordringen"):
        services.case_add_invoices(case=case, actor=user, invoices=[later])
    later.refresh_from_db()
    assert later.case is None


def test_add_invoices_allowed_while_waiting_for_start_at_any_stage(debtor, user):
    debtor.entry_step = Creditor.EntryStep.BETALINGSOPPFORDRING
    debtor.save()
    case = make_case(debtor, "1000", needs_approval=True)

    services.case_add_invoices(case=case, actor=user, invoices=[InvoiceFactory(debtor=debtor)])

    assert Invoice.objects.filter(case=case).count() == 2


def test_add_note_writes_an_event_without_status_change(user):
    case = CollectionCaseFactory()

    event = services.case_add_note(case=case, actor="PowerOffice Go", text="Ringte skyldner")

    assert event.kind == CaseEvent.Kind.NOTE
    assert event.actor is None and event.actor_label == "PowerOffice Go"
    assert event.status_from == event.status_to == ""
    with pytest.raises(ApplicationError):
        services.case_add_note(case=case, actor=user, text=" ")
