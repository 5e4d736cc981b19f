"""The daily run as the beat starts it: the time-barred claims held first, then the run split
over ``DUNNING_RUN_TASKS`` tasks side by side, each case stepped exactly once whichever part
takes it (two parts at once on PostgreSQL: ``test_dunning_concurrency.py``)."""

import datetime as dt

import pytest

from collections_cases.dunning import services
from collections_cases.dunning.tasks import dunning_run_part_task, dunning_run_task
from collections_cases.models import CaseEvent, Letter
from tests.collections_cases.dunning_support import on_day, open_case

pytestmark = pytest.mark.django_db

OPENED = dt.date(2025, 12, 1)
DUE = dt.date(2025, 11, 14)


def test_the_daily_task_queues_the_other_parts_and_runs_its_own(settings, monkeypatch):
    settings.DUNNING_RUN_TASKS = 3
    queued = []
    monkeypatch.setattr(services, "enqueue", lambda task, *args: queued.append((task, args)))
    cases = [open_case(opened_on=OPENED, due=DUE) for _ in range(3)]

    with on_day(OPENED):
        result = dunning_run_task.delay().get()

    part = "collections_cases.dunning.tasks.dunning_run_part_task"
    assert queued == [(part, ("2025-12-01",)), (part, ("2025-12-01",))]
    assert result["steps"] == {"inkassovarsel": 3} and result["held_time_barred"] == 0
    # A part that runs after the others (or twice) finds nothing due and changes nothing
    with on_day(OPENED):
        assert dunning_run_part_task.delay("2025-12-01").get()["steps"] == {}
    assert [Letter.objects.filter(case=c).count() for c in cases] == [1, 1, 1]


def test_parts_that_run_first_leave_the_daily_task_nothing_to_do(settings):
    settings.DUNNING_RUN_TASKS = 2  # eager: the queued part runs at once, before this one's
    cases = [open_case(opened_on=OPENED, due=DUE) for _ in range(4)]

    with on_day(OPENED):
        result = dunning_run_task.delay().get()

    assert result["steps"] == {}
    for case in cases:
        assert Letter.objects.filter(case=case, step="inkassovarsel").count() == 1
        assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.LETTER).count() == 1


def test_one_task_queues_no_other_part(settings, monkeypatch):
    settings.DUNNING_RUN_TASKS = 1
    queued = []
    monkeypatch.setattr(services, "enqueue", lambda task, *args: queued.append(task))
    open_case(opened_on=OPENED, due=DUE)

    with on_day(OPENED):
        assert dunning_run_task.delay().get()["steps"] == {"inkassovarsel": 1}
    assert queued == []
