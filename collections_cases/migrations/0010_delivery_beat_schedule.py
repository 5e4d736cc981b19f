"""Beat rows for delivery, stored with django-celery-beat (editable in the admin): the sweep
that retries letter deliveries and creditor notifications every five minutes, and the weekly
summary to creditors on Mondays at 07:00 Europe/Oslo. Existing rows are kept."""

from django.db import migrations

SWEEP_NAME = "Utsending: send brev og varsler som venter"
SWEEP_TASK = "collections_cases.delivery_tasks.delivery_sweep_task"
SUMMARY_NAME = "Kreditorer: ukentlig oppsummering"
SUMMARY_TASK = "collections_cases.delivery_tasks.weekly_summary_task"
TIME_ZONE = "Europe/Oslo"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    if not PeriodicTask.objects.filter(name=SWEEP_NAME).exists():
        interval, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
        PeriodicTask.objects.create(
            name=SWEEP_NAME, task=SWEEP_TASK, interval=interval, enabled=True
        )
    if not PeriodicTask.objects.filter(name=SUMMARY_NAME).exists():
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute="0",
            hour="7",
            day_of_week="1",
            day_of_month="*",
            month_of_year="*",
            timezone=TIME_ZONE,
        )
        PeriodicTask.objects.create(
            name=SUMMARY_NAME, task=SUMMARY_TASK, crontab=crontab, enabled=True
        )


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[SWEEP_NAME, SUMMARY_NAME]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("collections_cases", "0009_letter_delivery_notifications"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
