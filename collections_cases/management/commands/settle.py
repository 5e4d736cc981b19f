"""``python manage.py settle [--date YYYY-MM-DD] [--creditor ORGNR ...]``: the settlement run.

Without ``--creditor`` it settles every creditor that is due on the date (daily, or weekly on
``SETTLEMENT_WEEKDAY``); with it, exactly those creditors, due or not. Running it twice for
the same date makes nothing new.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import F

from collections_cases.models import Settlement
from collections_cases.settlements.services import settle
from creditors.models import Creditor
from kravia_web.commands import add_date_argument, date_option


class Command(BaseCommand):
    help = "Settle collected money to creditors: statements, payout instructions, vouchers."

    def add_arguments(self, parser):
        add_date_argument(parser, what="Settle")
        parser.add_argument(
            "--creditor",
            action="append",
            default=None,
            metavar="ORGNR",
            help="Settle this creditor (organisation number) now, whatever its schedule.",
        )

    def handle(self, *args, **options):
        on = date_option(options)
        creditor_ids = None
        if options["creditor"]:
            wanted = [value.replace(" ", "") for value in options["creditor"]]
            # Several applicants may share an organisation number (issue 15): the verified
            # one is meant (ordered last, so it wins); an unverified one is reported skipped.
            found = dict(
                Creditor.objects.filter(org_number__in=wanted)
                .order_by(F("verified_at").asc(nulls_first=True), "pk")
                .values_list("org_number", "pk")
            )
            missing = sorted(set(wanted) - set(found))
            if missing:
                raise CommandError(f"No creditor with organisation number {', '.join(missing)}")
            creditor_ids = [found[number] for number in wanted]
        report = settle(on=on, creditor_ids=creditor_ids)
        self.stdout.write(
            f"Settlement run {on.isoformat()}: {len(report.created)} new, "
            f"{len(report.existing)} already made, {len(report.skipped)} not settled"
        )
        for settlement in Settlement.objects.filter(pk__in=report.created).select_related(
            "creditor"
        ):
            self.stdout.write(
                f"  {settlement.number} {settlement.creditor.name}: payout {settlement.payout}"
            )
        for creditor_id, reason in sorted(report.skipped.items()):
            self.stdout.write(f"  creditor {creditor_id}: {reason}")
        if report.statement_errors:
            raise CommandError(f"{report.statement_errors} statement(s) could not be rendered")
