"""``letters_engines``: the bench's letters drawn by each engine in the tree, end to end and
render only (issue 19). The same letters as the ``letters`` scenario (the dunning step
recorded for the first due cases), timed two ways:

* **end to end**: the letter's context built from the database, then drawn (what
  ``letter_render`` does);
* **render only**: drawn from contexts built once beforehand.

Wall time and this process's CPU time are both reported (wall time is noisy on a shared
machine). Every output is checked: a PDF whose words in reading order
(:func:`bench.letter_text.reading_text`) carry the letter's title, case number, KID, amount
to pay and deadline.

The candidates were measured side by side at commit ab60b75, while the letters' HTML
templates were still in the tree (docs/perf-notes/letters.md has the table): WeasyPrint as
before, WeasyPrint with the letterhead drawn once and stamped onto page 1, and Typst, each
letter's text compared with WeasyPrint's (100/100 the same at 10 %). Typst won and the HTML
letter templates were deleted (one home for the wording), so the only engine left to draw a
letter is Typst: ``ENGINES`` is where another candidate would be added.
"""

from __future__ import annotations

import datetime as dt
import time

from bench.letter_text import reading_text


def _typst(context: dict) -> bytes:
    from collections_cases.letters.documents.letters import TEMPLATES, letter_data
    from collections_cases.letters.documents.rendering import typst_to_pdf

    return typst_to_pdf(TEMPLATES[context["kind"]], letter_data(context))


#: The engines that can draw a letter (bench/report.py's ENGINE_CACHES says what each caches).
ENGINES = {"typst": _typst}


def _context(letter) -> dict:
    from collections_cases.letters.documents.letters import letter_context

    context = letter_context(letter)
    context["access_code"] = ""
    return context


def _facts(context: dict) -> list[str]:
    """What a reader must find in the letter, as its words print (non-breaking spaces as
    spaces)."""
    facts = [
        str(context["title"]),
        context["case"].number,
        context["kid"],
        f"Å betale {context['total']}",
        f"Betalingsfrist {context['deadline']}",
    ]
    return [" ".join(fact.replace("\xa0", " ").split()) for fact in facts]


def scenario_letters_engines(args, meta, *, prepare_letters, check):
    """``prepare_letters(scale, on)``: the bench's letters (as the ``letters`` scenario);
    ``check(condition, message)`` stops the run when a result is wrong."""
    on = dt.date.fromisoformat(meta["on"])
    letters = prepare_letters(args.scale, on)
    n = len(letters)
    results: dict = {"letters": n, "engines": {}}
    for name, render in ENGINES.items():
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
        complete = 0
        for context, pdf in zip(contexts, outputs, strict=True):
            check(pdf.startswith(b"%PDF"), f"letters_engines: {name} made something not a PDF")
            text = reading_text(pdf)
            missing = [fact for fact in _facts(context) if fact not in text]
            check(
                not missing,
                f"letters_engines: {name}'s letter {context['letter'].pk} lacks {missing}",
            )
            complete += 1
        results["engines"][name] = {
            "per_second": n / e2e_wall,
            "per_cpu_second": n / e2e_cpu,
            "render_per_second": n / wall,
            "render_per_cpu_second": n / cpu,
            "bytes_per_letter": sum(len(pdf) for pdf in outputs) / n,
            "text_checked": complete,
        }
    return results
