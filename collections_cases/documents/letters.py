"""Letters to the debtor as PDF: inkassovarsel, betalingsoppfordring, varsel om rettslig
inndriving and the new betalingsoppfordring (templates in ``templates/letters/``).

:func:`letter_render` is pure: it draws the letter from what the dunning run recorded on the
:class:`~collections_cases.models.Letter` (its date, deadline, fee and ``amounts``) plus the
case, debtor, creditor and the agency settings — never from today's ledger. :func:`letter_pdf`
renders once, stores the file on ``letter.pdf`` and from then on answers the stored bytes, so
the document a debtor received never changes. The first letter of a case carries the original
invoice(s) from PowerOffice Go when the creditor asked for it.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.dateparse import parse_date

from collections_cases.documents import formatting as fmt
from collections_cases.documents.rendering import html_to_pdf, pdf_merge
from collections_cases.models import Letter

logger = logging.getLogger(__name__)

Kind = Letter.Kind

TEMPLATES = {
    Kind.INKASSOVARSEL: "letters/inkassovarsel.html",
    Kind.BETALINGSOPPFORDRING: "letters/betalingsoppfordring.html",
    Kind.VARSEL_RETTSLIG: "letters/varsel_rettslig.html",
    Kind.NEW_BETALINGSOPPFORDRING: "letters/new_betalingsoppfordring.html",
}

#: File name stems, e.g. ``inkassovarsel-K-2026-000001.pdf``.
FILE_STEMS = {
    Kind.INKASSOVARSEL: "inkassovarsel",
    Kind.BETALINGSOPPFORDRING: "betalingsoppfordring",
    Kind.VARSEL_RETTSLIG: "varsel-om-rettslig-inndriving",
    Kind.NEW_BETALINGSOPPFORDRING: "ny-betalingsoppfordring",
}

#: Finansklagenemnda (INKL § 10 f): where a debtor can complain about the agency.
FINANSKLAGENEMNDA = {
    "name": "Finansklagenemnda",
    "address": "Postboks 53 Skøyen, 0212 Oslo",
    "website": "www.finkn.no",
}

ZERO = Decimal("0.00")


def letter_filename(letter: Letter) -> str:
    return f"{FILE_STEMS.get(letter.kind, letter.kind)}-{letter.case.number}.pdf"


def _decimal(amounts: dict, key: str) -> Decimal:
    try:
        return Decimal(str(amounts.get(key) or "0"))
    except ArithmeticError:
        return ZERO


def _amount_lines(letter: Letter) -> tuple[list[dict], Decimal]:
    """The amount to pay broken down as recorded on the letter, and its total."""
    amounts = letter.amounts or {}
    principal = _decimal(amounts, "principal")
    interest = _decimal(amounts, "interest")
    fees = _decimal(amounts, "fees")
    salaer = _decimal(amounts, "salaer")
    payments = _decimal(amounts, "payments")
    total = _decimal(amounts, "total") if "total" in amounts else None
    fee_label = "Gebyr for inkassovarsel" if letter.kind == Kind.INKASSOVARSEL else "Gebyrer"
    rows = [
        ("principal", "Hovedstol", principal),
        ("interest", "Forsinkelsesrente", interest),
        ("fees", fee_label, fees),
        ("salaer", "Inkassosalær", salaer),
    ]
    lines = [
        {"key": key, "label": label, "amount": value, "display": fmt.amount(value)}
        for key, label, value in rows
        if value or key == "principal"
    ]
    if payments:
        lines.append(
            {
                "key": "payments",
                "label": "Innbetalt",
                "amount": payments,
                "display": fmt.amount(payments),
            }
        )
    shown = principal + interest + fees + salaer + payments
    if total is None:
        total = shown
    elif total != shown:
        other = total - shown
        lines.append(
            {
                "key": "other",
                "label": "Andre tillegg og fradrag",
                "amount": other,
                "display": fmt.amount(other),
            }
        )
    return lines, total


def _invoices(letter: Letter) -> list[dict]:
    rows = []
    for invoice in letter.case.invoices.order_by("invoice_no"):
        rows.append(
            {
                "number": invoice.invoice_no,
                "date": fmt.day(invoice.invoice_date),
                "due_date": fmt.day(invoice.due_date),
                "amount": fmt.amount(invoice.total_amount),
            }
        )
    return rows


def letter_context(letter: Letter) -> dict:
    case = letter.case
    amounts = letter.amounts or {}
    lines, total = _amount_lines(letter)
    interest_from = parse_date(str(amounts.get("interest_from") or ""))
    is_bo = letter.kind in (Kind.BETALINGSOPPFORDRING, Kind.NEW_BETALINGSOPPFORDRING)
    return {
        "letter": letter,
        "kind": letter.kind,
        "is_bo": is_bo,
        "case": case,
        "debtor": case.debtor,
        "creditor": case.creditor,
        "agency": fmt.agency(),
        "sent_on": fmt.day(letter.sent_on),
        "deadline": fmt.day(letter.deadline),
        "fee": fmt.amount(letter.fee),
        "invoices": _invoices(letter),
        "lines": lines,
        "total": fmt.amount(total),
        "has_interest_rate": "interest_rate" in amounts,
        "interest_rate": fmt.percent(amounts.get("interest_rate")),
        "interest_from": fmt.day(interest_from),
        "kid": case.kid,
        "min_side_url": fmt.min_side_url(),
        "nemnd": FINANSKLAGENEMNDA,
        "title": letter.get_kind_display(),
    }


def letter_render(letter: Letter) -> bytes:
    """The letter as PDF, drawn from its recorded amounts and dates (no attachment)."""
    template = TEMPLATES.get(letter.kind)
    if template is None:
        raise ValueError(f"No letter template for kind {letter.kind!r}")
    return html_to_pdf(template, letter_context(letter))


def letter_is_first(letter: Letter) -> bool:
    first = letter.case.letters.order_by("sent_on", "id").values_list("pk", flat=True).first()
    return first == letter.pk


def _attachments(letter: Letter) -> list[bytes]:
    """The original invoices for the case's first letter (when the creditor wants them)."""
    if not letter.case.creditor.attach_original_invoice or not letter_is_first(letter):
        return []
    from integrations.services.invoice_pdf import invoice_original_pdf

    pdfs = []
    for invoice in letter.case.invoices.order_by("invoice_no"):
        data = invoice_original_pdf(invoice=invoice)
        if data:
            pdfs.append(data)
    return pdfs


