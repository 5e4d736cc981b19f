"""The Norwegian banking-day calendar and calendar arithmetic (pure: no database, no settings).

Banking days (Monday–Friday, no public holiday, not 24 or 31 December), the deadlines that
move to the next banking day, and months and years added as domstolloven § 148 counts them.
:mod:`collections_cases.rules` re-exports every name, so ``rules.deadline(...)`` keeps working.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[date]:
    # Some versions of the package count every Sunday as a Norwegian holiday
    # (``include_sundays``); harmless here since weekends are never banking days anyway.
    return frozenset(holidays.country_holidays("NO", years=year))


#: Days of the year (month, day) Norwegian banks do not settle although they are no public
#: holiday: Christmas Eve and New Year's Eve (reference § 1).
BANKING_DAY_CLOSED = ((12, 24), (12, 31))


def is_banking_day(d: date) -> bool:
    """Monday–Friday, not a Norwegian public holiday, not 24 or 31 December."""
    return (
        d.weekday() < 5
        and (d.month, d.day) not in BANKING_DAY_CLOSED
        and d not in _public_holidays(d.year)
    )


def next_banking_day(d: date) -> date:
    """``d`` itself when it is a banking day, else the next one."""
    while not is_banking_day(d):
        d += timedelta(days=1)
    return d


def add_banking_days(d: date, days: int) -> date:
    """The ``days``-th banking day after ``d`` (``d`` itself counts for nothing); ``days=0``
    gives :func:`next_banking_day` of ``d``."""
    if days < 0:
        raise ValueError(f"days must not be negative (got {days})")
    if days == 0:
        return next_banking_day(d)
    while days:
        d += timedelta(days=1)
        if is_banking_day(d):
            days -= 1
    return d


def deadline(sent_on: date, days: int = 14) -> date:
    """``sent_on + days``, moved forward to the next Norwegian banking day if needed."""
    if days < 0:
        raise ValueError(f"days must not be negative (got {days})")
    return next_banking_day(sent_on + timedelta(days=days))


def add_months(d: date, months: int) -> date:
    """Same day ``months`` later; the month's last day when that day is missing.

    (domstolloven § 148: a period in months or years ends on the day with the same number,
    or on the last day of the month when the month has no such day.)
    """
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def add_years(d: date, years: int) -> date:
    """Same date ``years`` later; 29 February → 28 February in a common year."""
    return add_months(d, 12 * years)
