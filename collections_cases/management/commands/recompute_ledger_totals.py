"""``python manage.py recompute_ledger_totals``: set every case's stored ledger totals
(``stored_balance``, ``stored_principal``, ``stored_paid``) from its ledger.

The database triggers keep them on every write; this is for after writes that bypass the
triggers — ``loaddata`` of a dump holding both the totals and the entries, or a restore with
triggers disabled. Only wrong rows are written; running it again changes nothing.
"""

from django.core.management.base import BaseCommand

from collections_cases.ledger.totals import ledger_totals_recompute


class Command(BaseCommand):
    help = "Set every case's stored balance, principal and paid from its ledger entries."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")

    def handle(self, *args, **options):
        corrected = ledger_totals_recompute(using=options["database"])
        self.stdout.write(f"{corrected} case(s) corrected.")
