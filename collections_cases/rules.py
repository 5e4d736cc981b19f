"""Norwegian debt-collection rules as dated data.

Pure Python (no Django): every number the case engine needs lives in a :class:`DatedTable`,
a tuple of ``(valid_from, value, source)`` rows looked up by date with :mod:`bisect`. The row
in force on a day is the newest one whose ``valid_from`` is on or before that day. A rule
change (a new inkassosats, a new half-year interest rate, a new regime) is a new row, never a
change in the logic. The coming inkasso law (Prop. 3 L (2025–2026), adopted 2026, in force on
a date still to be set, signalled as 2027-01-01) will add new rows to these tables — new fee
levels, deadlines and thresholds — on its in-force date.

Facts and numbers: ``shared/reference/norwegian-collection-rules.md`` (abbreviations: INKL =
inkassoloven 1988, INKF = inkassoforskriften 1989, FRL = forsinkelsesrenteloven, tvfbl =
tvangsfullbyrdelsesloven, IV = inkassovarsel, BO = betalingsoppfordring).

Interest convention (this project's; state it in letters too)
    Forsinkelsesrente accrues for each calendar day *d* with ``due_date < d <= until`` at the
    rate in force on *d* (Norges Bank's policy rate on 1 January / 1 July + 8 points, per
    half-year), day count actual/365 also in leap years, simple interest on the outstanding
    principal; the total is rounded half up to øre once, at the end. Worked example: NOK
    10 000 due 2025-05-15, paid 2025-09-10 → 46 days at 12.50 % + 72 days at 12.25 %
    = 157.534… + 241.643… = 399.18. :func:`late_interest_exact` gives the unrounded
    :class:`~fractions.Fraction`; it is additive over adjoining periods.

Rounding
    * Letter fees (purring / inkassovarsel): the fraction INKF § 1-2 states (1/10 or 1/20) of
      the sats, to the øre and never rounded up — a legal cap is never exceeded (35.00, 70.00,
      37.50 from 2026).
    * Salær: never rounded to kroner; the product of the band factor, the sats and the
      multipliers is rounded half up to øre.
    * Interest: rounded half up to øre once, on the total.
    All amounts are returned as :class:`~decimal.Decimal` with two decimals.

Deadlines and banking days
    ``sent_on + days``; a deadline that is not a Norwegian **banking day** moves forward to
    the next banking day — the debtor-friendly choice. Banking days are Monday to Friday
    except public holidays (the ``holidays`` package) and 24 and 31 December, when Norwegian
    banks do not settle. Grace periods after a deadline are counted in banking days
    (:func:`add_banking_days`).

Tables that end
    A table may know its values only up to a date (``known_until``): the forsinkelsesrente of
    a half-year not yet published, the inkassosats of a year not yet set. Asking for a later
    day raises :class:`RuleUnknown` (a :class:`LookupError`) — the caller holds the step and
    tells someone; a rate is never guessed (reference § 4). :func:`rule_tables_ending` lists
    the tables that end within a number of days, for the warnings on Oversikt and in the admin.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Generic, TypeVar

from collections_cases.banking_days import (  # noqa: F401  (re-exported: rules.<name>)
    BANKING_DAY_CLOSED,
    _public_holidays,
    add_banking_days,
    add_months,
    add_years,
    deadline,
    is_banking_day,
    next_banking_day,
)

__all__ = [
    "BANKING_DAY_CLOSED",
    "BO_DEADLINE_DAYS",
    "InterestPeriod",
    "RuleUnknown",
    "DatedTable",
    "HEAVY_SALAER_AFTER_BO_DEADLINE_DAYS",
    "INKASSOSATS",
    "IV_DEADLINE_DAYS",
    "LATE_INTEREST_RATES",
    "LETTER_FEE_FRACTION",
    "LETTER_FEE_MIN_DAYS_AFTER_DUE",
    "LIMITATION_YEARS",
    "NEW_BO_AFTER_MONTHS",
    "PURRING_DEADLINE_DAYS",
    "RETTSLIG_VARSEL_DAYS",
    "SALAER_BANDS",
    "SALAER_MULTIPLIERS",
    "add_banking_days",
    "add_months",
    "add_years",
    "bo_deadline_days",
    "deadline",
    "heavy_salaer_earliest",
    "heavy_salaer_threshold_days",
    "inkassosats",
    "is_banking_day",
    "iv_deadline_days",
    "kid_is_valid",
    "kid_mod10",
    "kid_mod11",
    "late_interest",
    "late_interest_exact",
    "late_interest_periods",
    "late_interest_rate",
    "late_interest_rate_known_until",
    "letter_fee",
    "limitation_date",
    "new_bo_due",
    "new_bo_months",
    "next_banking_day",
    "purring_deadline_days",
    "rettslig_varsel_days",
    "reductions_by_invoice",
    "round_ore",
    "rule_tables_ending",
    "salaer",
    "salaer_factor",
]

T = TypeVar("T")
K = TypeVar("K")

#: Far past, for regimes that apply to "every claim due before <switch date>".
BEGINNING = date(1900, 1, 1)

ORE = Decimal("0.01")


# --------------------------------------------------------------------------------------------
# Dated tables
# --------------------------------------------------------------------------------------------


class RuleUnknown(LookupError):
    """A dated table does not know its value for a day: past its ``known_until`` (a rate not
    yet published) — hold the step and tell someone; never guess."""

    def __init__(self, table: str, on: date, known_until: date):
        self.table = table
        self.on = on
        self.known_until = known_until
        super().__init__(
            f"{table}: no value is known for {on.isoformat()} "
            f"(the table ends {known_until.isoformat()}); add the new row"
        )


@dataclass(frozen=True)
class DatedTable(Generic[T]):
    """Rows ``(valid_from, value, source)``, strictly increasing by ``valid_from``.

    ``known_until``: the last day the table knows (``None``: open-ended, for rules that
    change only by a law we would hear of); a later day raises :class:`RuleUnknown`.
    """

    name: str
    rows: tuple[tuple[date, T, str], ...]
    known_until: date | None = None
    _dates: tuple[date, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.rows:
            raise ValueError(f"{self.name}: a dated table needs at least one row")
        dates = [row[0] for row in self.rows]
        if any(a >= b for a, b in zip(dates, dates[1:], strict=False)):
            raise ValueError(f"{self.name}: rows must be strictly increasing by valid_from")
        for valid_from, _value, source in self.rows:
            if not isinstance(valid_from, date) or not source:
                raise ValueError(f"{self.name}: every row needs a date and a source")
        if self.known_until is not None and self.known_until < dates[-1]:
            raise ValueError(f"{self.name}: known_until is before the last row")
        object.__setattr__(self, "_dates", tuple(dates))

    @property
    def first_date(self) -> date:
        return self.rows[0][0]

    def _check_known(self, on: date) -> None:
        if self.known_until is not None and on > self.known_until:
            raise RuleUnknown(self.name, on, self.known_until)

    def _index(self, on: date) -> int:
        self._check_known(on)
        i = bisect_right(self._dates, on) - 1
        if i < 0:
            raise ValueError(
                f"{self.name}: no value before {self.first_date.isoformat()} "
                f"(asked for {on.isoformat()})"
            )
        return i

    def row(self, on: date) -> tuple[date, T, str]:
        """The row in force on ``on``; ``ValueError`` before the first row,
        :class:`RuleUnknown` after ``known_until``."""
        return self.rows[self._index(on)]

    def at(self, on: date) -> T:
        """The value in force on ``on``; ``ValueError`` before the first row,
        :class:`RuleUnknown` after ``known_until``."""
        return self.rows[self._index(on)][1]

    def source(self, on: date) -> str:
        return self.rows[self._index(on)][2]

    def segments(self, start: date, end: date) -> Iterator[tuple[date, date, T]]:
        """Split the day range ``start..end`` (both inclusive) where the value changes.

        Yields ``(first_day, last_day, value)``; nothing when ``end < start``;
        :class:`RuleUnknown` (before yielding anything) when ``end`` is past ``known_until``.
        """
        if end < start:
            return
        self._check_known(end)
        i = self._index(start)
        first = start
        while True:
            next_from = self.rows[i + 1][0] if i + 1 < len(self.rows) else None
            if next_from is None or next_from > end:
                yield first, end, self.rows[i][1]
                return
            yield first, next_from - timedelta(days=1), self.rows[i][1]
            first = next_from
            i += 1


# --------------------------------------------------------------------------------------------
# The tables (reference §§ 1–5)
# --------------------------------------------------------------------------------------------

#: Inkassosats in NOK, by the date the fee or salær is computed (reference §2).
INKASSOSATS: DatedTable[Decimal] = DatedTable(
    "inkassosats",
    (
        (date(2017, 1, 1), Decimal("700"), "INKF § 1-1; inkassosats 700 (reference §2) [V]"),
        (date(2026, 1, 1), Decimal("750"), "INKF § 1-1; inkassosats 750 from 2026 [V]"),
    ),
    # Set by regulation for a year at a time; the new inkasso law (signalled for 2027-01-01)
    # sets new fee levels by regulation. Add the 2027 row (or move this date) when it is known.
    known_until=date(2026, 12, 31),
)

#: Fraction of the inkassosats for a purring or inkassovarsel, by the claim's DUE date.
LETTER_FEE_FRACTION: DatedTable[Fraction] = DatedTable(
    "letter fee fraction (by due date)",
    (
        (BEGINNING, Fraction(1, 10), "INKF § 1-2, claims due up to 2020-09-30: 1/10 [V]"),
        (date(2020, 10, 1), Fraction(1, 20), "INKF § 1-2, claims due from 2020-10-01: 1/20 [V]"),
    ),
)

#: A letter fee may be charged only if the letter is sent at least this many days after due.
LETTER_FEE_MIN_DAYS_AFTER_DUE: DatedTable[int] = DatedTable(
    "letter fee: minimum days after due date",
    ((BEGINNING, 14, "INKF § 1-2: fee only if sent ≥ 14 days after the due date [V]"),),
)

#: Minimum deadline in a purring whose missed deadline allows a second fee-bearing letter.
PURRING_DEADLINE_DAYS: DatedTable[int] = DatedTable(
    "purring deadline days",
    ((BEGINNING, 14, "INKF §§ 1-2, 1-3: a second fee needs a missed ≥ 14-day deadline [V]"),),
)

#: Minimum deadline in an inkassovarsel.
IV_DEADLINE_DAYS: DatedTable[int] = DatedTable(
    "inkassovarsel deadline days",
    ((BEGINNING, 14, "INKL § 9: deadline ≥ 14 days from sending [V]"),),
)

#: Minimum deadline (to pay or object) in a betalingsoppfordring.
BO_DEADLINE_DAYS: DatedTable[int] = DatedTable(
    "betalingsoppfordring deadline days",
    ((BEGINNING, 14, "INKL § 10: ≥ 14 days to pay or object [V]"),),
)

#: Minimum deadline in a varsel om rettslig inndriving.
RETTSLIG_VARSEL_DAYS: DatedTable[int] = DatedTable(
    "varsel om rettslig inndriving deadline days",
    ((BEGINNING, 14, "tvfbl § 4-18: ≥ 14 days [V]"),),
)

#: Tungt salær when the BO deadline is exceeded by MORE than this many days.
HEAVY_SALAER_AFTER_BO_DEADLINE_DAYS: DatedTable[int] = DatedTable(
    "tungt salær threshold days after BO deadline",
    ((BEGINNING, 28, "INKF § 2-3: BO deadline exceeded by more than 28 days [V]"),),
)

#: A new BO is required when no legal step was taken within this many months of the BO.
NEW_BO_AFTER_MONTHS: DatedTable[int] = DatedTable(
    "new BO after months",
    ((BEGINNING, 6, "INKL § 11: new BO if no legal step within 6 months [V]"),),
)

#: Limitation period in years from the due date or the last interruption.
LIMITATION_YEARS: DatedTable[int] = DatedTable(
    "limitation years",
    ((BEGINNING, 3, "foreldelsesloven §§ 2, 3: 3 years from due date (reference §5) [V]"),),
)

#: Lett salær bands by the claim's DUE date: ``((upper bound inclusive | None, factor), ...)``.
SALAER_BANDS: DatedTable[tuple[tuple[Decimal | None, Decimal], ...]] = DatedTable(
    "lett salær bands (by due date)",
    (
        (
            BEGINNING,
            (
                (Decimal("2500"), Decimal("0.5")),
                (Decimal("10000"), Decimal("1")),
                (Decimal("50000"), Decimal("2")),
                (Decimal("250000"), Decimal("4")),
                (None, Decimal("8")),
            ),
            "INKF ch. 2, older table for claims due up to 2020-09-30 (reference §3) [V]",
        ),
        (
            date(2020, 10, 1),
            (
                (Decimal("500"), Decimal("0.25")),
                (Decimal("1000"), Decimal("0.35")),
                (Decimal("2500"), Decimal("0.40")),
                (Decimal("10000"), Decimal("0.80")),
                (Decimal("50000"), Decimal("1.60")),
                (Decimal("250000"), Decimal("3.60")),
                (None, Decimal("7.20")),
            ),
            "INKF § 2-2, table for claims due from 2020-10-01 (reference §3) [V]",
        ),
    ),
)


@dataclass(frozen=True)
class SalaerMultipliers:
    heavy: Decimal
    business_debtor: Decimal
    creditor_not_vat_registered: Decimal


#: Salær multipliers, by the computation date.
SALAER_MULTIPLIERS: DatedTable[SalaerMultipliers] = DatedTable(
    "salær multipliers",
    (
        (
            BEGINNING,
            SalaerMultipliers(
                heavy=Decimal("2"),
                business_debtor=Decimal("1.5"),
                creditor_not_vat_registered=Decimal("1.25"),
            ),
            "INKF § 2-3 tungt = 2 × lett; business debtor × 1.5; table B (creditor not "
            "VAT-registered) × 1.25 (reference §3) [V]",
        ),
    ),
)

#: Forsinkelsesrente in percent per annum, per half-year (FRL § 3; policy rate + 8 points).
LATE_INTEREST_RATES: DatedTable[Decimal] = DatedTable(
    "forsinkelsesrente",
    (
        (date(2016, 7, 1), Decimal("8.50"), "FRL § 3, 2016 H2 – 2018 H2: 8.50 % [V]"),
        (date(2019, 1, 1), Decimal("8.75"), "FRL § 3, 2019 H1 [V]"),
        (date(2019, 7, 1), Decimal("9.25"), "FRL § 3, 2019 H2 [V]"),
        (date(2020, 1, 1), Decimal("9.50"), "FRL § 3, 2020 H1 [V]"),
        (date(2020, 7, 1), Decimal("8.00"), "FRL § 3, 2020 H2 – 2021 H2 [V]"),
        (date(2022, 1, 1), Decimal("8.50"), "FRL § 3, 2022 H1 [V]"),
        (date(2022, 7, 1), Decimal("9.25"), "FRL § 3, 2022 H2 [V]"),
        (date(2023, 1, 1), Decimal("10.75"), "FRL § 3, 2023 H1 [V]"),
        (date(2023, 7, 1), Decimal("11.75"), "FRL § 3, 2023 H2 [V]"),
        (date(2024, 1, 1), Decimal("12.50"), "FRL § 3, 2024 H1 – 2025 H1 [V]"),
        (date(2025, 7, 1), Decimal("12.25"), "FRL § 3, 2025 H2 [V]"),
        (date(2026, 1, 1), Decimal("12.00"), "FRL § 3, 2026 H1 [V]"),
        (date(2026, 7, 1), Decimal("12.25"), "FRL § 3, 2026 H2 [S — unverified, verify]"),
    ),
    # The end of the newest half-year: the next rate is Norges Bank's policy rate on its first
    # day + 8 points, published shortly before. Move this date with each new row.
    known_until=date(2026, 12, 31),
)


#: The tables that end (``known_until``): warned about before they do (:func:`rule_tables_ending`).
ENDING_TABLES: tuple[DatedTable, ...] = (LATE_INTEREST_RATES, INKASSOSATS)


def rule_tables_ending(on: date, *, within_days: int = 30) -> list[tuple[str, date]]:
    """``(table name, known_until)`` of every table that ends within ``within_days`` after
    ``on`` or has already ended, soonest first: a new row is needed before then."""
    horizon = on + timedelta(days=within_days)
    return sorted(
        (
            (t.name, t.known_until)
            for t in ENDING_TABLES
            if t.known_until is not None and t.known_until <= horizon
        ),
        key=lambda row: (row[1], row[0]),
    )


# --------------------------------------------------------------------------------------------
# Money helpers
# --------------------------------------------------------------------------------------------


def round_ore(amount: Decimal | Fraction | int) -> Decimal:
    """Round half up (away from zero) to øre."""
    if isinstance(amount, Fraction):
        hundredths = abs(amount) * 100
        whole = int(hundredths + Fraction(1, 2))  # floor for non-negative values
        cents = whole if amount >= 0 else -whole
        return (Decimal(cents) / 100).quantize(ORE)
    return Decimal(amount).quantize(ORE, rounding=ROUND_HALF_UP)


def _money(value: Decimal | int, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{what} must be a Decimal (or int), not {type(value).__name__}")
    value = Decimal(value)
    if not value.is_finite():
        raise ValueError(f"{what} must be a finite amount")
    if value < 0:
        raise ValueError(f"{what} must not be negative (got {value})")
    return value


# --------------------------------------------------------------------------------------------
# Fees and salær
# --------------------------------------------------------------------------------------------


def inkassosats(on: date) -> Decimal:
    """The inkassosats (NOK) in force on ``on``; ``ValueError`` before 2017-01-01."""
    return INKASSOSATS.at(on)


def letter_fee(*, due_date: date, sent_on: date) -> Decimal:
    """Fee the debtor can be charged for a purring or inkassovarsel (INKF § 1-2).

    ``0`` if the letter is sent earlier than ``due_date + 14`` days. Otherwise the fraction
    decided by the due date (1/10 up to 2020-09-30, 1/20 after) of the sats in force on
    ``sent_on``: 35.00 at sats 700, 37.50 at 750. INKF § 1-2 states the fraction and no
    rounding, and the fee is a cap: a fraction that does not end in whole øre is rounded
    *down* (never above the cap). :class:`RuleUnknown` past the sats table's end.
    """
    if sent_on < due_date + timedelta(days=LETTER_FEE_MIN_DAYS_AFTER_DUE.at(sent_on)):
        return Decimal("0.00")
    fraction = LETTER_FEE_FRACTION.at(due_date)
    exact = inkassosats(sent_on) * fraction.numerator / fraction.denominator
    return exact.quantize(ORE, rounding=ROUND_DOWN)


def salaer_factor(principal: Decimal, due_date: date) -> Decimal:
    """The lett-salær factor (× sats) for the band holding ``principal`` (bounds inclusive)."""
    principal = _money(principal, "principal")
    for upper, factor in SALAER_BANDS.at(due_date):
        if upper is None or principal <= upper:
            return factor
    raise AssertionError("salær band table must end with an open band")  # pragma: no cover


def salaer(
    *,
    principal: Decimal,
    on: date,
    due_date: date,
    heavy: bool = False,
    business_debtor: bool = False,
    creditor_vat_registered: bool = True,
) -> Decimal:
    """Salær cap (INKF ch. 2): band factor × sats on ``on`` × multipliers, half up to øre.

    The band table is chosen by ``due_date`` (older table for claims due up to 2020-09-30);
    ``principal`` is the band basis (principal plus interest accrued before the due date).
    """
    amount = salaer_factor(principal, due_date) * inkassosats(on)
    multipliers = SALAER_MULTIPLIERS.at(on)
    if heavy:
        amount *= multipliers.heavy
    if business_debtor:
        amount *= multipliers.business_debtor
    if not creditor_vat_registered:
        amount *= multipliers.creditor_not_vat_registered
    return round_ore(amount)


# --------------------------------------------------------------------------------------------
# Forsinkelsesrente
# --------------------------------------------------------------------------------------------


def late_interest_rate(on: date) -> Decimal:
    """Forsinkelsesrente in percent p.a. in force on ``on``; ``ValueError`` before 2016-07-01,
    :class:`RuleUnknown` after :func:`late_interest_rate_known_until` (never guessed)."""
    return LATE_INTEREST_RATES.at(on)


def late_interest_rate_known_until() -> date:
    """Last day covered by a published rate (the end of the newest half-year in the table)."""
    return LATE_INTEREST_RATES.known_until


@dataclass(frozen=True)
class InterestPeriod:
    """Days ``first..last`` (inclusive) at one rate on one base: ``exact`` is unrounded."""

    first: date
    last: date
    base: Decimal
    rate: Decimal
    exact: Fraction

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def late_interest_periods(
    *,
    principal: Decimal,
    due_date: date,
    until: date,
    reductions: Iterable[tuple[date, Decimal]] = (),
    not_before: date | None = None,
) -> list[InterestPeriod]:
    """Forsinkelsesrente day by day (reference §§ 4, 4b): each day ``due_date < d <= until``
    (and ``d >= not_before``) at the rate in force on ``d``, actual/365, on the principal
    still outstanding on ``d``.

    ``reductions``: ``(day, amount)`` — a payment's principal part, a credit note, a direct
    payment. A reduction on day *p* lowers the base from *p* + 1: the interest of day *p*
    itself is on the old base (a payment on *p* covers the interest accrued up to and
    including *p*). The base never goes below 0. Periods split where the rate or the base
    changes; days with a base of 0 give no period. :class:`RuleUnknown` when ``until`` is
    past the rate table's end.
    """
    principal = _money(principal, "principal")
    first_day = due_date + timedelta(days=1)
    if not_before is not None and not_before > first_day:
        first_day = not_before
    if until < first_day:
        return []
    # The base changes on the day after each reduction; the rate on each table row's date.
    effective = sorted(
        (day + timedelta(days=1), _money(amount, "reduction")) for day, amount in reductions
    )
    breaks = {first_day}
    breaks.update(day for day, _a in effective if first_day < day <= until)
    breaks.update(first for first, _l, _r in LATE_INTEREST_RATES.segments(first_day, until))
    starts = sorted(breaks)
    periods: list[InterestPeriod] = []
    for i, start in enumerate(starts):
        end = starts[i + 1] - timedelta(days=1) if i + 1 < len(starts) else until
        base = principal - sum((a for day, a in effective if day <= start), start=Decimal(0))
        if base <= 0:
            continue
        rate = LATE_INTEREST_RATES.at(start)
        exact = Fraction(base) * Fraction(rate) * ((end - start).days + 1) / (100 * 365)
        last = periods[-1] if periods else None
        if last and last.rate == rate and last.base == base and last.last + timedelta(1) == start:
            periods[-1] = InterestPeriod(last.first, end, base, rate, last.exact + exact)
        else:
            periods.append(InterestPeriod(start, end, base, rate, exact))
    return periods


def late_interest_exact(
    *,
    principal: Decimal,
    due_date: date,
    until: date,
    reductions: Iterable[tuple[date, Decimal]] = (),
    not_before: date | None = None,
) -> Fraction:
    """Unrounded interest of :func:`late_interest_periods`; additive over adjoining periods."""
    periods = late_interest_periods(
        principal=principal,
        due_date=due_date,
        until=until,
        reductions=reductions,
        not_before=not_before,
    )
    return sum((p.exact for p in periods), start=Fraction(0))


def late_interest(
    *,
    principal: Decimal,
    due_date: date,
    until: date,
    reductions: Iterable[tuple[date, Decimal]] = (),
    not_before: date | None = None,
) -> Decimal:
    """Forsinkelsesrente of :func:`late_interest_periods`, half up to øre once, on the total."""
    return round_ore(
        late_interest_exact(
            principal=principal,
            due_date=due_date,
            until=until,
            reductions=reductions,
            not_before=not_before,
        )
    )


def reductions_by_invoice(
    invoices: Sequence[tuple[K, date, Decimal]],
    reductions: Iterable[tuple[date, Decimal, K | None]],
) -> dict[K, list[tuple[date, Decimal]]]:
    """Which invoice each principal reduction lowers, and when.

    ``invoices``: ``(key, due_date, principal)``; ``reductions``: ``(day, amount, key)`` where
    ``key`` is ``None`` for a reduction of the case as a whole (a payment's principal part):
    those go to the invoices with the oldest due date first (then by key), in the order of
    their days, never more than an invoice's principal still outstanding. A reduction tied to
    an invoice goes to it. What no invoice can take is dropped (an overpayment is not
    interest-bearing). Returns ``{key: [(day, amount), ...]}`` for
    :func:`late_interest_periods`.
    """
    order = sorted(invoices, key=lambda row: (row[1], row[0]))
    left = {key: _money(principal, "principal") for key, _due, principal in order}
    result: dict[K, list[tuple[date, Decimal]]] = {key: [] for key, _due, _p in order}
    # Reductions tied to an invoice first on a day, then the case-wide ones.
    for day, amount, key in sorted(reductions, key=lambda r: (r[0], r[2] is None)):
        amount = _money(amount, "reduction")
        targets = [key] if key is not None and key in left else [k for k, _d, _p in order]
        for target in targets:
            take = min(amount, left[target]) if key is None or key not in left else amount
            if take > 0:
                result[target].append((day, take))
                left[target] = max(left[target] - take, Decimal(0))
                amount -= take
            if amount <= 0:
                break
    return result


# --------------------------------------------------------------------------------------------
# Calendar: deadlines, months and years (banking days: collections_cases.banking_days)
# --------------------------------------------------------------------------------------------


def iv_deadline_days(sent_on: date) -> int:
    return IV_DEADLINE_DAYS.at(sent_on)


def bo_deadline_days(sent_on: date) -> int:
    return BO_DEADLINE_DAYS.at(sent_on)


def purring_deadline_days(sent_on: date) -> int:
    return PURRING_DEADLINE_DAYS.at(sent_on)


def rettslig_varsel_days(sent_on: date) -> int:
    return RETTSLIG_VARSEL_DAYS.at(sent_on)


def heavy_salaer_threshold_days(on: date) -> int:
    return HEAVY_SALAER_AFTER_BO_DEADLINE_DAYS.at(on)


def heavy_salaer_earliest(bo_deadline: date) -> date:
    """First day tungt salær may be charged: the BO deadline exceeded by MORE than 28 days.

    With a 14-day BO deadline that is day 43 after the BO was sent.
    """
    return bo_deadline + timedelta(days=heavy_salaer_threshold_days(bo_deadline) + 1)


def new_bo_months(bo_sent_on: date) -> int:
    return NEW_BO_AFTER_MONTHS.at(bo_sent_on)


def new_bo_due(bo_sent_on: date) -> date:
    """Date from which a new BO is required if no legal step was taken (INKL § 11)."""
    return add_months(bo_sent_on, new_bo_months(bo_sent_on))


def limitation_date(due_date: date, last_interruption: date | None = None) -> date:
    """Foreldelse: 3 years from the due date, or from the last interruption if later.

    Reminders, IV and BO do not interrupt; an acknowledgement, part-payment, forliksklage,
    lawsuit or request for utlegg does (pass its date as ``last_interruption``).
    """
    start = due_date
    if last_interruption is not None:
        if last_interruption < due_date:
            raise ValueError(
                f"last_interruption {last_interruption.isoformat()} is before the due date "
                f"{due_date.isoformat()}"
            )
        start = last_interruption
    return add_years(start, LIMITATION_YEARS.at(start))


# --------------------------------------------------------------------------------------------
# KID
# --------------------------------------------------------------------------------------------

_DIGITS = re.compile(r"[0-9]+")
KID_MIN_LENGTH = 2
KID_MAX_LENGTH = 25


def _check_payload(payload: str) -> None:
    if not isinstance(payload, str) or not _DIGITS.fullmatch(payload):
        raise ValueError(f"KID payload must be ASCII digits only (got {payload!r})")
    if not KID_MIN_LENGTH <= len(payload) + 1 <= KID_MAX_LENGTH:
        raise ValueError(
            f"a KID is {KID_MIN_LENGTH}–{KID_MAX_LENGTH} characters including the check "
            f"digit, so the payload must be {KID_MIN_LENGTH - 1}–{KID_MAX_LENGTH - 1} digits "
            f"(got {len(payload)})"
        )


def _mod10_digit(payload: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(payload)):
        n = int(ch)
        if i % 2 == 0:  # the rightmost payload digit is doubled
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return str((10 - total % 10) % 10)


def _mod11_digit(payload: str) -> str:
    total = sum(int(ch) * (2 + i % 6) for i, ch in enumerate(reversed(payload)))
    remainder = total % 11
    if remainder == 0:
        return "0"
    if remainder == 1:
        return "-"
    return str(11 - remainder)


def kid_mod10(payload: str) -> str:
    """Payload plus its MOD10 (Luhn) check digit: ``12345678`` → ``123456782``."""
    _check_payload(payload)
    return payload + _mod10_digit(payload)


def kid_mod11(payload: str) -> str:
    """Payload plus its MOD11 check digit (remainder 1 → ``-``): ``12345678`` → ``123456785``."""
    _check_payload(payload)
    return payload + _mod11_digit(payload)


def kid_is_valid(kid: str) -> bool:
    """Whether ``kid`` is a well-formed KID with a valid MOD10 or MOD11 check digit."""
    if not isinstance(kid, str) or not KID_MIN_LENGTH <= len(kid) <= KID_MAX_LENGTH:
        return False
    payload, check = kid[:-1], kid[-1]
    if not _DIGITS.fullmatch(payload) or not (check == "-" or _DIGITS.fullmatch(check)):
        return False
    return check in (_mod10_digit(payload), _mod11_digit(payload))
