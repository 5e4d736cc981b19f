"""Warnings that a dated rule table is about to end (reference § 4, *Until when the table is
known*): from :data:`WARNING_DAYS` days before a table's ``known_until`` (and after it), Oversikt
and the admin say which table ends and that steps needing it are held until its new row is
added in ``collections_cases/rules.py``. The dunning run holds such a step itself
(``rules.RuleUnknown``); this only tells people in good time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collections_cases import rules

#: Warn this many days before a table ends.
WARNING_DAYS = 30

#: Per table (``DatedTable.name``): what it is (indefinite, definite), the steps that need it.
TABLES = {
    rules.LATE_INTEREST_RATES.name: (
        gettext_lazy("forsinkelsesrente"),
        gettext_lazy("forsinkelsesrenten"),
        gettext_lazy("renteberegning, brev med renter og fordeling av innbetalinger på renter"),
    ),
    rules.INKASSOSATS.name: (
        gettext_lazy("inkassosats"),
        gettext_lazy("inkassosatsen"),
        gettext_lazy("gebyr for inkassovarsel og salær for betalingsoppfordring"),
    ),
}


@dataclass(frozen=True)
class RuleTableWarning:
    table: str
    known_until: date
    #: The table has ended already: steps that need it are held now.
    ended: bool
    title: str
    message: str


def _d(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def rule_table_warnings(
    *, on: date, staff: bool = False, within_days: int = WARNING_DAYS
) -> list[RuleTableWarning]:
    """The tables that end within ``within_days`` days after ``on`` (or have ended), soonest
    first, each with a title and a message; ``staff``: the admin's wording (who adds the row
    and where), otherwise the creditor's."""
    warnings = []
    for table, known_until in rules.rule_tables_ending(on, within_days=within_days):
        name, what, steps = TABLES.get(table, (table, table, _("steg som trenger tabellen")))
        first_unknown = known_until + timedelta(days=1)
        ended = known_until < on
        values = {
            "name": name,
            "what": what,
            "until": _d(known_until),
            "from": _d(first_unknown),
            "steps": steps,
            "table": table,
        }
        if ended:
            title = _("Ny %(name)s mangler fra %(from)s") % values
        else:
            title = _("Ny %(name)s må legges inn før %(from)s") % values
        if staff:
            message = (
                _(
                    "Tabellen «%(table)s» i collections_cases/rules.py er kjent til og med "
                    "%(until)s. Steg som trenger den etter denne datoen (%(steps)s) holdes tilbake "
                    "til en saksbehandler eller utvikler har lagt inn den nye raden."
                )
                % values
            )
        else:
            message = (
                _(
                    "Vi kjenner %(what)s bare til og med %(until)s. Steg som trenger den etter "
                    "denne datoen (%(steps)s) holdes tilbake til vi har lagt inn den nye satsen. "
                    "Vi gjetter aldri på en sats."
                )
                % values
            )
        warnings.append(
            RuleTableWarning(
                table=table, known_until=known_until, ended=ended, title=title, message=message
            )
        )
    return warnings
