"""The PowerOffice Go beat schedule, stored with django-celery-beat so it stays editable in the
admin: sync every 5 minutes, outbox every minute. Existing rows are left as they are, so an
interval changed in the admin survives migrating again."""

from django.db import migrations

TASKS = [
    ("PowerOffice Go: synkroniser alle tilkoblinger", "integrations.tasks.sync_all_connections", 5),
    ("PowerOffice Go: send utgående meldinger", "integrations.tasks.deliver_outbox_task", 1),
]


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minutes in TASKS:
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        interval, _ = IntervalSchedule.objects.get_or_create(every=minutes, period="minutes")
        PeriodicTask.objects.create(
            name=name, task=task, interval=interval, queue="poweroffice", enabled=True
        )


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, _, _ in TASKS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0002_sync_outbox"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
