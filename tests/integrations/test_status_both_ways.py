"""Status both ways with PowerOffice Go, against the sandbox over HTTP.

* A case started in Kundeweb's «Klar for inkasso» from a Go invoice is created in Go's Inkasso
  menu through the outbox (v1 ``DebtCollection``), or shows Go's refusal with its reason.
* Our settlement voucher posted in Go marks the settlement booked, and the integration page
  names the matched item as our own settlement.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from collections_cases.models import CollectionCase, Invoice
from integrations.models import OutboxMessage
from integrations.services.outbox import deliver_outbox
from pogo_sandbox import domain
from pogo_sandbox.models import DebtCollectionCase as PogoCase
from pogo_sandbox.models import OutgoingInvoice as PogoInvoice
from tests.factories import MembershipFactory
from tests.integrations.test_sync import connect, fast_clients

Kind = OutboxMessage.Kind


@pytest.fixture
def go(transactional_db, settings, pogo_wsgi, monkeypatch):
    fast_clients(monkeypatch, pogo_wsgi, settings)
    # The creditor approves each transfer in Go (Inkasso → Utkast) and starts cases by hand.
    go = connect(settings, auto_transfer_to_agency=False)
    go.creditor.auto_start_released_invoices = False
    go.creditor.save(update_fields=["auto_start_released_invoices"])
    go.http = pogo_wsgi
    return go


@pytest.fixture
def owner(go, client):
    client.force_login(MembershipFactory(creditor=go.creditor).user)
    return client


def start_in_kundeweb(client, invoice: Invoice):
    response = client.post(reverse("ready_for_collection"), {"invoices": [invoice.pk]})
    assert response.status_code == 302
    return CollectionCase.objects.get(invoices=invoice)


def test_a_case_started_in_kundeweb_from_a_released_go_invoice_is_created_in_go(go, owner):
    pogo_invoice = go.invoice(go.customer())
    go.sync()
    domain.approve_drafts(go.company)  # released in Go: Inkasso → Godkjent
    go.sync()
    invoice = Invoice.objects.get(pogo_id=pogo_invoice.pk)
    assert invoice.case is None  # waits in «Klar for inkasso»

    case = start_in_kundeweb(owner, invoice)
    deliver_outbox()

    case.refresh_from_db()
    in_go = PogoCase.objects.get(company=go.company)
    assert case.pogo_case_id == in_go.id
    assert in_go.code == case.number
    pogo_invoice.refresh_from_db()
    assert pogo_invoice.debt_case_id == in_go.pk  # Inkasso → Åpne
    assert in_go.status_text  # its first status followed


def test_a_go_invoice_added_in_kundeweb_to_a_case_in_go_joins_it_there(go, owner):
    customer = go.customer()
    first, second = go.invoice(customer), go.invoice(customer)
    go.sync()
    domain.approve_drafts(go.company, invoice_ids=[first.pk])
    go.sync()
    case = start_in_kundeweb(owner, Invoice.objects.get(pogo_id=first.pk))
    deliver_outbox()
    in_go = PogoCase.objects.get(company=go.company)
    domain.approve_drafts(go.company, invoice_ids=[second.pk])
    go.sync()

    assert start_in_kundeweb(owner, Invoice.objects.get(pogo_id=second.pk)) == case
    deliver_outbox()

    assert set(PogoInvoice.objects.filter(debt_case=in_go).values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
    }
    assert not OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED).exists()


def test_go_refusing_an_unreleased_invoice_is_shown_and_retried_once_released(go, owner):
    pogo_invoice = go.invoice(go.customer())
    go.sync()
    invoice = Invoice.objects.get(pogo_id=pogo_invoice.pk)
    assert PogoInvoice.objects.get(pk=pogo_invoice.pk).debt_collection_status != 3  # not Godkjent

    case = start_in_kundeweb(owner, invoice)
    deliver_outbox()

    create = OutboxMessage.objects.get(case=case, kind=Kind.CREATE_CASE)
    assert create.status == OutboxMessage.Status.FAILED
    assert "ikke godkjent for inkasso" in create.last_error
    assert not PogoCase.objects.exists()
    case_page = owner.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "data-pogo-refusal" in case_page
    assert "ikke godkjent for inkasso" in case_page
    status_page = owner.get(reverse("creditor_poweroffice", args=[go.creditor.pk]))
    assert "ikke godkjent for inkasso" in status_page.content.decode()

    domain.approve_drafts(go.company)  # the creditor approves it in Go
    run = go.sync()

    assert run.counts["released"]["cases_retried"] == 1
    case.refresh_from_db()
    in_go = PogoCase.objects.get(company=go.company)
    assert case.pogo_case_id == in_go.id and in_go.code == case.number
    create.refresh_from_db()
    assert create.status == OutboxMessage.Status.SENT
    assert not OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED).exists()
    in_go.refresh_from_db()
    assert in_go.status_text  # the status followed the late creation
    case_page = owner.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "data-pogo-refusal" not in case_page


def test_an_unreleased_go_invoice_added_to_a_case_in_go_follows_once_released(go, owner):
    customer = go.customer()
    first, second = go.invoice(customer), go.invoice(customer)
    go.sync()
    domain.approve_drafts(go.company, invoice_ids=[first.pk])
    go.sync()
    case = start_in_kundeweb(owner, Invoice.objects.get(pogo_id=first.pk))
    deliver_outbox()
    in_go = PogoCase.objects.get(company=go.company)

    start_in_kundeweb(owner, Invoice.objects.get(pogo_id=second.pk))  # not released in Go
    deliver_outbox()
    add = OutboxMessage.objects.get(case=case, kind=Kind.ADD_INVOICES)
    assert add.status == OutboxMessage.Status.FAILED
    assert "ikke godkjent for inkasso" in add.last_error

    domain.approve_drafts(go.company, invoice_ids=[second.pk])
    go.sync()

    add.refresh_from_db()
    assert add.status == OutboxMessage.Status.SENT
    assert PogoInvoice.objects.filter(debt_case=in_go).count() == 2


def test_a_case_of_an_invoice_from_another_system_is_not_sent_to_go(go, owner):
    from tests.collections_cases.factories import InvoiceFactory
    from tests.collections_cases.factories_pages import collectable_debtor, overdue

    invoice = InvoiceFactory(
        debtor=collectable_debtor(go.creditor), due_date=overdue(20), pogo_id=None
    )

    case = start_in_kundeweb(owner, invoice)
    deliver_outbox()

    assert not OutboxMessage.objects.filter(case=case).exists()
    assert not PogoCase.objects.exists()


# --- the settlement voucher posted in Go -------------------------------------------------------


@pytest.fixture
def settled(transactional_db, settings, pogo_wsgi, monkeypatch, tmp_path, client):
    """A 1000 kr invoice paid to the agency and settled; the voucher proposal is in Go's inbox."""
    from collections_cases.models import Settlement
    from tests.integrations.settlement_support import make_settlement, pay_agency

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.POGO_SANDBOX_TIMEOUT_SECONDS = 0
    fast_clients(monkeypatch, pogo_wsgi, settings)
    go = connect(settings)
    go.invoice(go.customer(), "1000.00")
    go.sync()
    case = CollectionCase.objects.get()
    pay_agency(case, "1000.00")
    settlement = make_settlement(case)
    deliver_outbox()
    settlement.refresh_from_db()
    assert settlement.voucher_status == Settlement.VoucherStatus.SENT
    client.force_login(MembershipFactory(creditor=go.creditor).user)
    return go, settlement, client


