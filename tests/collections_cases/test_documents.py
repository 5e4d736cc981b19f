"""Letter documents: each letter type built through the dunning run, rendered to PDF, and its
extracted text checked for every legal element, the amounts and dates of the letter record
(which match the case ledger at the step), the KID, the account number and Min side.

Set ``LETTER_PDF_DIR`` to keep the rendered PDFs (to look at them: ``pdftoppm -png``).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader
from stdnum import luhn

from collections_cases import rules
from collections_cases.cases.selectors import case_amounts
from collections_cases.letters.documents import (
    document_payment_plan_pdf,
    letter_filename,
    letter_pdf,
    letter_render,
)
from collections_cases.letters.documents import letters as letter_documents
from collections_cases.models import CollectionCase, Letter
from collections_cases.portal import access as portal_access
from tests.collections_cases.dunning_support import open_case, run

pytestmark = pytest.mark.django_db

Kind = Letter.Kind
D = dt.date
OPENED = D(2025, 12, 1)  # the invoice fell due on 14.11.2025
DUE = D(2025, 11, 14)
ACCOUNT = "1503 61 23459"
MIN_SIDE = "http://127.0.0.1:8000/min-side/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = "http://127.0.0.1:8000"
    settings.AGENCY_ACCOUNT_NUMBER = "15036123459"
    settings.AGENCY_NAME = "Kravia Inkasso AS"


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return re.sub(r"\s+", " ", text.replace("\xa0", " "))


def page_count(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)


ARTEFACTS = Path(
    os.environ.get("LETTER_PDF_DIR")
    or Path(__file__).resolve().parents[2] / "test-results" / "letters"
)


def keep(name: str, data: bytes) -> None:
    """Keep the PDF and its first page as PNG in test-results/letters/ for a person to read.

    CI installs poppler-utils; a run without ``pdftoppm`` keeps only the PDF (and fails on CI).
    """
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    pdf_path = ARTEFACTS / name
    pdf_path.write_bytes(data)
    if not shutil.which("pdftoppm"):
        if os.environ.get("CI"):
            pytest.fail("pdftoppm (poppler-utils) is needed to keep the letters' first pages")
        return
    stem = pdf_path.with_suffix("")
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(pdf_path),
            str(stem),
        ],
        check=True,
        timeout=60,
    )
    assert stem.with_suffix(".png").stat().st_size > 5_000  # a rendered page, not a blank


def nok(value) -> str:
    """``1 234,50`` as printed in letters (spaces normalised)."""
    whole, _, fraction = f"{Decimal(value):,.2f}".partition(".")
    return f"{whole.replace(',', ' ')},{fraction}"


def day(value: dt.date) -> str:
    return value.strftime("%d.%m.%Y")


def case_until(kind: str, **open_kwargs) -> tuple[CollectionCase, Letter, dict]:
    """A case run through the dunning steps until it records a letter of ``kind``; the
    ledger totals right after that step."""
    open_kwargs.setdefault("amount", "12345.50")
    case = open_case(opened_on=OPENED, due=DUE, **open_kwargs)
    on = OPENED
    for _ in range(8):
        run(on)
        case.refresh_from_db()
        letter = case.letters.order_by("-sent_on", "-id").first()
        if letter is not None and letter.kind == kind:
            return case, letter, case_amounts(case)
        on = max(case.next_action_date, on + dt.timedelta(days=1))
    raise AssertionError(f"no {kind} letter")


def assert_common(
    text: str, case: CollectionCase, letter: Letter, totals: dict, *, with_code: bool = True
) -> None:
    """``with_code``: the letter's stored PDF (letter_pdf), which prints its access code;
    a bare ``letter_render`` prints none and says where the code is."""
    # The amounts the letter recorded are the ledger's at that step …
    assert Decimal(letter.amounts["principal"]) == totals["principal_outstanding"]
    assert Decimal(letter.amounts["total"]) == totals["balance"]
    # … and printed as "1 234,50".
    assert f"Hovedstol {nok(totals['principal_outstanding'])}" in text
    assert f"Å betale {nok(totals['balance'])}" in text
    assert f"Beløp å betale kr {nok(totals['balance'])}" in text
    if totals["interest"]:
        assert nok(totals["interest"]) in text
    # Dates dd.mm.yyyy: the letter's own date and deadline, the invoice's dates.
    assert f"Dato {day(letter.sent_on)}" in text
    assert f"Betalingsfrist {day(letter.deadline)}" in text
    assert letter.deadline == rules.deadline(letter.sent_on, 14)
    invoice = case.invoices.get()
    assert (
        f"{invoice.invoice_no} {day(invoice.invoice_date)} {day(invoice.due_date)} "
        f"{nok(invoice.total_amount)}" in text
    )
    # Payment: the agency's account, the case's KID (MOD10), Min side with the letter's own
    # access code (the KID opens nothing; the code is valid and stored only as an HMAC).
    assert f"Til kontonummer {ACCOUNT}" in text
    assert f"KID {case.kid}" in text
    assert luhn.is_valid(case.kid)
    assert MIN_SIDE in text
    assert "KID-en er bare til betalingen og gir ikke tilgang" in text
    assert case.creditor.name in text
    if not with_code:
        assert f"saksnummer {case.number} og tilgangskoden fra brevet vårt" in text
        return
    found = re.search(
        rf"saksnummer {case.number} og tilgangskoden ([A-Z0-9]{{5}}-[A-Z0-9]{{5}})", text
    )
    assert found, "the letter prints its access code"
    access = portal_access.code_access(number=case.number, code=found.group(1))
    assert access is not None and access.letter_id == letter.pk
    assert found.group(1).replace("-", "") not in access.code_hash


def assert_bo_elements(text: str, case: CollectionCase, letter: Letter, totals: dict) -> None:
    # (a) the creditor's name
    assert f"Kreditor er {case.creditor.name}" in text
    # (b) what the claim concerns
    assert "Hva kravet gjelder" in text
    # (c) principal and each additional claim separately
    assert f"Hovedstol {nok(totals['principal_outstanding'])}" in text
    assert f"Inkassosalær {nok(totals['salaer'])}" in text
    assert nok(totals["interest"]) in text
    if totals["fee"]:
        assert f"Gebyrer {nok(totals['fee'])}" in text
    # (d) the interest rate used and the date it runs from: each period with its own rate
    # (test_letters_truth.py), and the rate in force on the letter's date
    rate = f"{rules.late_interest_rate(letter.sent_on):.2f}".replace(".", ",")
    assert f"fra forfall {day(DUE)}" in text
    assert f"Satsen per {day(letter.sent_on)} er {rate} % per år" in text
    assert f"Forsinkelsesrente til og med {day(letter.sent_on)} {nok(totals['interest'])}" in text
    # (e) consequences of not paying
    assert "kan kravet bli inndrevet rettslig" in text
    assert "ytterligere kostnader" in text
    # (f) the right to complain to the nemnd, with its address
    assert "Finansklagenemnda, Postboks 53 Skøyen, 0212 Oslo, www.finkn.no" in text
    # … and the right to object within the deadline
    assert f"innen betalingsfristen {day(letter.deadline)}" in text


def test_inkassovarsel_has_every_element_and_is_stored_once():
    case, letter, totals = case_until(Kind.INKASSOVARSEL)

    data = letter_pdf(letter)

    keep("inkassovarsel.pdf", data)
    text = pdf_text(data)
    assert text.count("Inkassovarsel") >= 1 and "purring" not in text.lower()
    assert "inkassoloven § 9" in text
    assert f"Betal kr {nok(totals['balance'])} innen {day(letter.deadline)}" in text
    assert "Hvis kravet ikke er betalt innen fristen, vil inkasso bli satt i gang" in text
    assert (letter.deadline - letter.sent_on).days >= 14
    # principal without earlier fees, the fee on its own line
    assert f"Gebyr for inkassovarsel {nok(letter.fee)}" in text
    assert letter.fee == rules.letter_fee(due_date=DUE, sent_on=letter.sent_on)
    assert_common(text, case, letter, totals)

    letter.refresh_from_db()
    assert letter.pdf.name.startswith(f"letters/{dt.date.today():%Y/%m}/inkassovarsel-")
    assert letter.rendered_at is not None
    assert letter_filename(letter) == f"inkassovarsel-{case.number}.pdf"
    # A stored letter is never drawn again: same bytes, even after the ledger moved on.
    run(case.next_action_date)
    assert letter_pdf(Letter.objects.get(pk=letter.pk)) == data


def test_betalingsoppfordring_has_every_inkassoloven_10_element():
    case, letter, totals = case_until(
        Kind.BETALINGSOPPFORDRING,
        address_line="Storgata 1",
        postal_code="0155",
        postal_city="Oslo",
    )
    assert totals["salaer"] > 0

    data = letter_render(letter)

    keep("betalingsoppfordring.pdf", data)
    text = pdf_text(data)
    assert "Betalingsoppfordring" in text and "inkassoloven § 10" in text
    assert_bo_elements(text, case, letter, totals)
    assert_common(text, case, letter, totals, with_code=False)
    assert f"{case.debtor.name} Storgata 1 0155 Oslo" in text  # the window-envelope block
    assert not letter.pdf  # a pure render stores nothing


def test_varsel_om_rettslig_inndriving_warns_of_enforcement_within_14_days():
    case, letter, totals = case_until(Kind.VARSEL_RETTSLIG)

    data = letter_render(letter)

    keep("varsel_rettslig.pdf", data)
    text = pdf_text(data)
    assert "Varsel om rettslig inndriving" in text
    assert "tvangsfullbyrdelsesloven § 4-18" in text
    assert (
        f"Hvis kravet ikke er betalt innen 14 dager, det vil si innen {day(letter.deadline)}"
        in text
    )
    assert "utlegg hos namsmannen" in text and "forliksklage til forliksrådet" in text
    assert f"Økning i dette brevet: kr {nok(letter.fee)}" in text  # tungt salær
    assert f"Inkassosalær {nok(totals['salaer'])}" in text
    assert_common(text, case, letter, totals, with_code=False)


def test_new_betalingsoppfordring_repeats_the_bo_elements():
    case, letter, totals = case_until(Kind.NEW_BETALINGSOPPFORDRING)

    data = letter_render(letter)

    keep("new_betalingsoppfordring.pdf", data)
    text = pdf_text(data)
    assert "Ny betalingsoppfordring etter inkassoloven §§ 10 og 11" in text
    assert_bo_elements(text, case, letter, totals)
    assert_common(text, case, letter, totals, with_code=False)


def test_render_uses_the_recorded_amounts_not_todays_ledger():
    case, letter, totals = case_until(Kind.INKASSOVARSEL)
    letter.amounts = {**letter.amounts, "principal": "999.00", "total": "1111.00"}

    text = pdf_text(letter_render(letter))

    assert "Hovedstol 999,00" in text
    assert "Å betale 1 111,00" in text


def test_a_letter_is_rendered_once_even_when_asked_again(monkeypatch):
    case = open_case(opened_on=OPENED, due=DUE)
    run(OPENED)
    letter = case.letters.get()
    calls = []
    real = letter_documents.letter_render
    monkeypatch.setattr(
        letter_documents,
        "letter_render",
        lambda letter, **kwargs: calls.append(letter.pk) or real(letter, **kwargs),
    )

    first = letter_pdf(letter)
    second = letter_pdf(Letter.objects.get(pk=letter.pk))

    assert first == second and len(calls) == 1
    # One code for the letter, issued with its one render.
    assert letter.portal_accesses.count() == 1
    # A letter handed to delivery is never drawn again.
    Letter.objects.filter(pk=letter.pk).update(status="sent")
    with pytest.raises(ValueError):
        letter_pdf(Letter.objects.get(pk=letter.pk), rerender=True)


def test_payment_plan_confirmation_lists_the_instalments():
    case = open_case(opened_on=OPENED, due=DUE, amount="3000.00")
    instalments = [
        (D(2026, 1, 15), Decimal("1000.00")),
        (D(2026, 2, 15), Decimal("1000.00")),
        (D(2026, 3, 15), Decimal("1234.50")),
    ]

    data = document_payment_plan_pdf(case=case, instalments=instalments, agreed_on=D(2026, 1, 2))

    keep("payment_plan.pdf", data)
    text = pdf_text(data)
    assert "Bekreftelse på nedbetalingsavtale" in text
    assert "Avtalt 02.01.2026" in text
    assert "1 15.01.2026 1 000,00" in text
    assert "3 15.03.2026 1 234,50" in text
    assert "Sum avdrag 3 234,50" in text
    assert f"Til kontonummer {ACCOUNT}" in text and f"KID {case.kid}" in text
    assert "faller avtalen bort" in text
    assert MIN_SIDE in text


def test_settlement_statement_is_a_sales_document_with_mva_and_the_fee_on_its_own_line(settings):
    """Bokføringsforskriften § 5-1-1: the VAT-registered seller's org number with «MVA», the
    fee the VAT is charged on (salær, commission) as its own lines, the VAT separately."""
    from collections_cases.models import Settlement
    from collections_cases.settlements import services as settlement_services
    from tests.collections_cases.test_settlements import SETTLE, creditor_with, owing, pay

    settings.SETTLEMENT_WEEKDAY = 4
    settings.AGENCY_ORG_NUMBER = "999123457"
    creditor = creditor_with(
        vat_registered=True,
        success_commission_percent=Decimal("10"),
        success_commission_min_days_overdue=0,
        bookkeeping_mode="none",
    )
    case = owing(creditor, fee="70.00", salaer="525.00", interest="40.00")
    pay(case, "1635.00")

    report = settlement_services.settle(on=SETTLE)

    data = Settlement.objects.get(pk=report.created[0]).statement_pdf.read()
    keep("settlement_statement_vat.pdf", data)
    text = pdf_text(data)
    assert "Org.nr. 999 123 457 MVA" in text
    assert f"Selger: Kravia Inkasso AS, org.nr. 999 123 457 MVA. Kjøper: {creditor.name}" in text
    assert "– gebyrer (byråets inkassokostnader, betalt av skyldnerne) 70,00" in text
    assert "– salær (byråets inkassokostnader, betalt av skyldnerne) 525,00" in text
    assert "Salær (betalt av skyldnerne) 525,00" in text
    assert "Suksessprovisjon 10,00 % av hovedstolen 100,00" in text
    assert "Honorar uten mva. (grunnlag) 625,00" in text
    assert "Merverdiavgift 25,00 % 156,25" in text
    assert "Honorar med mva. 781,25" in text


def test_a_statement_without_vat_has_no_vat_section(settings):
    from collections_cases.models import Settlement
    from collections_cases.settlements import services as settlement_services
    from tests.collections_cases.test_settlements import SETTLE, creditor_with, owing, pay

    settings.SETTLEMENT_WEEKDAY = 4
    creditor = creditor_with(vat_registered=False)
    case = owing(creditor, salaer="525.00")
    pay(case, "1525.00")

    report = settlement_services.settle(on=SETTLE)

    text = pdf_text(Settlement.objects.get(pk=report.created[0]).statement_pdf.read())
    assert "Oppgjørsoppstilling" in text
    assert "Honorar uten mva." not in text and "Merverdiavgift" not in text
