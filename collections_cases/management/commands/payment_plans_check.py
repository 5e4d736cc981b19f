"""``python manage.py payment_plans_check [--date YYYY-MM-DD]``: the daily payment-plan check."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from collections_cases.services.payment_plans import payment_plans_check


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--date must be YYYY-MM-DD, not {value!r}") from exc


class Command(BaseCommand):
    help = "Check accepted payment plans: complete paid ones, break missed ones (case resumes)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            type=_iso_date,
            default=None,
            help="Check as of this date (YYYY-MM-DD); default today in Europe/Oslo.",
        )

    def handle(self, *args, **options):
        on = options["date"] or timezone.localdate()
        if isinstance(on, str):  # call_command(date="…") skips argparse's type
            on = _iso_date(on)
        result = payment_plans_check(on=on)
        self.stdout.write(f"Payment plan check {on.isoformat()}:")
        for outcome, count in sorted(result.outcomes.items()):
            self.stdout.write(f"  {outcome}: {count}")
        self.stdout.write(f"  errors: {len(result.errors)}")
        for plan_id, error in result.errors:
            self.stderr.write(f"  plan {plan_id}: {error}")
        if result.errors:
            raise CommandError(f"{len(result.errors)} plan(s) failed")
