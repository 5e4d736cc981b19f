"""The balance index of the case carries the status: a balance filter with *only open* counts
its hits from the index alone (Saker at 100 000 cases, docs/performance.md)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("collections_cases", "0025_case_counts_debtor_is_person"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="collectioncase",
            name="case_creditor_balance_idx",
        ),
        migrations.AddIndex(
            model_name="collectioncase",
            index=models.Index(
                fields=["creditor", "stored_balance", "id"],
                include=("status",),
                name="case_creditor_balance_st_idx",
            ),
        ),
    ]
