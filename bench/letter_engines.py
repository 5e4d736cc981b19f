"""``letters_engines``: the bench's letters drawn by each engine in the tree, end to end and
render only (issue 19). The same letters as the ``letters`` scenario (the dunning step
recorded for the first due cases), timed two ways:

* **end to end**: the letter's context built from the database, then drawn (what
  ``letter_render`` does): the time of building the contexts plus the time of drawing them;
* **render only**: the drawing alone.

Each letter is drawn once per engine (the first letter only warms the engine up and is not
timed): Typst memoises its work, so drawing the same letter twice would time its cache.

Wall time and this process's CPU time are both reported (wall time is noisy on a shared
machine). Every output is checked: a PDF whose words in reading order
(:func:`bench.letter_text.reading_text`) carry the letter's title, case number, KID, amount
to pay and deadline; and every other engine's words (page 1's head and the body, in reading
order; its pages may break elsewhere) must be Typst's for the same letter.

The candidates were measured side by side at commit ab60b75, while the letters' HTML
templates were still in the tree (docs/perf-notes/letters.md has the table): WeasyPrint as
before, WeasyPrint with the letterhead drawn once and stamped onto page 1, and Typst, each
letter's text compared with WeasyPrint's (100/100 the same at 10 %). Typst won and the HTML
letter templates were deleted (one home for the wording). Besides Typst, ``reportlab`` draws
the inkassovarsel (the kind of the bench's letters) with reportlab's platypus
(bench/letter_reportlab.py), a measurement of the third candidate.
"""

from __future__ import annotations

import datetime as dt
import time

from bench.letter_reportlab import reportlab_pdf
from bench.letter_text import reading_parts, reading_text


def _typst(context: dict) -> bytes:
    from collections_cases.letters.documents.letters import TEMPLATES, letter_data
    from collections_cases.letters.documents.rendering import typst_to_pdf

    return typst_to_pdf(TEMPLATES[context["kind"]], letter_data(context))


def _reportlab(context: dict) -> bytes:
    from collections_cases.letters.documents.letters import letter_data

    return reportlab_pdf({**letter_data(context), "kind": context["kind"]})


#: The engines that can draw a letter (bench/report.py's ENGINE_CACHES says what each caches);
#: the first is the one in use, every other one's words are compared with its words.
ENGINES = {"typst": _typst, "reportlab": _reportlab}


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
    warm_up, letters = letters[0], letters[1:]
    n = len(letters)
    results: dict = {"letters": n, "engines": {}}
    reference: dict[int, str] = {}  # the engine in use's words, per letter
    for name, render in ENGINES.items():
        # Fonts and templates loaded once per process: a letter outside the timed ones.
        render(_context(warm_up))
        # Each letter drawn once (Typst memoises: drawing a letter twice would time its
        # cache), so end to end = the contexts' time + the drawing's.
        started, cpu_started = time.monotonic(), time.process_time()
        contexts = [_context(letter) for letter in letters]
        context_wall, context_cpu = time.monotonic() - started, time.process_time() - cpu_started
        outputs, drawn = [], []
        started, cpu_started = time.monotonic(), time.process_time()
        for context in contexts:
            try:
                outputs.append(render(context))
            except NotImplementedError:  # a candidate that lays out only some letters
                continue
            drawn.append(context)
        wall, cpu = time.monotonic() - started, time.process_time() - cpu_started
        check(drawn, f"letters_engines: {name} drew none of the letters")
        # The contexts' share for the letters this engine drew.
        share = len(drawn) / n
        e2e_wall, e2e_cpu = context_wall * share + wall, context_cpu * share + cpu
        complete = 0
        for context, pdf in zip(drawn, outputs, strict=True):
            check(pdf.startswith(b"%PDF"), f"letters_engines: {name} made something not a PDF")
            text = reading_text(pdf)
            missing = [fact for fact in _facts(context) if fact not in text]
            check(
                not missing,
                f"letters_engines: {name}'s letter {context['letter'].pk} lacks {missing}",
            )
            head, body, _furniture = reading_parts(pdf)
            words = f"{head} {body}"
            if name == next(iter(ENGINES)):
                reference[context["letter"].pk] = words
            else:
                check(
                    words == reference[context["letter"].pk],
                    f"letters_engines: {name}'s letter {context['letter'].pk} has other words "
                    "than the letter in use",
                )
            complete += 1
        m = len(drawn)
        results["engines"][name] = {
            "per_second": m / e2e_wall,
            "per_cpu_second": m / e2e_cpu,
            "render_per_second": m / wall,
            "render_per_cpu_second": m / cpu,
            "bytes_per_letter": sum(len(pdf) for pdf in outputs) / m,
            "text_checked": complete,
            "not_drawn": n - m,
        }
    return results
