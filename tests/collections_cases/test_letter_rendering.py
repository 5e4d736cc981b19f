"""How letters are drawn (``collections_cases.letters.documents.rendering``): the Typst compiler
(letters) and the WeasyPrint stylesheet and font configuration (statements) are made once per
process (per thread) and shared by every document, the letters are in DejaVu Sans, and
what that must not change — every page numbered «Side X av Y» on one-, two- and three-page
documents, the running header from page 2, the footer on every page, the address block where
the window envelope shows it, the text extractable.
"""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
from pypdf import PdfReader

from collections_cases.letters.documents import document_payment_plan_pdf, letter_render, rendering
from collections_cases.letters.documents import letters as letter_documents
from collections_cases.models import Letter
from tests.collections_cases.test_documents import case_until

pytestmark = pytest.mark.django_db

MM = 72 / 25.4
A4_HEIGHT = 297 * MM


@pytest.fixture(autouse=True)
def agency(settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    settings.AGENCY_NAME = "Kravia Inkasso AS"
    settings.AGENCY_ORG_NUMBER = "999123457"
    settings.AGENCY_ACCOUNT_NUMBER = "15036123459"


def pages_text(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    return [
        " ".join((page.extract_text() or "").replace("\xa0", " ").split()) for page in reader.pages
    ]


def positions(data: bytes, page: int = 0) -> dict[str, tuple[float, float]]:
    """Where each run of text starts on ``page``: millimetres from the left and from the top."""
    found: dict[str, tuple[float, float]] = {}

    def visit(text, cm, tm, _font, _size):
        text = text.strip()
        if text and text not in found:
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            found[text] = (x / MM, (A4_HEIGHT - y) / MM)

    PdfReader(io.BytesIO(data)).pages[page].extract_text(visitor_text=visit)
    return found


def starting(found: dict[str, tuple[float, float]], prefix: str) -> tuple[float, float]:
    return next(where for text, where in found.items() if text.startswith(prefix))


def assert_numbered(texts: list[str], case=None) -> None:
    total = len(texts)
    for number, text in enumerate(texts, start=1):
        assert f"Side {number} av {total}" in text
        assert "Kravia Inkasso AS · Org.nr. 999123457" in text  # the footer, every page
        if case is not None:
            header = f"Sak {case.number} · KID {case.kid}"
            assert (header in text) == (number > 1)  # the running header from page 2


def test_a_two_page_letter_numbers_both_pages_and_heads_the_second():
    case, letter, _totals = case_until(Letter.Kind.INKASSOVARSEL)

    texts = pages_text(letter_render(letter))

    assert len(texts) == 2
    assert_numbered(texts, case)
    assert "Med vennlig hilsen" in texts[-1]


def test_a_three_page_letter_numbers_every_page(monkeypatch):
    case, letter, _totals = case_until(Letter.Kind.BETALINGSOPPFORDRING)
    rows = letter_documents._invoices(letter)
    monkeypatch.setattr(letter_documents, "_invoices", lambda *_args: rows * 45)

    texts = pages_text(letter_render(letter))

    assert len(texts) == 3
    assert_numbered(texts, case)
    assert sum(text.count(rows[0]["due_date"]) for text in texts) >= 45


def test_a_one_page_document_is_side_1_av_1():
    case, _letter, _totals = case_until(Letter.Kind.INKASSOVARSEL)

    data = document_payment_plan_pdf(
        case=case, instalments=[(dt.date(2026, 1, 15), "500.00")], agreed_on=dt.date(2026, 1, 2)
    )

    texts = pages_text(data)
    assert len(texts) == 1
    assert_numbered(texts, case)


def test_the_shared_stylesheet_places_the_letterhead_and_the_window_address():
    case, letter, _totals = case_until(
        Letter.Kind.INKASSOVARSEL, address_line="Storgata 1", postal_code="0155"
    )

    found = positions(letter_render(letter))

    # Page margins 16 mm top, 20 mm left, 18 mm right (A4 210 mm wide).
    brand_x, brand_y = found["Kravia Inkasso AS"]
    assert brand_x == pytest.approx(20, abs=0.5) and brand_y < 30
    contact_x, contact_y = starting(found, "Kontonr.")
    assert contact_x > 140 and contact_y < 30  # right-aligned beside the brand
    # The recipient where a C5 window envelope shows it (about 20 mm in, 45–90 mm down).
    sender_x, sender_y = starting(found, "Avsender:")
    assert sender_x == pytest.approx(20, abs=0.5)
    assert sender_y == pytest.approx(46.9, abs=1)
    name_x, name_y = found[case.debtor.name]
    assert name_x == pytest.approx(20, abs=0.5) and 50 < name_y < 60
    assert 55 < found["Storgata 1"][1] < 65
    # The letter's facts in the right column, level with the address.
    date_x, date_y = found["Dato"]
    assert date_x == pytest.approx(124, abs=0.5)  # 210 − 18 − 68 mm
    assert date_y == pytest.approx(44.3, abs=1)
    assert found["Inkassovarsel"][1] > 80  # the heading below the address block


def test_the_stylesheet_and_fonts_are_made_once_per_thread(monkeypatch):
    """The statements (WeasyPrint): one parsed stylesheet and font configuration per thread."""
    case, _letter, _totals = case_until(Letter.Kind.INKASSOVARSEL)
    monkeypatch.setattr(rendering, "_local", threading.local())
    reads = []
    real_get_template = rendering.get_template

    def counting_get_template(name, *args, **kwargs):
        reads.append(name)
        return real_get_template(name, *args, **kwargs)

    monkeypatch.setattr(rendering, "get_template", counting_get_template)
    plan = {"case": case, "instalments": [(dt.date(2026, 1, 15), "500.00")]}

    first = document_payment_plan_pdf(**plan, agreed_on=dt.date(2026, 1, 2))
    setup = rendering._setup()
    second = document_payment_plan_pdf(**plan, agreed_on=dt.date(2026, 1, 2))

    assert reads == [rendering.STYLESHEET]
    assert rendering._setup() is setup
    assert pages_text(first) == pages_text(second)
    # Another thread gets its own (Pango's font map is not shared across threads).
    other = []
    worker = threading.Thread(target=lambda: other.append(rendering._setup()))
    worker.start()
    worker.join()
    assert other[0] is not setup and reads == [rendering.STYLESHEET] * 2


def test_the_typst_compiler_is_made_once_per_thread(monkeypatch):
    """The letters (Typst): one compiler per thread keeps the fonts and parsed templates."""
    import typst

    _case, letter, _totals = case_until(Letter.Kind.INKASSOVARSEL)
    monkeypatch.setattr(rendering, "_local", threading.local())
    made = []
    real_compiler = typst.Compiler

    def counting_compiler(*args, **kwargs):
        made.append(kwargs)
        return real_compiler(*args, **kwargs)

    monkeypatch.setattr(typst, "Compiler", counting_compiler)

    first = letter_render(letter)
    compiler = rendering._compiler()
    second = letter_render(letter)

    assert len(made) == 1 and rendering._compiler() is compiler
    assert pages_text(first) == pages_text(second)
    other = []
    worker = threading.Thread(target=lambda: other.append(rendering._compiler()))
    worker.start()
    worker.join()
    assert other[0] is not compiler and len(made) == 2


def test_the_letters_are_drawn_in_dejavu_sans():
    _case, letter, _totals = case_until(Letter.Kind.INKASSOVARSEL)

    reader = PdfReader(io.BytesIO(letter_render(letter)))

    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    assert fonts and all(name.startswith("DejaVuSans") for name in fonts), fonts


def test_the_letters_fonts_are_the_bundled_ones_only(monkeypatch, tmp_path):
    """Typst sees only ``templates/letters/fonts/`` (the system's fonts are ignored), so a
    letter is the same on a machine without DejaVu: with that folder empty, no letter is drawn
    in some other font — it is refused."""
    _case, letter, _totals = case_until(Letter.Kind.INKASSOVARSEL)
    assert sorted(p.name for p in rendering.font_dir().glob("*.ttf")) == [
        "DejaVuSans-Bold.ttf",
        "DejaVuSans.ttf",
        "DejaVuSansMono.ttf",
    ]
    monkeypatch.setattr(rendering, "_local", threading.local())
    monkeypatch.setattr(rendering, "font_dir", lambda: tmp_path)

    with pytest.raises(rendering.RenderError):
        letter_render(letter)
