"""``letters_engines``: the bench's letters drawn by each candidate engine, side by side
(issue 19). The same letters as the ``letters`` scenario (the dunning step recorded for the
first due cases), each engine timed two ways:

* **end to end**: the letter's context built from the database, then drawn (what
  ``letter_render`` does);
* **render only**: drawn from contexts built once beforehand.

Wall time and this process's CPU time are both reported (wall time is noisy on a shared
machine). Every output is checked: a PDF, and its words in reading order
(:func:`bench.letter_text.reading_text`) the same as the reference engine's for that letter.

Engines (``ENGINES``):

* ``weasyprint`` — the HTML templates with WeasyPrint, as the letters were drawn before;
* ``weasyprint_cached_letterhead`` — the same, with the static part cached: the letterhead
  (the same on every letter) drawn once as a PDF and stamped onto page 1 of each letter,
  whose HTML has an empty box of the letterhead's size in its place;
* ``typst`` — the Typst templates (``templates/letters/*.typ``) through one long-lived
  ``typst.Compiler`` (what ``letter_render`` now does).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import time

from bench.letter_text import reading_text


def _html_template(kind: str) -> str:
    return f"letters/{kind}.html"


def _weasyprint(context: dict) -> bytes:
    from collections_cases.letters.documents.rendering import html_to_pdf

    return html_to_pdf(_html_template(context["kind"]), context)


_LETTERHEAD = re.compile(r'<div class="letterhead">.*?</div>\s*</div>', re.S)


class CachedLetterhead:
    """WeasyPrint with the letterhead drawn once and stamped on each letter's first page."""

    def __init__(self):
        self.stamp = None

    def _html(self, context: dict) -> str:
        from django.template.loader import render_to_string
        from django.utils import translation

        with translation.override("nb"):
            return render_to_string(_html_template(context["kind"]), context)

    def _pdf(self, html: str) -> bytes:
        import weasyprint
        from django.conf import settings

        from collections_cases.letters.documents.rendering import _setup

        font_config, stylesheet = _setup()
        document = weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR))
        return document.write_pdf(stylesheets=[stylesheet], font_config=font_config)

    def __call__(self, context: dict) -> bytes:
        from pypdf import PdfReader, PdfWriter

        html = self._html(context)
        letterhead = _LETTERHEAD.search(html)
        if letterhead is None:
            raise ValueError("letters_engines: no letterhead in the HTML")
        if self.stamp is None:
            # Only the letterhead, where it stands on a letter (no page number: that margin
            # box is the letter's own).
            only = (
                '<html lang="nb"><head><meta charset="utf-8">'
                "<style>@page { @bottom-right { content: none } }</style></head><body>"
                + letterhead.group(0)
                + "</body></html>"
            )
            self.stamp = PdfReader(io.BytesIO(self._pdf(only))).pages[0]
        body = html.replace(
            letterhead.group(0), '<div class="letterhead" style="border-color: transparent"></div>'
        )
        reader = PdfReader(io.BytesIO(self._pdf(body)))
        writer = PdfWriter(clone_from=reader)
        writer.pages[0].merge_page(self.stamp)
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()


def _typst(context: dict) -> bytes:
    from collections_cases.letters.documents.letters import TEMPLATES, letter_data
    from collections_cases.letters.documents.rendering import typst_to_pdf

    return typst_to_pdf(TEMPLATES[context["kind"]], letter_data(context))


def engines() -> dict:
    return {
        "weasyprint": _weasyprint,
        "weasyprint_cached_letterhead": CachedLetterhead(),
        "typst": _typst,
    }


#: The engine every other one's text is compared with.
REFERENCE = "weasyprint"


def _context(letter) -> dict:
    from collections_cases.letters.documents.letters import letter_context

    context = letter_context(letter)
    context["access_code"] = ""
    return context


def scenario_letters_engines(args, meta, *, prepare_letters, check):
    """``prepare_letters(scale, on)``: the bench's letters (as the ``letters`` scenario);
    ``check(condition, message)`` stops the run when a result is wrong."""
    on = dt.date.fromisoformat(meta["on"])
    letters = prepare_letters(args.scale, on)
    n = len(letters)
    results: dict = {"letters": n, "engines": {}}
    texts: dict[str, list[str]] = {}
    for name, render in engines().items():
        render(_context(letters[0]))  # fonts and templates loaded once per process
        # End to end: the context from the database, then the drawing.
        started, cpu_started = time.monotonic(), time.process_time()
        for letter in letters:
            render(_context(letter))
        e2e_wall, e2e_cpu = time.monotonic() - started, time.process_time() - cpu_started
        # Render only: contexts built beforehand.
        contexts = [_context(letter) for letter in letters]
        outputs = []
        started, cpu_started = time.monotonic(), time.process_time()
        for context in contexts:
            outputs.append(render(context))
        wall, cpu = time.monotonic() - started, time.process_time() - cpu_started
        for pdf in outputs:
            check(pdf.startswith(b"%PDF"), f"letters_engines: {name} made something not a PDF")
        texts[name] = [reading_text(pdf) for pdf in outputs]
        results["engines"][name] = {
            "per_second": n / e2e_wall,
            "per_cpu_second": n / e2e_cpu,
            "render_per_second": n / wall,
            "render_per_cpu_second": n / cpu,
            "bytes_per_letter": sum(len(pdf) for pdf in outputs) / n,
        }
    reference = texts[REFERENCE]
    for name, engine_texts in texts.items():
        same = sum(a == b for a, b in zip(engine_texts, reference, strict=True))
        results["engines"][name]["same_text"] = same
        differ = [
            letter.pk
            for letter, a, b in zip(letters, engine_texts, reference, strict=True)
            if a != b
        ]
        check(
            not differ,
            f"letters_engines: {name}'s text differs from {REFERENCE}'s on {len(differ)} of "
            f"{n} letters (letters {differ[:5]})",
        )
    return results
