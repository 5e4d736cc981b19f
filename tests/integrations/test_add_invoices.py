"""A newly released invoice of a debtor with an open case joins that case, in Go too
(``AddInvoicesToCase``); when Go refuses, it gets a case of its own instead. And the recovery
lookups after a lost answer: a create-case or AddInvoicesToCase whose answer never came back
leads to exactly one case / one addition in Go.

Through the sandbox over HTTP (``pogo_wsgi``); lost answers are the sandbox's ``drop`` fault
(Go did the work, the connection broke before the answer).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from django.utils import timezone

from collections_cases.cases.selectors import case_principal_outstanding
from collections_cases.models import CaseEvent, CollectionCase, Invoice
from integrations.models import OutboxMessage
from integrations.services.outbox import deliver_outbox
from pogo_sandbox import domain
from pogo_sandbox.models import DebtCollectionCase as PogoCase
from pogo_sandbox.models import OutgoingInvoice as PogoInvoice
from tests.integrations.test_sync import connect, fast_clients

Kind = OutboxMessage.Kind
Status = OutboxMessage.Status
CREATE = "/pogo/v1/DebtCollection"
ADD = "/pogo/v1/DebtCollection/AddInvoicesToCase"


@pytest.fixture
def go(transactional_db, settings, pogo_wsgi, monkeypatch):
    fast_clients(monkeypatch, pogo_wsgi, settings)
    go = connect(settings)
    go.http = pogo_wsgi
    return go


def posts(go, path: str) -> int:
    return sum(
        1 for e in go.http.exchanges if e.method == "POST" and e.path.lower() == path.lower()
    )


def test_go_refusing_the_addition_gives_the_invoice_a_case_of_its_own(go):
    customer = go.customer()
    go.invoice(customer, "1000.00")
    go.sync()
    first = CollectionCase.objects.get()
    first_in_go = PogoCase.objects.get()
    # The case was closed in Go meanwhile: it takes no more invoices there.
    PogoCase.objects.filter(pk=first_in_go.pk).update(status=PogoCase.Status.CLOSED)
    later = go.invoice(customer, "250.00")

    go.sync()  # adds it here and asks Go; Go refuses
    addition = OutboxMessage.objects.get(kind=Kind.ADD_INVOICES)
    assert addition.status == Status.FAILED
    assert "avsluttet" in addition.last_error

    invoice = Invoice.objects.get(pogo_id=later.pk)
    assert invoice.case_id is not None and invoice.case_id != first.pk
    second = invoice.case
    assert case_principal_outstanding(first) == Decimal("1000.00")  # its principal reversed
    assert case_principal_outstanding(second) == Decimal("250.00")
    event = first.events.filter(kind=CaseEvent.Kind.NOTE).get()
    assert str(later.invoice_no) in event.message and "PowerOffice Go" in event.message
    assert event.data["invoices_taken_out"] == [later.invoice_no]
    assert addition.case_id == first.pk
    assert OutboxMessage.objects.get(pk=addition.pk).payload["moved_to_case"] == second.number

    go.sync()  # the new case is created in Go with the invoice

    second.refresh_from_db()
    assert second.pogo_case_id is not None
    assert set(
        PogoCase.objects.get(pk=second.pogo_case_id).invoices.values_list("pk", flat=True)
    ) == {later.pk}
    assert set(first_in_go.invoices.values_list("pk", flat=True)) != {later.pk}
    assert not _retry_noise(go)


def _retry_noise(go) -> list:
    """Rows still pending or failed other than the one refusal (none expected)."""
    return list(
        OutboxMessage.objects.exclude(kind=Kind.ADD_INVOICES).filter(
            status__in=[Status.PENDING, Status.FAILED]
        )
    )


def test_an_accepted_addition_keeps_one_case_here_and_in_go(go):
    customer = go.customer()
    go.invoice(customer)
    go.sync()
    later = go.invoice(customer, "300.00")

    go.sync()

    case = CollectionCase.objects.get()
    assert Invoice.objects.get(pogo_id=later.pk).case_id == case.pk
    assert later.pk in set(PogoCase.objects.get().invoices.values_list("pk", flat=True))
    assert OutboxMessage.objects.get(kind=Kind.ADD_INVOICES).status == Status.SENT
    assert not case.events.filter(kind=CaseEvent.Kind.NOTE).exists()


def _due_now():
    OutboxMessage.objects.filter(status=Status.PENDING).update(next_attempt_at=timezone.now())


def lose_answer(go, monkeypatch, path: str) -> list:
    """Go does the work, then the connection breaks before its answer reaches us (once)."""
    real_send = go.http.adapter.send
    lost = []

    def send(request, *args, **kwargs):
        response = real_send(request, *args, **kwargs)
        if (
            not lost
            and request.method == "POST"
            and request.path_url.split("?")[0].lower() == path.lower()
        ):
            lost.append(response.status_code)
            raise requests.ConnectionError("Connection reset by peer", request=request)
        return response

    monkeypatch.setattr(go.http.adapter, "send", send)
    return lost


def test_a_lost_answer_to_create_case_leaves_exactly_one_case_in_go(go, monkeypatch):
    go.invoice(go.customer())
    lost = lose_answer(go, monkeypatch, CREATE)

    go.sync()  # Go creates the case; its answer is lost

    assert lost == [200]
    create = OutboxMessage.objects.get(kind=Kind.CREATE_CASE)
    assert create.status == Status.PENDING and create.attempts == 1
    assert PogoCase.objects.count() == 1
    case = CollectionCase.objects.get()
    assert case.pogo_case_id is None

    _due_now()
    deliver_outbox()

    case.refresh_from_db()
    create.refresh_from_db()
    assert create.status == Status.SENT
    assert PogoCase.objects.count() == 1  # found by its code, not created again
    assert case.pogo_case_id == PogoCase.objects.get().pk
    assert posts(go, CREATE) == 1


def test_a_dropped_create_case_is_sent_again_and_makes_one_case(go):
    """The sandbox's ``drop`` fault: the connection breaks before Go did anything."""
    go.invoice(go.customer())
    domain.set_fault_rule(CREATE, error_rate=1, faults=["drop"])
    for working in (
        "/pogo/v1/DebtCollection/IsActiveDebtCollection",
        "/pogo/v1/DebtCollection/Invoices",
        "/pogo/v1/DebtCollection/GetAllMatchedItems",
    ):
        domain.set_fault_rule(working, error_rate=0, faults=[])

    go.sync()

    assert not PogoCase.objects.exists()
    assert OutboxMessage.objects.get(kind=Kind.CREATE_CASE).status == Status.PENDING
    domain.clear_faults()
    _due_now()
    deliver_outbox()

    assert PogoCase.objects.count() == 1
    assert CollectionCase.objects.get().pogo_case_id == PogoCase.objects.get().pk


def test_a_lost_answer_to_add_invoices_leaves_exactly_one_addition_in_go(go, monkeypatch):
    customer = go.customer()
    go.invoice(customer)
    go.sync()
    later = go.invoice(customer, "400.00")
    lost = lose_answer(go, monkeypatch, ADD)

    go.sync()  # Go adds it; its answer is lost

    assert lost == [200]
    addition = OutboxMessage.objects.get(kind=Kind.ADD_INVOICES)
    assert addition.status == Status.PENDING and addition.attempts == 1
    pogo_case = PogoCase.objects.get()
    assert later.pk in set(pogo_case.invoices.values_list("pk", flat=True))

    _due_now()
    deliver_outbox()

    addition.refresh_from_db()
    assert addition.status == Status.SENT
    assert posts(go, ADD) == 1  # the retry read the case and found the invoice there
    assert PogoInvoice.objects.get(pk=later.pk).debt_case_id == pogo_case.pk
    assert Invoice.objects.get(pogo_id=later.pk).case_id == CollectionCase.objects.get().pk
    assert not CaseEvent.objects.filter(kind=CaseEvent.Kind.NOTE).exists()  # no fallback
