"""Documents to PDF: the letters to debtors from Typst templates (``templates/letters/*.typ``),
the statements from HTML templates with WeasyPrint, and PDFs merged with pypdf.

Typst: one compiler per thread, made on first use, holds the fonts (DejaVu Sans from
``templates/letters/fonts/``, the system's ignored, loaded once) and its caches of the parsed
templates; each letter is one compile with its data as JSON in ``sys.inputs`` (never spliced into markup, so
a debtor's name prints literally). A warning from Typst (a font not found, say) is an error:
a letter is never drawn in a fallback font.

WeasyPrint: what does not change between documents is made once per process (per thread: Pango's font
map is not shared across threads) and reused: the font configuration, whose Pango caches
(font lookup, metrics, shaping) warm up on the first document, and the letters' stylesheet
``templates/letters/letters.css``, parsed once. Each document then parses only its own small
``<style>`` (the running header and footer text) and its HTML.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.template.loader import get_template, render_to_string
from django.utils import translation

logger = logging.getLogger(__name__)

#: The stylesheet every document in ``templates/letters/`` is drawn with.
STYLESHEET = "letters/letters.css"

_local = threading.local()


def _setup():
    """``(font_config, stylesheet)`` for this thread, made on first use."""
    setup = getattr(_local, "setup", None)
    if setup is None:
        import weasyprint  # imported lazily: loading Pango takes a moment
        from weasyprint.text.fonts import FontConfiguration

        font_config = FontConfiguration()
        source = get_template(STYLESHEET).template.source
        stylesheet = weasyprint.CSS(string=source, font_config=font_config)
        setup = _local.setup = (font_config, stylesheet)
    return setup


def html_to_pdf(template_name: str, context: dict) -> bytes:
    """Render ``template_name`` with ``context`` (always Norwegian) to an A4 PDF."""
    import weasyprint

    with translation.override("nb"):
        html = render_to_string(template_name, context)
    font_config, stylesheet = _setup()
    document = weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR))
    return document.write_pdf(stylesheets=[stylesheet], font_config=font_config)


def typst_root() -> Path:
    """Where the letters' Typst templates are (the compiler's root: they import each other)."""
    return Path(settings.BASE_DIR) / "templates" / "letters"


def font_dir() -> Path:
    """The letters' fonts (DejaVu Sans, Sans Bold, Sans Mono; ``templates/letters/fonts/``):
    the only fonts Typst sees, so a letter is drawn the same on every machine."""
    return typst_root() / "fonts"


class RenderError(RuntimeError):
    """Typst could not draw a letter as its template says (an error or a warning)."""


def _compiler():
    compiler = getattr(_local, "typst", None)
    if compiler is None:
        import typst

        compiler = _local.typst = typst.Compiler(
            root=str(typst_root()), font_paths=[str(font_dir())], ignore_system_fonts=True
        )
    return compiler


def typst_to_pdf(template_name: str, data: dict) -> bytes:
    """Compile ``templates/letters/<template_name>`` with ``data`` (JSON) to an A4 PDF."""
    import typst

    source = typst_root() / template_name
    try:
        pdf, warnings = _compiler().compile_with_warnings(
            input=str(source), sys_inputs={"data": json.dumps(data, ensure_ascii=False)}
        )
    except typst.TypstError as error:
        raise RenderError(f"{template_name}: {error}") from error
    if warnings:
        raise RenderError(f"{template_name}: {'; '.join(str(w) for w in warnings)}")
    return pdf


def pdf_merge(first: bytes, others: Iterable[bytes]) -> bytes:
    """``first`` followed by every page of each of ``others``; an unreadable one is skipped."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(first)))
    for data in others:
        try:
            writer.append(PdfReader(io.BytesIO(data)))
        except Exception:  # a broken attachment must not stop the letter
            logger.exception("Could not append a PDF attachment (%d bytes)", len(data))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
