"""The daily payment-plan check in the beat schedule (django-celery-beat, editable in the
admin): 06:30 Europe/Oslo, after the dunning run. An existing row is kept."""

from django.db import migrations

NAME = "Inkasso: daglig kontroll av betalingsplaner"
TASK = "collections_cases.payment_plans_check"
TIME_ZONE = "Europe/Oslo"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    if PeriodicTask.objects.filter(name=NAME).exists():
        return
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30",
        hour="6",
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
        ("collections_cases", "0007_payment_plans"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
