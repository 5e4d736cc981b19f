"""Documents as PDF: the letters to debtors, the payment plan confirmation and the creditor's
settlement statement. Templates live in ``templates/letters/`` (Norwegian, A4): the letters in
Typst (``*.typ``), the two statements in HTML drawn with WeasyPrint.

Public API::

    letter_pdf(letter, *, rerender=False) -> bytes   # stored once, then the same bytes
    letter_pdf_issued(letter, *, rerender=False)     # and the code's access, when drawn now
    letter_render(letter, *, access_code="") -> bytes # pure render from the recorded letter
    letter_document(letter, *, access_code) -> bytes  # render + original invoices, not stored
    letter_filename(letter) -> str                    # "inkassovarsel-K-2026-000001.pdf"
    letters_prefetch(letters)                         # what drawing them reads, for all at once
    document_payment_plan_pdf(*, case, instalments, agreed_on) -> bytes
    document_settlement_pdf(*, settlement)
"""

from collections_cases.letters.documents.letters import (
    letter_document,
    letter_filename,
    letter_pdf,
    letter_pdf_issued,
    letter_render,
    letters_prefetch,
)
from collections_cases.letters.documents.statements import (
    SETTLEMENT_COLUMNS,
    document_payment_plan_pdf,
    document_settlement_pdf,
)

__all__ = [
    "SETTLEMENT_COLUMNS",
    "document_payment_plan_pdf",
    "document_settlement_pdf",
    "letter_document",
    "letter_filename",
    "letter_pdf",
    "letter_pdf_issued",
    "letter_render",
    "letters_prefetch",
]
