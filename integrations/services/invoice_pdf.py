"""The original invoice PDF from PowerOffice Go ("Legg ved originalfaktura"), fetched once.

:func:`invoice_original_pdf` answers the stored copy when there is one. Otherwise, when the
creditor chose to attach the original invoice and has a live PowerOffice Go connection, it
asks Go once (v1 ``DebtCollection/GetInvoicePdf``; v2 ``VoucherDocumentation/Download`` when
v1 does not know the invoice), stores the bytes on ``invoice.original_pdf`` and never asks
again. Call it outside a database transaction: the HTTP call must not hold row locks.

A failure (Go unavailable, invoice unknown, not a PDF) is logged and answers ``None``: the
letter goes out without the attachment, and the next call tries again.
"""

from __future__ import annotations

import logging

from django.core.files.base import ContentFile
from django.utils import timezone

from collections_cases.models import Invoice
from integrations.clients import poweroffice_client
from integrations.models import PowerOfficeConnection
from integrations.poweroffice.errors import NotFound

logger = logging.getLogger(__name__)

_NOT_READ = object()


def _stored(invoice: Invoice) -> bytes | None:
    if not invoice.original_pdf:
        return None
    try:
        with invoice.original_pdf.open("rb") as handle:
            return handle.read()
    except OSError:
        logger.exception("Invoice %s: stored original PDF is unreadable", invoice.pk)
        return None


def _fetch(client_key: str, invoice: Invoice) -> bytes:
    with poweroffice_client(client_key=client_key) as client:
        try:
            return client.dc_invoice_pdf(invoice.pogo_id)
        except NotFound:
            return client.voucher_documentation_download(invoice.pogo_id)


def invoice_original_pdf(*, invoice: Invoice) -> bytes | None:
    """The invoice as the creditor sent it (PDF bytes), or ``None`` when it is not to be
    attached or could not be fetched."""
    return invoice_original_pdfs(invoices=[invoice], creditor=invoice.creditor)[0]


def invoice_original_pdfs(*, invoices, creditor) -> list[bytes | None]:
    """:func:`invoice_original_pdf` of each of ``invoices`` (all ``creditor``'s: a case's, for
    its first letter), the creditor's PowerOffice Go connection read once, and only when an
    invoice is to be fetched."""
    connection = _NOT_READ
    originals = []
    for invoice in invoices:
        data = _stored(invoice)
        if data is None and creditor.attach_original_invoice and invoice.pogo_id is not None:
            if connection is _NOT_READ:
                connection = PowerOfficeConnection.objects.filter(creditor=creditor).first()
            if connection is not None and connection.is_connected:
                data = _fetch_and_store(connection, invoice)
        originals.append(data)
    return originals


def _fetch_and_store(connection: PowerOfficeConnection, invoice: Invoice) -> bytes | None:
    try:
        data = _fetch(connection.client_key, invoice)
    except Exception as exc:  # PoGo down, refused, timed out: the letter goes without it
        logger.warning(
            "Invoice %s (no. %s): original PDF not fetched from PowerOffice Go: %s",
            invoice.pk,
            invoice.invoice_no,
            exc,
        )
        return None
    if not data.startswith(b"%PDF"):
        logger.warning(
            "Invoice %s (no. %s): PowerOffice Go answered something that is not a PDF",
            invoice.pk,
            invoice.invoice_no,
        )
        return None

    field = invoice.original_pdf.field
    name = field.storage.save(
        field.generate_filename(invoice, f"faktura-{invoice.invoice_no}.pdf"), ContentFile(data)
    )
    fetched_at = timezone.now()
    # Only the first one to finish stores it; a concurrent fetch throws its copy away.
    updated = Invoice.objects.filter(pk=invoice.pk, original_pdf="").update(
        original_pdf=name, original_pdf_fetched_at=fetched_at
    )
    if not updated:
        field.storage.delete(name)
        invoice.refresh_from_db(fields=["original_pdf", "original_pdf_fetched_at"])
        return _stored(invoice) or data
    invoice.original_pdf.name = name
    invoice.original_pdf_fetched_at = fetched_at
    return data
