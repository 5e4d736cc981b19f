"""The daily settlement run in the beat schedule (django-celery-beat, editable in the admin).
``SETTLEMENT_RUN_TIME`` ("HH:MM", Europe/Oslo, default 07:00) is read only here, as the default
for a new row. The run itself decides which creditors are due (daily or weekly)."""

from django.conf import settings
from django.db import migrations

NAME = "Inkasso: oppgjør til kreditorer"
TASK = "collections_cases.tasks.settle_task"
TIME_ZONE = "Europe/Oslo"


def _run_time() -> tuple[str, str]:
    value = getattr(settings, "SETTLEMENT_RUN_TIME", "07:00") or "07:00"
    hour, _, minute = str(value).partition(":")
    hour, minute = int(hour), int(minute or 0)
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError(f"SETTLEMENT_RUN_TIME must be HH:MM, not {value!r}")
    return str(hour), str(minute)


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    if PeriodicTask.objects.filter(name=NAME).exists():
        return
    hour, minute = _run_time()
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=TIME_ZONE,
    )
    PeriodicTask.objects.create(name=NAME, task=TASK, crontab=crontab, enabled=True)


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("collections_cases", "0014_settlement_event_kind"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