#: Delivery statuses (``letter.deliveries``) after which the letter has left the agency.
SENT_DELIVERY_STATUSES = ("sending", "sent", "print_queued", "posted", "bounced")


def letter_is_sent(letter: Letter) -> bool:
    """Whether the letter was handed to the debtor's channel (its document is then final)."""
    if letter.status != Letter.Status.RECORDED:
        return True
    deliveries = getattr(letter, "deliveries", None)
    if deliveries is None:
        return False
    return deliveries.filter(status__in=SENT_DELIVERY_STATUSES).exists()


def _read_stored(letter: Letter) -> bytes | None:
    if not letter.pdf:
        return None
    try:
        with letter.pdf.open("rb") as handle:
            return handle.read()
    except OSError:
        logger.exception("Letter %s: stored PDF %s is unreadable", letter.pk, letter.pdf.name)
        return None


def letter_pdf(letter: Letter, *, rerender: bool = False) -> bytes:
    """The letter's PDF: the stored one, or rendered now (with the original invoices on the
    case's first letter) and stored. Call it outside a database transaction (it may fetch the
    original invoice from PowerOffice Go).

    ``rerender=True`` throws the stored PDF away and renders again — only for a letter not yet
    sent (:func:`letter_is_sent`), e.g. to try the original invoice once more after
    PowerOffice Go was unavailable; a sent letter raises ``ValueError``.
    """
    if rerender:
        if letter_is_sent(letter):
            raise ValueError("Only a letter not yet sent can be rendered again")
        if letter.pdf:
            old = letter.pdf.name
            Letter.objects.filter(pk=letter.pk).update(pdf="", rendered_at=None)
            letter.pdf.storage.delete(old)
            letter.pdf.name = ""
            letter.rendered_at = None
    else:
        stored = _read_stored(letter)
        if stored is not None:
            return stored

    data = letter_render(letter)
    attachments = _attachments(letter)
    if attachments:
        data = pdf_merge(data, attachments)

    field = letter.pdf.field
    name = field.storage.save(
        field.generate_filename(letter, letter_filename(letter)), ContentFile(data)
    )
    rendered_at = timezone.now()
    # Only the first render to finish is kept: a concurrent one answers the stored bytes.
    updated = Letter.objects.filter(pk=letter.pk, pdf="").update(pdf=name, rendered_at=rendered_at)
    if not updated:
        field.storage.delete(name)
        letter.refresh_from_db(fields=["pdf", "rendered_at"])
        return _read_stored(letter) or data
    letter.pdf.name = name
    letter.rendered_at = rendered_at
    return data
