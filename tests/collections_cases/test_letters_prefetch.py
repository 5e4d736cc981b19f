"""A delivery chunk's letters are drawn from records read for the chunk at once
(``letters_prefetch``): each letter still prints exactly its own case's records as known when
it was recorded, and the chunk costs the same few queries however many letters it holds."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collections_cases.letters import services
from collections_cases.letters.documents import letters as letter_documents
from collections_cases.models import Letter, LetterDelivery
from tests.collections_cases.dunning_support import on_day, open_case, run
from tests.collections_cases.test_letters_truth import IV_ON, PAID_ON, case_with_iv, pay

pytestmark = pytest.mark.django_db

Kind = Letter.Kind
D = dt.date


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = "http://127.0.0.1:8000"


def _fresh(letter: Letter) -> Letter:
    return Letter.objects.select_related("case", "case__debtor", "case__creditor").get(pk=letter.pk)


def test_records_read_together_are_each_letters_own_as_known_when_it_was_recorded():
    case = case_with_iv()  # inkassovarsel 16.06
    pay(case, "2000.00")  # 25.06: after the inkassovarsel, before the betalingsoppfordring
    run(D(2026, 7, 3))
    iv = case.letters.get(kind=Kind.INKASSOVARSEL)
    bo = case.letters.get(kind=Kind.BETALINGSOPPFORDRING)
    pay(case, "100.00", on=D(2026, 7, 6))  # after both letters
    other = case_with_iv("1234.00")  # a case of its own, its letter recorded later
    other_iv = other.letters.get()
    letters = [_fresh(letter) for letter in (iv, bo, other_iv)]

    together = letter_documents.letter_records_many(letters)
    apart = {
        letter.pk: letter_documents.letter_records_many([letter])[letter.pk] for letter in letters
    }
    assert together == apart
    # What the letters print from them: the payment only on the later letter of its case
    assert [row[1] for row in together[iv.pk].allocations] == []
    assert {row[1] for row in together[bo.pk].allocations} == {PAID_ON}
    assert together[other_iv.pk].allocations == []
    assert [i.case_id for i in together[other_iv.pk].invoices] == [other.pk]
    assert {e[2] for e in together[iv.pk].entries} >= {"principal"}

    letter_documents.letters_prefetch(letters)
    for letter in letters:
        fresh = _fresh(letter)
        assert letter_documents.letter_data(
            letter_documents.letter_context(letter)
        ) == letter_documents.letter_data(letter_documents.letter_context(fresh))
    # Only the case's first letter is first, prefetched or read
    assert [letter_documents.letter_is_first(letter) for letter in letters] == [True, False, True]
    assert [letter_documents.letter_is_first(_fresh(letter)) for letter in letters] == [
        True,
        False,
        True,
    ]


def _chunk(n: int) -> list[int]:
    for i in range(n):
        open_case(opened_on=IV_ON, due=D(2026, 6, 1), email=f"s{i}@example.no")
    start = LetterDelivery.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with on_day(IV_ON, hour=9):
        assert run(IV_ON).steps == {"inkassovarsel": n}
    return list(
        LetterDelivery.objects.filter(pk__gt=start).order_by("pk").values_list("pk", flat=True)
    )


def _ledger_reads(queries) -> int:
    return sum(
        1
        for q in queries
        if q["sql"].lstrip().upper().startswith("SELECT")
        and 'FROM "collections_cases_ledgerentry"' in q["sql"]
    )


def test_a_chunk_of_letters_reads_the_ledger_once_not_once_a_letter(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False):
        small = _chunk(2)
        large = _chunk(8)
    counts = []
    for ids in (small, large):
        with on_day(IV_ON, hour=12), CaptureQueriesContext(connection) as queries:
            outcomes, rest = services.delivery_send_many(delivery_ids=ids)
        assert (dict(outcomes), rest) == ({"sent": len(ids)}, [])
        counts.append((_ledger_reads(queries.captured_queries), len(queries)))
    # One read of the ledger for each chunk, whatever its size
    assert [ledger for ledger, _total in counts] == [1, 1]
    # And the queries a letter costs do not include its records and first-letter check
    (small_total, large_total) = (total for _ledger, total in counts)
    per_letter = (large_total - small_total) / (len(large) - len(small))
    assert per_letter <= 10, counts
    for letter in Letter.objects.filter(deliveries__pk__in=small + large):
        assert letter.pdf.name and letter.pdf.open("rb").read(4) == b"%PDF"