def settlement_page(client, settlement) -> str:
    return client.get(reverse("settlement_detail", args=[settlement.pk])).content.decode()


def test_the_proposal_waiting_in_the_inbox_offers_marker_som_bokfort(settled):
    go, settlement, client = settled

    html = settlement_page(client, settlement)

    assert "Bilagsforslag i bilagsmottaket" in html
    assert "Marker som bokført" in html


def test_posting_the_voucher_in_go_marks_the_settlement_booked_by_go(settled):
    from collections_cases.models import Settlement
    from integrations.models import MatchedItem
    from pogo_sandbox.models import JournalVoucher

    go, settlement, client = settled
    voucher = JournalVoucher.objects.get()
    domain.post_voucher(voucher)  # the creditor posts the proposal in Go

    run = go.sync()

    item = MatchedItem.objects.get(outcome=MatchedItem.Outcome.OWN_SETTLEMENT)
    settlement.refresh_from_db()
    assert settlement.voucher_status == Settlement.VoucherStatus.POSTED
    assert settlement.booked_at is not None
    assert run.counts["matched_items"]["settlements_booked"] == 1
    html = settlement_page(client, settlement)
    assert "Bokført i PowerOffice Go" in html
    assert 'data-booked-by="poweroffice"' in html
    assert f"bilag {item.voucher_no}" in html
    assert "Bilagsforslag i bilagsmottaket" not in html
    assert "Marker som bokført" not in html

    status_page = client.get(reverse("creditor_poweroffice", args=[go.creditor.pk]))
    text = status_page.content.decode()
    assert "vårt oppgjørsbilag, bokført i Go 1" in text
    assert "fant ingen sak" not in text

    # Running the sync again changes nothing.
    booked_at = settlement.booked_at
    go.sync()
    settlement.refresh_from_db()
    assert settlement.booked_at == booked_at


def test_the_booking_time_is_gos(settled):
    """``booked_at`` is when Go matched the posting (the matched item's ``lastChanged``), not
    when the sync saw it."""
    from pogo_sandbox.models import JournalVoucher
    from pogo_sandbox.models import LedgerEntry as PogoLedgerEntry

    go, settlement, _client = settled
    domain.post_voucher(JournalVoucher.objects.get())
    posted = PogoLedgerEntry.objects.get(voucher_type="BankJournal").last_changed

    run = go.sync()

    settlement.refresh_from_db()
    assert settlement.booked_at == posted < run.started_at
