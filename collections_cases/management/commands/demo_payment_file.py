"""``python manage.py demo_payment_file K-2026-000001 [...] [--date D] [--amount A] -o FILE``:
a camt.054 file in which the debtors of these cases pay what they owe (or ``--amount``), by
KID, into the agency's client account — for demos: import it in the admin (*Importer
bankfil*) or with ``import_payments``."""

from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from collections_cases.cases.selectors import case_balance
from collections_cases.models import CollectionCase
from collections_cases.payments.camt054_writer import camt054_credit_notification


class Command(BaseCommand):
    help = "Write a camt.054 file that pays the given cases by KID (for demos)."

    def add_arguments(self, parser):
        parser.add_argument("cases", nargs="+", metavar="CASE_NUMBER")
        parser.add_argument("-o", "--output", required=True, help="Where to write the file.")
        parser.add_argument("--date", default=None, help="Booking date (YYYY-MM-DD).")
        parser.add_argument("--amount", default=None, help="Pay this amount instead.")

    def handle(self, *args, **options):
        try:
            booked_on = date.fromisoformat(options["date"]) if options["date"] else None
            amount = Decimal(options["amount"]) if options["amount"] else None
        except (ValueError, InvalidOperation) as exc:
            raise CommandError(f"Bad --date or --amount: {exc}") from exc
        booked_on = booked_on or timezone.localdate()
        cases = {c.number: c for c in CollectionCase.objects.filter(number__in=options["cases"])}
        missing = [n for n in options["cases"] if n not in cases]
        if missing:
            raise CommandError(f"No case {', '.join(missing)}")
        payments = []
        for number in options["cases"]:
            case = cases[number]
            pay = amount if amount is not None else case_balance(case)
            if pay <= 0:
                raise CommandError(f"{number} owes nothing")
            payments.append((case.kid, pay, case.debtor.name))
        data = camt054_credit_notification(
            payments,
            account=settings.AGENCY_ACCOUNT_NUMBER,
            booked_on=booked_on,
            message_id=f"DEMO-{timezone.now():%Y%m%d%H%M%S%f}",
        )
        Path(options["output"]).write_bytes(data)
        total = sum(p[1] for p in payments)
        self.stdout.write(f"Wrote {options['output']}: {len(payments)} payment(s), {total}")
