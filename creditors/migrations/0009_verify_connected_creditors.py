"""Creditors are verified from now on before any letter or payout (issue 15). Those whose
PowerOffice Go connection already proved the organisation number (the connection's org number
is the creditor's) count as verified by it; every other existing creditor starts unverified
and waits for the PowerOffice Go connection or a case handler (admin → Kreditorer → filter
«Verifisert: nei» → «Verifiser kreditor»)."""

from django.db import migrations


def verify_connected(apps, schema_editor):
    Creditor = apps.get_model("creditors", "Creditor")
    AuditEntry = apps.get_model("creditors", "AuditEntry")
    Connection = apps.get_model("integrations", "PowerOfficeConnection")
    seen = set()
    for connection in (
        Connection.objects.filter(connected_at__isnull=False)
        .select_related("creditor")
        .order_by("connected_at", "pk")
    ):
        creditor = connection.creditor
        org = (connection.client_org_number or "").replace(" ", "")
        if org != creditor.org_number or creditor.org_number in seen:
            continue
        seen.add(creditor.org_number)
        Creditor.objects.filter(pk=creditor.pk).update(
            verified_at=connection.connected_at, verification_method="poweroffice"
        )
        AuditEntry.objects.create(
            creditor=creditor,
            at=connection.connected_at,
            action="creditor_verified",
            summary="Verifisert ved PowerOffice Go-tilkoblingen (samme organisasjonsnummer).",
            data={"method": "poweroffice", "migrated": True},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("creditors", "0008_creditor_verification_and_payout_hold"),
        ("integrations", "0006_sync_cursor_chart_of_accounts"),
    ]

    operations = [migrations.RunPython(verify_connected, migrations.RunPython.noop)]
