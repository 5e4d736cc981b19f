"""creditors/0009: creditors whose PowerOffice Go connection already proved their org number
are verified by the migration; every other existing creditor starts unverified."""

import datetime as dt

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [
    ("creditors", "0008_creditor_verification_and_payout_hold"),
    ("integrations", "0006_sync_cursor_chart_of_accounts"),
]
AFTER = [("creditors", "0009_verify_connected_creditors")]


def test_connected_creditors_are_verified_by_the_migration(transactional_db):
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(BEFORE)
        apps = executor.loader.project_state(BEFORE).apps
        Creditor = apps.get_model("creditors", "Creditor")
        Connection = apps.get_model("integrations", "PowerOfficeConnection")
        connected_at = timezone.now() - dt.timedelta(days=30)
        connected = Creditor.objects.create(org_number="923609016", name="Tilkoblet AS")
        Connection.objects.create(
            creditor=connected, client_org_number="923 609 016", connected_at=connected_at
        )
        other_org = Creditor.objects.create(org_number="974760673", name="Feil selskap AS")
        Connection.objects.create(
            creditor=other_org, client_org_number="923609016", connected_at=connected_at
        )
        never = Creditor.objects.create(org_number="910000009", name="Aldri tilkoblet AS")

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)

        apps = executor.loader.project_state(AFTER).apps
        Creditor = apps.get_model("creditors", "Creditor")
        AuditEntry = apps.get_model("creditors", "AuditEntry")
        verified = Creditor.objects.get(pk=connected.pk)
        assert verified.verified_at == connected_at
        assert verified.verification_method == "poweroffice"
        assert Creditor.objects.get(pk=other_org.pk).verified_at is None
        assert Creditor.objects.get(pk=never.pk).verified_at is None
        assert list(
            AuditEntry.objects.filter(action="creditor_verified").values_list(
                "creditor_id", flat=True
            )
        ) == [connected.pk]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(leaves)
