"""The original invoice from PowerOffice Go: fetched once (sandbox requests counted), stored,
attached to the first letter of a case only; PoGo unavailable → the letter goes without it."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from collections_cases.letters.documents import letter_pdf
from collections_cases.models import Letter
from integrations.clients import poweroffice_config
from integrations.models import PowerOfficeConnection
from integrations.poweroffice import PowerOfficeClient
from integrations.services.invoice_pdf import invoice_original_pdf
from pogo_sandbox import domain
from pogo_sandbox.models import (
    DEFAULT_PRIVILEGES,
    Application,
    ClientSubscription,
    Company,
    FaultRule,
)
from tests.collections_cases.dunning_support import on_day, run
from tests.collections_cases.factories import DebtorFactory, InvoiceFactory
from tests.factories import CreditorFactory

D = dt.date
OPENED = D(2025, 12, 1)
DUE = D(2025, 11, 14)
PDF_PATH = "GetInvoicePdf"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def go(settings, pogo_wsgi, monkeypatch):
    """A creditor connected to a sandbox company, clients that never sleep on retries."""
    settings.POGO_SANDBOX_RATE_LIMIT = 10_000
    settings.POWEROFFICE_RATE_LIMIT_PER_SECOND = 10_000

    def build(*, client_key=None):
        return PowerOfficeClient(
            poweroffice_config(),
            client_key=client_key,
            session=pogo_wsgi.session(),
            sleep=lambda seconds: None,
        )

    import integrations.services.invoice_pdf

    monkeypatch.setattr(integrations.services.invoice_pdf, "poweroffice_client", build)
    application, _ = Application.objects.get_or_create(
        application_key=settings.POWEROFFICE_APPLICATION_KEY,
        defaults={
            "name": "Kravia Inkasso",
            "subscription_key": settings.POWEROFFICE_SUBSCRIPTION_KEY,
            "redirect_uri_prefix": settings.SITE_URL,
        },
    )
    creditor = CreditorFactory(attach_original_invoice=True)
    company = Company.objects.create(name=creditor.name, org_number=creditor.org_number)
    subscription = ClientSubscription.objects.create(
        application=application, company=company, privileges=list(DEFAULT_PRIVILEGES)
    )
    PowerOfficeConnection.objects.create(
        creditor=creditor,
        client_key=subscription.client_key,
        client_name=company.name,
        client_org_number=company.org_number,
        connected_at=timezone.now(),
    )
    customer = domain.create_customer(company, number=10001, name="Ola Nordmann", is_person=True)
    return {"creditor": creditor, "company": company, "customer": customer, "http": pogo_wsgi}


def pdf_requests(go) -> int:
    return sum(1 for e in go["http"].exchanges if PDF_PATH.lower() in e.path.lower())


def sandbox_invoice(go, invoice_no=4711, amount="2500.00"):
    pogo = domain.create_invoice(
        go["customer"],
        invoice_no=invoice_no,
        voucher_date=DUE - dt.timedelta(days=14),
        due_date=DUE,
        total_amount=Decimal(amount),
    )
    debtor = DebtorFactory(creditor=go["creditor"], pogo_id=go["customer"].pk)
    return InvoiceFactory(
        debtor=debtor,
        pogo_id=pogo.id,
        invoice_no=invoice_no,
        invoice_date=DUE - dt.timedelta(days=14),
        due_date=DUE,
        total_amount=Decimal(amount),
    )


def pages(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def test_fetched_once_and_stored(go):
    invoice = sandbox_invoice(go)

    first = invoice_original_pdf(invoice=invoice)
    second = invoice_original_pdf(invoice=invoice)
    invoice.refresh_from_db()
    third = invoice_original_pdf(invoice=invoice)

    assert first.startswith(b"%PDF") and first == second == third
    assert pdf_requests(go) == 1
    assert invoice.original_pdf.name.startswith("invoices/")
    assert invoice.original_pdf_fetched_at is not None
    assert "FAKTURA 4711" in pages(first)[0]


def test_not_fetched_when_the_creditor_does_not_attach_it(go):
    invoice = sandbox_invoice(go)
    go["creditor"].attach_original_invoice = False
    go["creditor"].save()
    invoice.refresh_from_db()

    assert invoice_original_pdf(invoice=invoice) is None
    assert pdf_requests(go) == 0


def test_pogo_unavailable_gives_none_and_a_later_call_tries_again(go, caplog):
    invoice = sandbox_invoice(go)
    rule = FaultRule.objects.create(
        path_prefix="/pogo/v1/DebtCollection/GetInvoicePdf", error_rate=1, faults=["503"]
    )

    assert invoice_original_pdf(invoice=invoice) is None
    assert "not fetched" in caplog.text
    invoice.refresh_from_db()
    assert not invoice.original_pdf

    rule.delete()
    assert invoice_original_pdf(invoice=invoice).startswith(b"%PDF")


def _two_letters(go):
    """A case of the connected creditor with its inkassovarsel and betalingsoppfordring."""
    from collections_cases.cases import services

    invoice = sandbox_invoice(go)
    with on_day(OPENED, hour=10):
        case = services.case_create(
            creditor=go["creditor"], debtor=invoice.debtor, invoices=[invoice], needs_approval=False
        )
    run(OPENED)
    case.refresh_from_db()
    run(case.next_action_date)
    iv, bo = case.letters.order_by("sent_on", "id")
    assert (iv.kind, bo.kind) == (Letter.Kind.INKASSOVARSEL, Letter.Kind.BETALINGSOPPFORDRING)
    return iv, bo


def test_original_invoice_appended_to_the_first_letter_only(go):
    iv, bo = _two_letters(go)

    iv_pdf = letter_pdf(iv)
    bo_pdf = letter_pdf(bo)

    iv_pages, bo_pages = pages(iv_pdf), pages(bo_pdf)
    assert "Inkassovarsel" in iv_pages[0]
    assert "FAKTURA 4711" in iv_pages[-1]
    assert not any("FAKTURA 4711" in page for page in bo_pages)
    assert pdf_requests(go) == 1
    # Stored: asked again, nothing is fetched or drawn again.
    assert letter_pdf(Letter.objects.get(pk=iv.pk)) == iv_pdf
    assert pdf_requests(go) == 1


def test_first_letter_goes_without_the_invoice_when_pogo_is_down(go):
    iv, _bo = _two_letters(go)
    FaultRule.objects.create(
        path_prefix="/pogo/v1/DebtCollection/GetInvoicePdf", error_rate=1, faults=["503"]
    )

    data = letter_pdf(iv)

    assert not any("FAKTURA 4711" in page for page in pages(data))
    assert "Inkassovarsel" in pages(data)[0]
    # Still unsent: a new render may try again and now gets the invoice.
    FaultRule.objects.all().delete()
    again = letter_pdf(Letter.objects.get(pk=iv.pk), rerender=True)
    assert "FAKTURA 4711" in pages(again)[-1]


@pytest.mark.django_db
def test_a_case_s_invoices_read_the_creditor_s_connection_once(django_assert_num_queries):
    from integrations.services.invoice_pdf import invoice_original_pdfs

    creditor = CreditorFactory(attach_original_invoice=True)  # not connected to Go
    debtor = DebtorFactory(creditor=creditor)
    invoices = [InvoiceFactory(creditor=creditor, debtor=debtor, pogo_id=900 + i) for i in range(3)]

    with django_assert_num_queries(1):
        assert invoice_original_pdfs(invoices=invoices, creditor=creditor) == [None] * 3
    creditor.attach_original_invoice = False
    with django_assert_num_queries(0):
        assert invoice_original_pdfs(invoices=invoices, creditor=creditor) == [None] * 3
