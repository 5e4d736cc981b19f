"""``python manage.py dunning_run [--date YYYY-MM-DD]``: the daily dunning run, by hand."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from collections_cases.services.dunning import dunning_run


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--date must be YYYY-MM-DD, not {value!r}") from exc


class Command(BaseCommand):
    help = "Move every collection case whose next action is due one step (letters, approvals)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            type=_iso_date,
            default=None,
            help="Run as of this date (YYYY-MM-DD); default today in Europe/Oslo.",
        )
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, **options):
        on = options["date"] or timezone.localdate()
        if isinstance(on, str):  # call_command(date="…") skips argparse's type
            on = _iso_date(on)
        result = dunning_run(on=on, batch_size=options["batch_size"])
        self.stdout.write(f"Dunning run {on.isoformat()}: {result.processed} step(s)")
        for step, count in sorted(result.steps.items()):
            self.stdout.write(f"  {step}: {count}")
        self.stdout.write(f"  skipped: {result.skipped}")
        self.stdout.write(f"  errors: {len(result.errors)}")
        for case_id, error in result.errors:
            self.stderr.write(f"  case {case_id}: {error}")
        if result.errors:
            raise CommandError(f"{len(result.errors)} case(s) failed")
