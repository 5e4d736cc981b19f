"""``python manage.py limitation_check [--date YYYY-MM-DD]``: hold every open case whose
limitation date has come (the beat's dunning task does this first every day)."""

from django.core.management.base import BaseCommand

from collections_cases.cases.limitation import limitation_hold_due
from kravia_web.commands import add_date_argument, date_option


class Command(BaseCommand):
    help = "Hold every open collection case whose limitation date is the date or earlier."

    def add_arguments(self, parser):
        add_date_argument(parser, what="Check")

    def handle(self, *args, **options):
        on = date_option(options)
        held = limitation_hold_due(on=on)
        self.stdout.write(f"Limitation check {on.isoformat()}: {held} case(s) held as time-barred")
