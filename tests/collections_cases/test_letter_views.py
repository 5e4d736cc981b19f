"""Kundeweb: a case's letters as PDF (preview inline, download as attachment), only for the
user's own creditors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from collections_cases.models import Letter
from tests.collections_cases.factories import CollectionCaseFactory, DebtorFactory

pytestmark = pytest.mark.django_db

STORED = b"%PDF-1.4 stored letter"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def make_letter(creditor, *, stored: bool = True) -> Letter:
    case = CollectionCaseFactory(debtor=DebtorFactory(creditor=creditor))
    letter = Letter.objects.create(
        case=case,
        kind=Letter.Kind.INKASSOVARSEL,
        step="inkassovarsel",
        sent_on=dt.date(2026, 10, 1),
        deadline=dt.date(2026, 10, 15),
        fee=Decimal("38.00"),
        amounts={"principal": "1000.00", "fees": "38.00", "total": "1038.00"},
    )
    if stored:
        letter.pdf.save("stored.pdf", ContentFile(STORED))
    return letter


def urls(letter: Letter) -> tuple[str, str]:
    args = [letter.case_id, letter.pk]
    return reverse("letter_preview", args=args), reverse("letter_download", args=args)


def test_preview_is_inline_and_download_an_attachment(logged_in_client, creditor):
    letter = make_letter(creditor)
    preview, download = urls(letter)

    shown = logged_in_client.get(preview)
    saved = logged_in_client.get(download)

    for response in (shown, saved):
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response.content == STORED
    name = f"inkassovarsel-{letter.case.number}.pdf"
    assert shown["Content-Disposition"] == f'inline; filename="{name}"'
    assert saved["Content-Disposition"] == f'attachment; filename="{name}"'


def test_an_unrendered_letter_is_rendered_and_stored(logged_in_client, creditor):
    letter = make_letter(creditor, stored=False)

    response = logged_in_client.get(urls(letter)[0])

    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    letter.refresh_from_db()
    assert letter.pdf and letter.rendered_at


def test_another_creditors_letter_is_a_404(logged_in_client, creditor):
    other = make_letter(CollectionCaseFactory().creditor)
    mine = make_letter(creditor)

    for url in urls(other):
        assert logged_in_client.get(url).status_code == 404
    # A letter of theirs under my case's number is not found either.
    wrong_case = reverse("letter_preview", args=[mine.case_id, other.pk])
    assert logged_in_client.get(wrong_case).status_code == 404


def test_anonymous_users_are_sent_to_login(client, creditor):
    response = client.get(urls(make_letter(creditor))[0])

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_case_page_links_each_letter(logged_in_client, creditor):
    letter = make_letter(creditor)
    preview, download = urls(letter)

    page = logged_in_client.get(reverse("case_detail", args=[letter.case_id]))

    assert page.status_code == 200
    html = page.content.decode()
    assert f'href="{preview}"' in html and f'href="{download}"' in html
    assert "Forhåndsvis" in html and "Last ned" in html
