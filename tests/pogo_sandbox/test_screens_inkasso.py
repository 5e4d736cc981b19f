"""Inkasso (Utkast / Godkjent / Åpne) and Bilagsmottak."""

import datetime as dt
from decimal import Decimal

import pytest

from pogo_sandbox import domain
from pogo_sandbox.models import (
    DebtCollectionCase,
    GeneralLedgerAccount,
    JournalVoucher,
    OutgoingInvoice,
)

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.pogo_sandbox.test_screens_support"]
Status = OutgoingInvoice.DebtCollectionStatus


def _text(response) -> str:
    return response.content.decode()


def _status(invoice):
    invoice.refresh_from_db()
    return invoice.debt_collection_status


@pytest.fixture
def second_invoice(customer):
    today = domain.oslo_today()
    return domain.create_invoice(
        customer,
        invoice_no=1002,
        voucher_date=today - dt.timedelta(days=60),
        due_date=today - dt.timedelta(days=45),
        total_amount=Decimal("480.00"),
    )


def test_drafts_tab_refreshes_and_lists_overdue_invoices(go_client, invoice):
    assert _status(invoice) == Status.NONE

    html = _text(go_client.get("/pogo/inkasso/"))

    assert _status(invoice) == Status.DRAFT
    assert "Ola Nordmann" in html
    assert ">1001<" in html
    assert ">Godkjenn alle</button>" in html
    assert ">Godkjenn</button>" in html
    assert ">Fjern</button>" in html


def test_customer_without_transfer_never_reaches_drafts(go_client, invoice, customer):
    customer.transfer_to_debt_collection_agency = False
    customer.save()

    html = _text(go_client.get("/pogo/inkasso/"))

    assert _status(invoice) == Status.NONE
    assert "Ingen fakturaer venter på godkjenning." in html


def test_approve_one(go_client, invoice, second_invoice):
    go_client.get("/pogo/inkasso/")

    response = go_client.post("/pogo/inkasso/godkjenn/", {"invoice_id": invoice.pk}, follow=True)

    assert "1 faktura godkjent" in _text(response)
    assert _status(invoice) == Status.APPROVED
    assert _status(second_invoice) == Status.DRAFT
    approved = _text(go_client.get("/pogo/inkasso/godkjent/"))
    assert ">1001<" in approved
    assert ">1002<" not in approved


def test_approve_all(go_client, invoice, second_invoice):
    go_client.get("/pogo/inkasso/")

    response = go_client.post("/pogo/inkasso/godkjenn/", {"alle": "1"}, follow=True)

    assert "2 fakturaer godkjent" in _text(response)
    assert _status(invoice) == Status.APPROVED
    assert _status(second_invoice) == Status.APPROVED


def test_remove_draft(go_client, invoice):
    go_client.get("/pogo/inkasso/")

    response = go_client.post("/pogo/inkasso/fjern/", {"invoice_id": invoice.pk}, follow=True)

    assert "Faktura 1001 er fjernet fra Utkast" in _text(response)
    assert _status(invoice) == Status.ON_HOLD
    assert "Ingen fakturaer venter på godkjenning." in _text(go_client.get("/pogo/inkasso/"))


def test_approve_rejects_an_unknown_invoice(go_client, invoice):
    response = go_client.post("/pogo/inkasso/godkjenn/", {"invoice_id": "ikke-en-id"})

    assert response.status_code == 400


def test_open_tab_shows_the_agency_cases(go_client, company, application, invoice):
    case = DebtCollectionCase.objects.create(
        company=company,
        application=application,
        code="K-2026-0042",
        status_text="Inkassovarsel sendt 01.11.2026",
        balance_agency=Decimal("1480.00"),
        external_case_url="https://kundeweb.example/saker/42/",
    )
    invoice.debt_case = case
    invoice.debt_collection_status = Status.EXPORTED
    invoice.save()
    DebtCollectionCase.objects.create(
        company=company, application=application, code="K-2026-0007", status=10
    )

    html = _text(go_client.get("/pogo/inkasso/apne/"))

    assert "K-2026-0042" in html
    assert "Inkassovarsel sendt 01.11.2026" in html
    assert "kr 1\u00a0480,00" in html
    assert 'href="https://kundeweb.example/saker/42/"' in html
    assert "Åpne saken hos inkassobyrået" in html
    assert "K-2026-0007" in html


# --- Bilagsmottak ----------------------------------------------------------------------------------


@pytest.fixture
def voucher(company, application, invoice):
    bank = GeneralLedgerAccount.objects.create(company=company, account_no=1920, name="Bank")
    receivable = GeneralLedgerAccount.objects.create(
        company=company, account_no=1500, name="Kundefordringer"
    )
    return JournalVoucher.objects.create(
        company=company,
        application=application,
        kind=JournalVoucher.Kind.BANK,
        voucher_date=domain.oslo_today(),
        description="Oppgjør inkassosak K-2026-0042",
        lines=[
            {
                "DebitAccountId": bank.pk,
                "CreditAccountId": receivable.pk,
                "CurrencyAmount": 1250.0,
                "InvoiceNo": "1001",
                "Description": "Innbetalt hovedstol",
            }
        ],
    )


def test_inbox_lists_received_vouchers_with_their_lines(go_client, voucher):
    html = _text(go_client.get("/pogo/bilagsmottak/"))

    assert "Oppgjør inkassosak K-2026-0042" in html
    assert "1920 Bank" in html
    assert "1500 Kundefordringer" in html
    assert "Innbetalt hovedstol" in html
    assert "kr 1\u00a0250,00" in html
    assert ">Bokfør</button>" in html


def test_post_voucher_matches_the_invoice(go_client, voucher, invoice):
    response = go_client.post(f"/pogo/bilagsmottak/{voucher.pk}/bokfor/", follow=True)

    voucher.refresh_from_db()
    invoice.refresh_from_db()
    assert voucher.is_posted
    assert invoice.balance == 0
    html = _text(response)
    assert f"Bilaget er bokført som bilag nr. {voucher.voucher_no}." in html
    assert "Ingen bilag venter på bokføring." in html


def test_post_voucher_for_an_unknown_invoice_shows_the_error(go_client, voucher, invoice):
    voucher.lines[0]["InvoiceNo"] = "9999"
    voucher.save()

    response = go_client.post(f"/pogo/bilagsmottak/{voucher.pk}/bokfor/", follow=True)

    assert "Bilaget ble ikke bokført: Fant ikke faktura 9999." in _text(response)
    voucher.refresh_from_db()
    invoice.refresh_from_db()
    assert not voucher.is_posted
    assert invoice.balance == Decimal("1250.00")


def test_inbox_names_a_customers_sub_ledger(go_client, company, application, invoice):
    customer = invoice.customer
    customer.subledger_account_id = 10_000_777
    customer.save()
    JournalVoucher.objects.create(
        company=company,
        application=application,
        kind=JournalVoucher.Kind.BANK,
        voucher_date=domain.oslo_today(),
        description="Oppgjør O-2026-000001",
        lines=[{"CreditAccountId": 10_000_777, "CurrencyAmount": 10.0, "InvoiceNo": "1001"}],
    )

    html = _text(go_client.get("/pogo/bilagsmottak/"))

    assert f"Kunde {customer.number} {customer.name}" in html
    assert "Konto-ID" not in html
