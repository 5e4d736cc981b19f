"""``python manage.py payment_plans_check [--date YYYY-MM-DD]``: the daily payment-plan check."""

from django.core.management.base import BaseCommand, CommandError

from collections_cases.plans.services import payment_plans_check
from kravia_web.commands import add_date_argument, date_option


class Command(BaseCommand):
    help = "Check accepted payment plans: complete paid ones, break missed ones (case resumes)."

    def add_arguments(self, parser):
        add_date_argument(parser, what="Check")

    def handle(self, *args, **options):
        on = date_option(options)
        result = payment_plans_check(on=on)
        self.stdout.write(f"Payment plan check {on.isoformat()}:")
        for outcome, count in sorted(result.outcomes.items()):
            self.stdout.write(f"  {outcome}: {count}")
        self.stdout.write(f"  errors: {len(result.errors)}")
        for plan_id, error in result.errors:
            self.stderr.write(f"  plan {plan_id}: {error}")
        if result.errors:
            raise CommandError(f"{len(result.errors)} plan(s) failed")
