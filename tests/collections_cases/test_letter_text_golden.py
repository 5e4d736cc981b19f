"""Every letter kind prints the same words as the golden text (issue 19: the engine changed,
the wording did not).

The golden files in ``fixtures/letters_text/`` were captured from the WeasyPrint letters
(the HTML templates, since deleted) before the letters moved to Typst: each fixture below is
a letter built through the dunning run on frozen dates with fixed names and amounts, drawn,
its words read with their positions by poppler's ``pdftotext -bbox`` and put in reading order
(:func:`bench.letter_text.reading_text`: the head of page 1 column by column, the body line by
line across pages, then each page's header and footer), so that the order is the reader's
and not the engine's. The test draws each with ``letter_render`` (Typst) and compares.
A changed, added or dropped word of legal text fails the comparison, and so does a word in
another order. Numbers that depend on the database's sequences (the case number, the KID)
are replaced by placeholders first.

``LETTERS_GOLDEN_WRITE=1`` writes the files from the letters as drawn now (only to capture a
deliberate change of wording; say so in the commit).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from bench.letter_text import reading_text
from collections_cases.cases import services
from collections_cases.letters.documents import letter_render
from collections_cases.models import CollectionCase, Letter
from collections_cases.payments.services import payment_register
from tests.collections_cases.dunning_support import on_day, run
from tests.collections_cases.factories import DebtorFactory, InvoiceFactory
from tests.factories import CreditorFactory

pytestmark = pytest.mark.django_db

Kind = Letter.Kind
D = dt.date
GOLDEN = Path(__file__).parent / "fixtures" / "letters_text"

#: A debtor whose name is Typst (and HTML) markup: it must print literally.
HOSTILE_NAME = '#set page(width: 1cm) *fet* $x^2$ \\ <etikett> @ref _kursiv_ [innhold] "sitat"'


@pytest.fixture(autouse=True)
def agency(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = "http://127.0.0.1:8000"
    settings.AGENCY_NAME = "Kravia Inkasso AS"
    settings.AGENCY_ORG_NUMBER = "999123457"
    settings.AGENCY_ACCOUNT_NUMBER = "15036123459"
    settings.AGENCY_ADDRESS = "Postboks 123 Sentrum, 0101 Oslo"
    settings.AGENCY_EMAIL = "post@kravia.example.no"
    settings.AGENCY_PHONE = "22 00 00 00"
    settings.REMAINDER_STATEMENT_MAX_PRINCIPAL = "5000.00"


def normalised_text(data: bytes) -> str:
    """The PDF's words in reading order, one space between them (``reading_text``:
    the same order whichever engine drew the letter)."""
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext (poppler-utils) is needed to read the letters' text")
    return reading_text(data)


def with_placeholders(text: str, case: CollectionCase) -> str:
    text = text.replace(case.number, "<SAKSNUMMER>")
    return re.sub(rf"\b{re.escape(case.kid)}\b", "<KID>", text)


def open_fixed_case(
    *,
    opened_on: dt.date,
    due: dt.date,
    amount: str,
    name: str = "Kari Nordmann",
    invoice_no: int = 20417,
    **debtor_fields,
) -> CollectionCase:
    """A case with fixed names, numbers and amounts (no factory sequences in the text)."""
    debtor_fields.setdefault("address_line", "Storgata 1")
    debtor_fields.setdefault("postal_code", "0155")
    debtor_fields.setdefault("postal_city", "Oslo")
    with on_day(opened_on, hour=10):
        creditor = CreditorFactory(name="Fjord Rørlegger AS", org_number="923609016")
        debtor = DebtorFactory(creditor=creditor, name=name, **debtor_fields)
        invoice = InvoiceFactory(
            debtor=debtor,
            invoice_no=invoice_no,
            invoice_date=due - dt.timedelta(days=14),
            due_date=due,
            total_amount=Decimal(amount),
        )
        return services.case_create(
            creditor=creditor, debtor=debtor, invoices=[invoice], needs_approval=False
        )


def run_until(case: CollectionCase, kind: str, start: dt.date) -> Letter:
    on = start
    for _ in range(10):
        run(on)
        case.refresh_from_db()
        letter = case.letters.order_by("-sent_on", "-id").first()
        if letter is not None and letter.kind == kind:
            return letter
        on = max(case.next_action_date, on + dt.timedelta(days=1))
    raise AssertionError(f"no {kind} letter")


def pay(case: CollectionCase, amount: str, on: dt.date):
    with on_day(on, hour=12):
        return payment_register(
            amount=Decimal(amount), paid_on=on, external_reference=f"golden-{on}", case=case
        )


OPENED = D(2025, 12, 1)
DUE = D(2025, 11, 14)


def _through_run(kind: str, **fields) -> Letter:
    case = open_fixed_case(opened_on=OPENED, due=DUE, amount="12345.50", **fields)
    return run_until(case, kind, OPENED)


def _after_part_payment(kind: str) -> Letter:
    """The reference's case (test_letters_truth): 5 000.00 due 01.06.2026, inkassovarsel
    16.06.2026, 2 000.00 paid 25.06.2026."""
    case = open_fixed_case(opened_on=D(2026, 6, 15), due=D(2026, 6, 1), amount="5000.00")
    run(D(2026, 6, 16))
    pay(case, "2000.00", D(2026, 6, 25))
    if kind == Kind.REMAINDER_STATEMENT:
        return case.letters.get(kind=kind)
    return run_until(case, kind, D(2026, 7, 14))


def _varsel_pre_approved() -> Letter:
    letter = _through_run(Kind.VARSEL_RETTSLIG)
    CollectionCase.objects.filter(pk=letter.case_id).update(
        legal_approved_at=letter.created_at - dt.timedelta(days=3)
    )
    return letter


FIXTURES = {
    "inkassovarsel": lambda: _through_run(Kind.INKASSOVARSEL),
    "betalingsoppfordring": lambda: _through_run(Kind.BETALINGSOPPFORDRING),
    "varsel_rettslig": lambda: _through_run(Kind.VARSEL_RETTSLIG),
    "varsel_rettslig_godkjent": _varsel_pre_approved,
    "new_betalingsoppfordring": lambda: _through_run(Kind.NEW_BETALINGSOPPFORDRING),
    "remainder_statement": lambda: _after_part_payment(Kind.REMAINDER_STATEMENT),
    "betalingsoppfordring_etter_delbetaling": lambda: _after_part_payment(
        Kind.BETALINGSOPPFORDRING
    ),
    "inkassovarsel_markup_name": lambda: _through_run(
        Kind.INKASSOVARSEL,
        name=HOSTILE_NAME,
        address_line="Gate * 1 $ # _ [ ] \\ < > @",
        postal_city="Bø i Telemark",
        country_code="SE",
    ),
}


def test_every_letter_kind_has_a_golden_fixture():
    assert set(Kind.values) <= set(FIXTURES)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_the_letter_prints_the_golden_text(name):
    letter = FIXTURES[name]()
    letter = Letter.objects.select_related("case__debtor", "case__creditor").get(pk=letter.pk)

    text = with_placeholders(normalised_text(letter_render(letter)), letter.case)

    path = GOLDEN / f"{name}.txt"
    if os.environ.get("LETTERS_GOLDEN_WRITE"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace(" ", "\n") + "\n", encoding="utf-8")
    golden = " ".join(path.read_text(encoding="utf-8").split())
    assert text == golden


def test_a_markup_name_prints_literally():
    letter = FIXTURES["inkassovarsel_markup_name"]()

    text = normalised_text(letter_render(letter))

    assert " ".join(HOSTILE_NAME.split()) in text
    assert "Gate * 1 $ # _ [ ] \\ < > @" in text
