"""Kundeweb: a case's letters as PDF, to preview in the browser or download.

Scoped like every case page: a letter of a creditor the user is not a member of is a 404.
The PDF is the stored one (rendered and stored on first use), so what the creditor sees is
what the debtor got.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from collections_cases.cases.selectors import case_list_for_user
from collections_cases.letters.documents import letter_filename, letter_pdf
from collections_cases.models import Letter


def _letter_for_user(request, case_id: int, letter_id: int) -> Letter:
    cases = case_list_for_user(user=request.user).filter(pk=case_id).values("pk")
    return get_object_or_404(
        Letter.objects.select_related("case", "case__creditor", "case__debtor"),
        pk=letter_id,
        case__in=cases,
    )


def _pdf_response(letter: Letter, disposition: str) -> HttpResponse:
    response = HttpResponse(letter_pdf(letter), content_type="application/pdf")
    response["Content-Disposition"] = f'{disposition}; filename="{letter_filename(letter)}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def letter_preview(request, case_id: int, letter_id: int):
    return _pdf_response(_letter_for_user(request, case_id, letter_id), "inline")


@require_GET
def letter_download(request, case_id: int, letter_id: int):
    return _pdf_response(_letter_for_user(request, case_id, letter_id), "attachment")
