"""A letter PDF's words in reading order, the same whichever engine drew it: what the
equivalence test (tests/collections_cases/test_letter_text_golden.py) and the bench's check
(bench/letter_engines.py) compare when the engine changes but the wording must not.

A content stream's order is the engine's own (WeasyPrint draws page 1's letterhead after its
body), so the words are read with their positions (poppler's ``pdftotext -bbox``) and put in
the order a reader takes them:

* the letterhead, address and facts on page 1 (above 78 mm): the left column top to bottom,
  then the right column;
* the body, page after page, line by line (words within 3 pt of a line's top are on it), left
  to right — so a page broken elsewhere reads the same;
* each page's running header and footer (in the margins), page by page.
"""

from __future__ import annotations

import html
import re
import subprocess
import tempfile

MM = 72 / 25.4
HEAD_BOTTOM = 78 * MM  # page 1: the letterhead, the window address and the facts
TOP_MARGIN = 16 * MM
BOTTOM_MARGIN = (297 - 24) * MM
COLUMN_SPLIT = 105 * MM
LINE_TOLERANCE = 3.0

_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
)


def pdf_words(data: bytes) -> list[list[tuple[float, float, str]]]:
    """Per page, each word's ``(x, y_top, text)`` in points (poppler-utils' pdftotext)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(data)
        handle.flush()
        out = subprocess.run(
            ["pdftotext", "-bbox", handle.name, "-"],
            check=True,
            capture_output=True,
            timeout=60,
        ).stdout.decode("utf-8")
    pages = []
    for page in out.split("<page ")[1:]:
        pages.append(
            [
                (float(x0), float(y0), html.unescape(text))
                for x0, y0, _x1, _y1, text in _WORD.findall(page)
            ]
        )
    return pages


def _lines(words: list[tuple[float, float, str]]) -> list[str]:
    """Words grouped into lines (by their top), each line left to right."""
    ordered = sorted(words, key=lambda word: (word[1], word[0]))
    lines: list[list[tuple[float, float, str]]] = []
    for word in ordered:
        if lines and word[1] - lines[-1][0][1] <= LINE_TOLERANCE:
            lines[-1].append(word)
        else:
            lines.append([word])
    return [" ".join(text for _x, _y, text in sorted(line)) for line in lines]


def reading_text(data: bytes) -> str:
    """The words of the letter in reading order (see the module's docstring), one space
    between them; non-breaking spaces are spaces."""
    return " ".join(part for part in reading_parts(data) if part)


def reading_parts(data: bytes) -> tuple[str, str, str]:
    """``(head, body, furniture)``: page 1's head, the body across pages, the pages' running
    headers and footers, each in reading order (one space between words)."""
    pages = pdf_words(data)
    head: list[str] = []
    body: list[str] = []
    furniture: list[str] = []
    for number, words in enumerate(pages, start=1):
        margins = [w for w in words if w[1] < TOP_MARGIN or w[1] >= BOTTOM_MARGIN]
        inside = [w for w in words if TOP_MARGIN <= w[1] < BOTTOM_MARGIN]
        if number == 1:
            top = [w for w in inside if w[1] < HEAD_BOTTOM]
            inside = [w for w in inside if w[1] >= HEAD_BOTTOM]
            head += _lines([w for w in top if w[0] < COLUMN_SPLIT])
            head += _lines([w for w in top if w[0] >= COLUMN_SPLIT])
        body += _lines(inside)
        furniture += _lines(margins)
    return tuple(
        " ".join(" ".join(part).replace("\xa0", " ").split()) for part in (head, body, furniture)
    )
