"""The benchmark's dunning data (bench/dunning_mix.py) is what the run expects: built small,
the run takes exactly the steps and writes exactly the letters the mix promises (the bench
checks the same at every scale), leaves nothing due and queues a status push for each open
case of a connected creditor; the set-based floor writes as many letters (PostgreSQL)."""

import datetime as dt
import random

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from bench import data, dunning_mix
from collections_cases.dunning.services import due_q, dunning_run
from collections_cases.models import CollectionCase, LedgerEntry, Letter
from integrations.models import OutboxMessage
from tests.collections_cases.test_case_list_stored_totals import assert_every_case_consistent

pytestmark = pytest.mark.django_db
TOTAL = 100


@pytest.fixture
def mix(django_capture_on_commit_callbacks, monkeypatch):
    """The due cases of the mix; the letters' delivery tasks recorded, not run (no PDFs)."""
    from collections_cases.letters.tasks import deliver_letters_task

    monkeypatch.setattr(deliver_letters_task, "delay", lambda *_a, **_k: None)
    today = timezone.localdate()
    creditors = data._make_creditors(6, "Kreditor", 5_000)
    with django_capture_on_commit_callbacks(execute=True):
        dunning_mix.build_due_cases(
            creditors,
            TOTAL,
            today=today,
            now=timezone.now(),
            rng=random.Random(10),  # noqa: S311
            serial=1,
            bulk=data._bulk,
            make_creditors=data._make_creditors,
            log=lambda _m: None,
        )
    return today


def test_the_shares_cover_every_case_and_step():
    assert sum(share for _n, share, _o, _k in dunning_mix.PROFILES) == pytest.approx(1)
    for total in (4, 100, 4000, 40_000):
        assert sum(dunning_mix.counts(total).values()) == total
    expected = dunning_mix.expected(40_000)
    assert sum(expected["steps"].values()) == 40_000
    assert len(expected["steps"]) == 7 and len(expected["letters"]) == 4


def test_the_run_takes_every_step_the_mix_promises(mix, django_capture_on_commit_callbacks):
    today = mix
    due = CollectionCase.objects.filter(due_q(today)).count()
    assert due == TOTAL
    connected = set(
        CollectionCase.objects.filter(pogo_case_id__isnull=False).values_list("pk", flat=True)
    )
    assert connected
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.SALAER).exists()
    assert Letter.objects.filter(kind=Letter.Kind.VARSEL_RETTSLIG).exists()  # the history

    with django_capture_on_commit_callbacks(execute=True):
        result = dunning_run(on=today)

    expected = dunning_mix.expected(TOTAL)
    assert not result.errors and not result.held
    assert {k: v for k, v in result.steps.items() if v} == expected["steps"]
    letters = dict(
        Letter.objects.filter(sent_on=today).values_list("kind").annotate(n=Count("pk")).order_by()
    )
    assert letters == expected["letters"]
    assert not CollectionCase.objects.filter(due_q(today)).exists()
    still_open = set(
        CollectionCase.objects.filter(pk__in=connected)
        .exclude(status=CollectionCase.Status.CLOSED)
        .values_list("pk", flat=True)
    )
    pushed = set(
        OutboxMessage.objects.filter(kind=OutboxMessage.Kind.UPDATE_STATUS).values_list(
            "case_id", flat=True
        )
    )
    assert still_open and still_open <= pushed
    assert_every_case_consistent()
    # a second run the same day finds nothing
    assert not dunning_run(on=today + dt.timedelta(days=0)).steps


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="set-based SQL: PostgreSQL")
def test_the_floor_writes_as_many_letters_as_the_run(mix):
    from bench.dunning_bound import write_set_based

    today = mix
    ids = list(CollectionCase.objects.filter(due_q(today)).values_list("pk", flat=True))
    rows = write_set_based(ids, today)
    assert rows["letters"] == sum(dunning_mix.expected(TOTAL)["letters"].values())
    assert rows["cases"] == rows["events"] == TOTAL
    assert not CollectionCase.objects.filter(due_q(today)).exists()
    assert connection.vendor == "postgresql"
