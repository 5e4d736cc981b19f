"""``python manage.py import_payments FILE``: import a camt.054 or OCR giro file (auto-detected)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from collections_cases.payments.imports import payments_import_file
from kravia_web.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Import incoming payments and reversals from a camt.054 or OCR giro file, in one "
        "transaction (docs/payments.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the bank file")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        try:
            batch = payments_import_file(content=content, file_name=path.name)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"{batch.file_name} ({batch.get_format_display()}): {batch.transactions_count} "
            f"transactions, {batch.created_count} new, {batch.duplicate_count} already imported, "
            f"{batch.matched_count} allocated, {batch.unmatched_count} to the queue; "
            f"{batch.reversal_count} reversed, {batch.reversal_unmatched_count} reversals to the "
            f"queue; {batch.ignored_count} not money in; {len(batch.skipped)} skipped."
        )
        # A skipped record is money the bank booked that was not imported: say where.
        for problem in batch.skipped:
            self.stderr.write(f"Skipped: {problem['error']}")
