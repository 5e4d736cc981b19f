"""``python manage.py recompute_case_counts``: set the counts of each creditor's cases per
status (``CaseCount``) from the cases, and each case's stored ``debtor_is_person`` from its
debtor.

The database triggers keep them on every write; this is for after writes that bypass the
triggers — ``loaddata`` of a dump holding both cases and counts, or a restore with triggers
disabled. Every creditor's counts version goes up; running it again changes no count.
"""

from django.core.management.base import BaseCommand

from collections_cases.cases.counts import case_counts_recompute


class Command(BaseCommand):
    help = "Set the case counts per creditor and status, and the stored debtor types."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")

    def handle(self, *args, **options):
        case_counts_recompute(using=options["database"])
        self.stdout.write("Case counts and debtor types recomputed.")
