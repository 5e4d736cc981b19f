"""Approval of the betalingsoppfordring becomes its own approval kind (``payment_demand``).

Cases the dunning run parked before this change waited as approval kind ``start`` with a
``demand_approval_requested`` event as their latest approval request; they become
``payment_demand`` so that approving them sends the betalingsoppfordring, not a restart."""

from django.db import migrations, models


def parked_cases_to_payment_demand(apps, schema_editor):
    CollectionCase = apps.get_model("collections_cases", "CollectionCase")
    CaseEvent = apps.get_model("collections_cases", "CaseEvent")
    parked = CaseEvent.objects.filter(kind="demand_approval_requested").values("case_id")
    # Only the dunning run's parking moves a case back to waiting with kind "start".
    CollectionCase.objects.filter(
        status="awaiting_approval", approval_kind="start", pk__in=parked
    ).update(approval_kind="payment_demand")


def payment_demand_to_start(apps, schema_editor):
    CollectionCase = apps.get_model("collections_cases", "CollectionCase")
    CollectionCase.objects.filter(approval_kind="payment_demand").update(approval_kind="start")


class Migration(migrations.Migration):
    dependencies = [
        ("collections_cases", "0003_dunning_beat_schedule"),
    ]

    operations = [
        migrations.AlterField(
            model_name="collectioncase",
            name="approval_kind",
            field=models.CharField(
                blank=True,
                choices=[
                    ("start", "Start av saken"),
                    ("payment_demand", "Betalingsoppfordring"),
                    ("legal", "Rettslige tiltak"),
                ],
                max_length=20,
                verbose_name="venter godkjenning av",
            ),
        ),
        migrations.RunPython(parked_cases_to_payment_demand, payment_demand_to_start),
    ]
