"""Shared pieces of management commands."""

from __future__ import annotations

from datetime import date

from django.core.management.base import CommandError
from django.utils import timezone


def iso_date(value: str) -> date:
    """An argparse ``type`` for ``--date YYYY-MM-DD``."""
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--date must be YYYY-MM-DD, not {value!r}") from exc


def add_date_argument(parser, *, what: str) -> None:
    parser.add_argument(
        "--date",
        type=iso_date,
        default=None,
        help=f"{what} as of this date (YYYY-MM-DD); default today in Europe/Oslo.",
    )


def date_option(options) -> date:
    """The ``--date`` given (``call_command(date="…")`` skips argparse's type), or today."""
    value = options.get("date") or timezone.localdate()
    return iso_date(value) if isinstance(value, str) else value
