"""``manage.py poweroffice_sync [--creditor ORGNR]``: sync with PowerOffice Go now, inline
(no Celery broker needed), and print what each run did."""

from django.core.management.base import BaseCommand, CommandError

from integrations.models import PowerOfficeConnection
from integrations.services.sync import SyncAlreadyRunning, active_connection_ids, sync_connection


class Command(BaseCommand):
    help = "Synkroniser kunder, fakturaer og saker med PowerOffice Go nå."

    def add_arguments(self, parser):
        parser.add_argument(
            "--creditor", metavar="ORGNR", help="Bare kreditoren med dette organisasjonsnummeret."
        )

    def handle(self, *args, creditor=None, **options):
        ids = active_connection_ids()
        connections = PowerOfficeConnection.objects.filter(pk__in=ids).select_related("creditor")
        if creditor:
            connections = connections.filter(creditor__org_number=creditor.replace(" ", ""))
            if not connections:
                raise CommandError(
                    f"Ingen kreditor med organisasjonsnummer {creditor} er koblet til "
                    "PowerOffice Go."
                )
        if not connections:
            self.stdout.write("Ingen kreditorer er koblet til PowerOffice Go.")
            return
        failed = 0
        for connection in connections.order_by("pk"):
            try:
                run = sync_connection(connection_id=connection.pk)
            except SyncAlreadyRunning as exc:
                self.stdout.write(exc.message)
                continue
            self.stdout.write(
                f"{connection.creditor.name} ({connection.creditor.org_number}): "
                f"{run.get_status_display()} på {run.duration.total_seconds():.1f} s, "
                f"{run.request_count} forespørsler"
            )
            for resource, counts in sorted(run.counts.items()):
                parts = ", ".join(f"{key} {value}" for key, value in sorted(counts.items()))
                self.stdout.write(f"  {resource}: {parts}")
            for error in run.errors:
                record = f"{error['record']}: " if error.get("record") else ""
                self.stdout.write(f"  ! {error['resource']}: {record}{error['reason']}")
            failed += run.status == run.Status.FAILED
        if failed:
            raise CommandError(f"{failed} synkronisering(er) feilet.")
