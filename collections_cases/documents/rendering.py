"""HTML templates (``templates/letters/``) to PDF with WeasyPrint, and PDFs merged with pypdf."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger(__name__)


def html_to_pdf(template_name: str, context: dict) -> bytes:
    """Render ``template_name`` with ``context`` (always Norwegian) to an A4 PDF."""
    import weasyprint  # imported lazily: loading Pango takes a moment

    with translation.override("nb"):
        html = render_to_string(template_name, context)
    document = weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR))
    return document.write_pdf()


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
