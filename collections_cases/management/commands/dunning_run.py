"""``python manage.py dunning_run [--date YYYY-MM-DD]``: the daily dunning run, by hand."""

from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from collections_cases.dunning.services import dunning_run
from kravia_web.commands import add_date_argument, date_option


class Command(BaseCommand):
    help = "Move every collection case whose next action is due one step (letters, approvals)."

    def add_arguments(self, parser):
        add_date_argument(parser, what="Run")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, **options):
        on = date_option(options)
        result = dunning_run(on=on, batch_size=options["batch_size"])
        self.stdout.write(f"Dunning run {on.isoformat()}: {result.processed} step(s)")
        for step, count in sorted(result.steps.items()):
            self.stdout.write(f"  {step}: {count}")
        self.stdout.write(f"  skipped: {result.skipped}")
        self.stdout.write(f"  held: {len(result.held)}")
        for reason, count in sorted(Counter(reason for _case, reason in result.held).items()):
            self.stderr.write(f"  held {count} case(s): {reason}")
        self.stdout.write(f"  errors: {len(result.errors)}")
        for case_id, error in result.errors:
            self.stderr.write(f"  case {case_id}: {error}")
        if result.errors:
            raise CommandError(f"{len(result.errors)} case(s) failed")
