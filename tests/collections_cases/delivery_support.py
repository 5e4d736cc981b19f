"""Helpers for the delivery and notification tests: a small valid PDF in place of the real
renderer, and a dunning run whose on-commit work (the delivery task) runs afterwards."""

import datetime as dt
import io

from pypdf import PdfWriter

from collections_cases.letters import documents
from tests.collections_cases.dunning_support import open_case, run

OPENED = dt.date(2025, 12, 1)  # Monday; the invoice fell due on Friday 14.11.2025
DUE = dt.date(2025, 11, 14)


def small_pdf(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def fake_renderer(monkeypatch) -> list[int]:
    """Replace the letter renderer with a one-page PDF; returns the ids of the letters it
    rendered (a list that fills as it is called). Like the real one, the first render of a
    letter issues its Min side code (the fake prints none); a delivery's own copy (a
    re-send) is faked too."""
    from collections_cases.portal import access as portal_access

    rendered = []

    def fake_letter_pdf_issued(letter, **kwargs):
        rendered.append(letter.pk)
        issued = None
        if not letter.portal_accesses.exists():
            issued = portal_access.access_issue(case=letter.case, letter=letter).access
        return small_pdf(), issued

    def fake_letter_pdf(letter, **kwargs):
        return fake_letter_pdf_issued(letter, **kwargs)[0]

    def fake_letter_document(letter, *, access_code):
        rendered.append(letter.pk)
        return small_pdf()

    monkeypatch.setattr(documents, "letter_pdf", fake_letter_pdf)
    monkeypatch.setattr(documents, "letter_pdf_issued", fake_letter_pdf_issued)
    monkeypatch.setattr(documents, "letter_document", fake_letter_document)
    return rendered


def iv_case(capture, **debtor_fields):
    """A case whose inkassovarsel the dunning run just recorded; the on-commit callbacks
    (the delivery task, eager in tests) run when the run has committed."""
    case = open_case(opened_on=OPENED, due=DUE, **debtor_fields)
    with capture(execute=True):
        result = run(OPENED)
    assert result.steps == {"inkassovarsel": 1}
    return case
