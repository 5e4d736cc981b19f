"""The ``dunning_run`` management command, the Celery task and its beat schedule."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from collections_cases.dunning.tasks import dunning_run_task
from collections_cases.models import Letter
from tests.collections_cases.dunning_support import on_day, open_case

pytestmark = pytest.mark.django_db

OPENED = dt.date(2025, 12, 1)
DUE = dt.date(2025, 11, 14)


def test_command_runs_for_the_given_date_and_prints_counts():
    case = open_case(opened_on=OPENED, due=DUE)
    out = StringIO()

    with on_day(dt.date(2025, 12, 3)):
        call_command("dunning_run", "--date", "2025-12-01", stdout=out)

    assert Letter.objects.get(case=case).sent_on == OPENED
    assert "Dunning run 2025-12-01: 1 step(s)" in out.getvalue()
    assert "inkassovarsel: 1" in out.getvalue()
    assert "errors: 0" in out.getvalue()


def test_command_defaults_to_today_in_oslo():
    case = open_case(opened_on=OPENED, due=DUE)
    out = StringIO()

    # 00:00 in Oslo on 01.12 is still 30.11 in UTC
    with on_day(OPENED, hour=0):
        call_command("dunning_run", stdout=out)

    assert Letter.objects.get(case=case).sent_on == OPENED


def test_command_refuses_a_malformed_date():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("dunning_run", "--date", "01.12.2025")


def test_task_runs_the_service_for_today_or_the_given_date():
    case = open_case(opened_on=OPENED, due=DUE)

    with on_day(OPENED):
        result = dunning_run_task.delay().get()

    assert result["on"] == "2025-12-01"
    assert result["steps"] == {"inkassovarsel": 1}
    assert dunning_run_task.delay("2025-12-01").get()["steps"] == {}
    assert Letter.objects.filter(case=case).count() == 1


def test_beat_schedule_runs_the_task_daily_at_six_oslo_time():
    task = PeriodicTask.objects.get(task="collections_cases.tasks.dunning_run_task")

    assert task.enabled
    assert (task.crontab.hour, task.crontab.minute) == ("6", "0")
    assert str(task.crontab.timezone) == "Europe/Oslo"
