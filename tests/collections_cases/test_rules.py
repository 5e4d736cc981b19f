"""Table tests for collections_cases.rules: every band and every date boundary."""

from datetime import date, timedelta
from decimal import Decimal as D
from fractions import Fraction

import pytest
from stdnum import luhn

from collections_cases import rules
from collections_cases.rules import (
    DatedTable,
    deadline,
    inkassosats,
    is_banking_day,
    kid_is_valid,
    kid_mod10,
    kid_mod11,
    late_interest,
    late_interest_exact,
    late_interest_rate,
    letter_fee,
    limitation_date,
    salaer,
)

NEW_DUE = date(2025, 1, 15)  # a claim due after 2020-09-30
OLD_DUE = date(2020, 9, 30)  # the last day of the old regime


# --- the module itself ----------------------------------------------------------------------


def test_module_is_pure_python():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(rules))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert "django" not in imported


def test_every_table_row_has_a_dated_source():
    tables = [v for v in vars(rules).values() if isinstance(v, DatedTable)]
    assert len(tables) >= 13
    for table in tables:
        for valid_from, _value, source in table.rows:
            assert isinstance(valid_from, date)
            assert source.strip()


def test_dated_table_rejects_unsorted_rows_and_missing_sources():
    with pytest.raises(ValueError, match="strictly increasing"):
        DatedTable("x", ((date(2020, 1, 1), 1, "a"), (date(2020, 1, 1), 2, "b")))
    with pytest.raises(ValueError, match="source"):
        DatedTable("x", ((date(2020, 1, 1), 1, ""),))
    with pytest.raises(ValueError, match="at least one row"):
        DatedTable("x", ())


def test_dated_table_lookup_and_segments():
    table = DatedTable("t", ((date(2020, 1, 1), "a", "s1"), (date(2020, 7, 1), "b", "s2")))
    assert table.at(date(2020, 1, 1)) == "a"
    assert table.at(date(2020, 6, 30)) == "a"
    assert table.at(date(2020, 7, 1)) == "b"
    assert table.at(date(2099, 1, 1)) == "b"
    assert table.source(date(2020, 7, 1)) == "s2"
    assert table.row(date(2020, 3, 1)) == (date(2020, 1, 1), "a", "s1")
    with pytest.raises(ValueError, match="t: no value before 2020-01-01"):
        table.at(date(2019, 12, 31))
    assert list(table.segments(date(2020, 6, 29), date(2020, 7, 2))) == [
        (date(2020, 6, 29), date(2020, 6, 30), "a"),
        (date(2020, 7, 1), date(2020, 7, 2), "b"),
    ]
    assert list(table.segments(date(2020, 7, 2), date(2020, 7, 1))) == []


# --- inkassosats ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2017, 1, 1), D("700")),
        (date(2020, 10, 1), D("700")),
        (date(2025, 12, 31), D("700")),
        (date(2026, 1, 1), D("750")),
        (date(2026, 12, 31), D("750")),
    ],
)
def test_inkassosats(on, expected):
    assert inkassosats(on) == expected


def test_inkassosats_past_the_tables_end_is_unknown_not_guessed():
    with pytest.raises(rules.RuleUnknown, match="inkassosats") as caught:
        inkassosats(date(2027, 1, 1))
    assert isinstance(caught.value, LookupError)
    assert caught.value.known_until == date(2026, 12, 31)


def test_inkassosats_before_table_raises():
    with pytest.raises(ValueError, match="inkassosats: no value before 2017-01-01"):
        inkassosats(date(2016, 12, 31))


# --- letter fee -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due_date", "sent_on", "expected"),
    [
        # 14-day rule: due + 13 → no fee, due + 14 → fee
        (NEW_DUE, NEW_DUE, D("0")),
        (NEW_DUE, NEW_DUE + timedelta(days=13), D("0")),
        (NEW_DUE, NEW_DUE + timedelta(days=14), D("35.00")),
        (date(2025, 12, 17), date(2025, 12, 30), D("0")),
        (date(2025, 12, 17), date(2025, 12, 31), D("35.00")),
        # the fraction follows the due date: 1/10 up to 2020-09-30, 1/20 from 2020-10-01
        (OLD_DUE, date(2020, 10, 14), D("70.00")),
        (date(2020, 10, 1), date(2020, 10, 15), D("35.00")),
        (OLD_DUE, date(2025, 12, 31), D("70.00")),
        (date(2020, 10, 1), date(2025, 12, 31), D("35.00")),
        # the sats follows the sent date; 1/20 of 750 is 37.50, never rounded up (a cap)
        (NEW_DUE, date(2025, 12, 31), D("35.00")),
        (NEW_DUE, date(2026, 1, 1), D("37.50")),
        (date(2025, 12, 18), date(2026, 1, 1), D("37.50")),
        (date(2025, 12, 19), date(2026, 1, 1), D("0")),
        (OLD_DUE, date(2026, 1, 1), D("75")),
        (date(2020, 10, 1), date(2026, 1, 1), D("37.50")),
    ],
)
def test_letter_fee(due_date, sent_on, expected):
    fee = letter_fee(due_date=due_date, sent_on=sent_on)
    assert fee == expected
    assert fee.as_tuple().exponent == -2  # always øre


def test_letter_fee_is_keyword_only():
    with pytest.raises(TypeError):
        letter_fee(NEW_DUE, date(2026, 1, 1))  # type: ignore[misc]


# --- salær ----------------------------------------------------------------------------------

NEW_BANDS = [
    (D("0"), D("0.25")),
    (D("500"), D("0.25")),
    (D("500.01"), D("0.35")),
    (D("1000"), D("0.35")),
    (D("1000.01"), D("0.40")),
    (D("2500"), D("0.40")),
    (D("2500.01"), D("0.80")),
    (D("10000"), D("0.80")),
    (D("10000.01"), D("1.60")),
    (D("50000"), D("1.60")),
    (D("50000.01"), D("3.60")),
    (D("250000"), D("3.60")),
    (D("250000.01"), D("7.20")),
    (D("10000000"), D("7.20")),
]


@pytest.mark.parametrize(("principal", "factor"), NEW_BANDS)
@pytest.mark.parametrize("on", [date(2025, 12, 31), date(2026, 1, 1)])
def test_salaer_new_table_band_edges(principal, factor, on):
    sats = inkassosats(on)
    assert salaer(principal=principal, on=on, due_date=NEW_DUE) == (factor * sats).quantize(
        D("0.01")
    )


@pytest.mark.parametrize(
    ("principal", "at_700", "at_750"),
    [
        (D("500"), D("175"), D("187.50")),
        (D("1000"), D("245"), D("262.50")),
        (D("2500"), D("280"), D("300")),
        (D("10000"), D("560"), D("600")),
        (D("50000"), D("1120"), D("1200")),
        (D("250000"), D("2520"), D("2700")),
        (D("250000.01"), D("5040"), D("5400")),
    ],
)
def test_salaer_published_amounts(principal, at_700, at_750):
    assert salaer(principal=principal, on=date(2025, 6, 1), due_date=NEW_DUE) == at_700
    assert salaer(principal=principal, on=date(2026, 6, 1), due_date=NEW_DUE) == at_750


@pytest.mark.parametrize(
    ("principal", "at_700", "at_750"),
    [
        (D("1"), D("350"), D("375")),
        (D("2500"), D("350"), D("375")),
        (D("2500.01"), D("700"), D("750")),
        (D("10000"), D("700"), D("750")),
        (D("10000.01"), D("1400"), D("1500")),
        (D("50000"), D("1400"), D("1500")),
        (D("50000.01"), D("2800"), D("3000")),
        (D("250000"), D("2800"), D("3000")),
        (D("250000.01"), D("5600"), D("6000")),
    ],
)
def test_salaer_old_table_for_claims_due_up_to_2020_09_30(principal, at_700, at_750):
    assert salaer(principal=principal, on=date(2025, 6, 1), due_date=OLD_DUE) == at_700
    assert salaer(principal=principal, on=date(2026, 6, 1), due_date=OLD_DUE) == at_750


def test_salaer_regime_switches_on_due_date_2020_10_01():
    on = date(2021, 1, 1)
    assert salaer(principal=D("500"), on=on, due_date=date(2020, 9, 30)) == D("350")
    assert salaer(principal=D("500"), on=on, due_date=date(2020, 10, 1)) == D("175")


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, D("187.50")),
        ({"heavy": True}, D("375.00")),
        ({"business_debtor": True}, D("281.25")),
        ({"creditor_vat_registered": False}, D("234.38")),  # 234.375 → half up
        ({"heavy": True, "business_debtor": True}, D("562.50")),
        ({"heavy": True, "creditor_vat_registered": False}, D("468.75")),
        ({"business_debtor": True, "creditor_vat_registered": False}, D("351.56")),  # 351.5625
        (
            {"heavy": True, "business_debtor": True, "creditor_vat_registered": False},
            D("703.13"),  # 703.125 → half up
        ),
    ],
)
def test_salaer_multipliers_and_rounding(kwargs, expected):
    amount = salaer(principal=D("500"), on=date(2026, 1, 1), due_date=NEW_DUE, **kwargs)
    assert amount == expected
    assert amount.as_tuple().exponent == -2


def test_salaer_multipliers_at_700():
    on = date(2025, 1, 1)
    assert salaer(principal=D("10000"), on=on, due_date=NEW_DUE, heavy=True) == D("1120")
    assert (
        salaer(
            principal=D("500"),
            on=on,
            due_date=NEW_DUE,
            business_debtor=True,
            creditor_vat_registered=False,
        )
        == D("328.13")  # 328.125
    )


def test_salaer_rejects_bad_principal():
    with pytest.raises(ValueError, match="negative"):
        salaer(principal=D("-1"), on=date(2026, 1, 1), due_date=NEW_DUE)
    with pytest.raises(TypeError):
        salaer(principal=100.0, on=date(2026, 1, 1), due_date=NEW_DUE)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="inkassosats"):
        salaer(principal=D("100"), on=date(2016, 1, 1), due_date=date(2015, 1, 1))


# --- forsinkelsesrente ----------------------------------------------------------------------

RATE_BOUNDARIES = [
    # (last day of previous half-year, rate, first day of new half-year, rate)
    (date(2018, 12, 31), "8.50", date(2019, 1, 1), "8.75"),
    (date(2019, 6, 30), "8.75", date(2019, 7, 1), "9.25"),
    (date(2019, 12, 31), "9.25", date(2020, 1, 1), "9.50"),
    (date(2020, 6, 30), "9.50", date(2020, 7, 1), "8.00"),
    (date(2020, 12, 31), "8.00", date(2021, 1, 1), "8.00"),
    (date(2021, 6, 30), "8.00", date(2021, 7, 1), "8.00"),
    (date(2021, 12, 31), "8.00", date(2022, 1, 1), "8.50"),
    (date(2022, 6, 30), "8.50", date(2022, 7, 1), "9.25"),
    (date(2022, 12, 31), "9.25", date(2023, 1, 1), "10.75"),
    (date(2023, 6, 30), "10.75", date(2023, 7, 1), "11.75"),
    (date(2023, 12, 31), "11.75", date(2024, 1, 1), "12.50"),
    (date(2024, 6, 30), "12.50", date(2024, 7, 1), "12.50"),
    (date(2024, 12, 31), "12.50", date(2025, 1, 1), "12.50"),
    (date(2025, 6, 30), "12.50", date(2025, 7, 1), "12.25"),
    (date(2025, 12, 31), "12.25", date(2026, 1, 1), "12.00"),
    (date(2026, 6, 30), "12.00", date(2026, 7, 1), "12.25"),
]


@pytest.mark.parametrize(("before", "old", "after", "new"), RATE_BOUNDARIES)
def test_late_interest_rate_half_year_boundaries(before, old, after, new):
    assert late_interest_rate(before) == D(old)
    assert late_interest_rate(after) == D(new)


@pytest.mark.parametrize(
    "on", [date(2016, 7, 1), date(2017, 1, 1), date(2017, 7, 1), date(2018, 1, 1), date(2018, 7, 1)]
)
def test_late_interest_rate_2016_h2_to_2018_h2(on):
    assert late_interest_rate(on) == D("8.50")


def test_late_interest_rate_examples_and_limits():
    assert late_interest_rate(date(2025, 7, 1)) == D("12.25")
    assert late_interest_rate(date(2026, 12, 31)) == D("12.25")
    with pytest.raises(ValueError, match="forsinkelsesrente: no value before 2016-07-01"):
        late_interest_rate(date(2016, 6, 30))
    assert rules.late_interest_rate_known_until() == date(2026, 12, 31)


def test_late_interest_worked_example():
    exact = late_interest_exact(
        principal=D("10000"), due_date=date(2025, 5, 15), until=date(2025, 9, 10)
    )
    assert (
        exact == Fraction(10000) * (Fraction(1250, 10000) * 46 + Fraction(1225, 10000) * 72) / 365
    )
    assert late_interest(
        principal=D("10000"), due_date=date(2025, 5, 15), until=date(2025, 9, 10)
    ) == D("399.18")


def test_late_interest_until_on_or_before_due_is_zero():
    due = date(2025, 5, 15)
    assert late_interest(principal=D("10000"), due_date=due, until=due) == D("0")
    assert late_interest(principal=D("10000"), due_date=due, until=due - timedelta(days=30)) == 0
    # even before the rate table starts
    assert (
        late_interest(principal=D("10000"), due_date=date(2010, 1, 1), until=date(2009, 1, 1)) == 0
    )


def test_late_interest_first_day_is_the_day_after_due():
    # one day, 2025-07-01, at 12.25 %: 10000 × 0.1225 / 365 = 3.356…
    assert late_interest(
        principal=D("10000"), due_date=date(2025, 6, 30), until=date(2025, 7, 1)
    ) == D("3.36")
    # one day, 2025-06-30, at 12.50 %: 3.424…
    assert late_interest(
        principal=D("10000"), due_date=date(2025, 6, 29), until=date(2025, 6, 30)
    ) == D("3.42")


@pytest.mark.parametrize(
    ("due_date", "until", "expected"),
    [
        # across 31 Dec / 1 Jan: 1 day at 12.25 (2025-12-31) + 1 day at 12.00 (2026-01-01)
        (date(2025, 12, 30), date(2026, 1, 1), D("6.64")),  # (12.25 + 12.00) × 100 / 365 = 6.643…
        # across 30 Jun / 1 Jul 2020: 9.50 → 8.00
        (date(2020, 6, 29), date(2020, 7, 1), D("4.79")),  # (9.50 + 8.00) × 100 / 365 = 4.794…
    ],
)
def test_late_interest_splits_at_boundaries(due_date, until, expected):
    assert late_interest(principal=D("10000"), due_date=due_date, until=until) == expected


def test_late_interest_leap_year_is_still_actual_365():
    # 2024 has 366 days, all at 12.50 %: 10000 × 0.125 × 366 / 365 = 1253.424…
    assert late_interest(
        principal=D("10000"), due_date=date(2023, 12, 31), until=date(2024, 12, 31)
    ) == D("1253.42")
    # 29 February counts as a day: 28 Feb → 1 Mar 2024 is 2 days; 365 × 12.5 % × 2 / 365
    exact = late_interest_exact(
        principal=D("365"), due_date=date(2024, 2, 28), until=date(2024, 3, 1)
    )
    assert exact == Fraction(1, 4)  # kroner, as an exact Fraction
    assert late_interest(
        principal=D("365"), due_date=date(2024, 2, 28), until=date(2024, 3, 1)
    ) == D("0.25")
    # the same dates in a common year are 1 day
    assert late_interest_exact(
        principal=D("365"), due_date=date(2025, 2, 28), until=date(2025, 3, 1)
    ) == Fraction(1, 8)


def test_late_interest_long_period_and_old_rates():
    # 2016-06-30 due, until 2019-01-01: 914 days at 8.50 % and 1 day at 8.75 %
    days = (date(2018, 12, 31) - date(2016, 6, 30)).days
    expected = Fraction(1000) * (Fraction(85, 1000) * days + Fraction(875, 10000)) / 365
    assert (
        late_interest_exact(principal=D("1000"), due_date=date(2016, 6, 30), until=date(2019, 1, 1))
        == expected
    )


def test_late_interest_before_rate_table_raises():
    with pytest.raises(ValueError, match="2016-07-01"):
        late_interest(principal=D("1000"), due_date=date(2016, 6, 1), until=date(2016, 8, 1))


def test_late_interest_rejects_negative_principal():
    with pytest.raises(ValueError, match="negative"):
        late_interest(principal=D("-1"), due_date=date(2025, 1, 1), until=date(2025, 2, 1))


def test_late_interest_after_last_known_half_year_is_unknown_not_guessed():
    assert late_interest_rate(date(2026, 12, 31)) == D("12.25")
    with pytest.raises(rules.RuleUnknown, match="forsinkelsesrente"):
        late_interest_rate(date(2027, 1, 1))
    with pytest.raises(LookupError):
        late_interest(principal=D("1000"), due_date=date(2026, 12, 1), until=date(2027, 1, 4))


def test_tables_ending_are_listed_from_30_days_before():
    assert rules.rule_tables_ending(date(2026, 11, 30)) == []
    assert rules.rule_tables_ending(date(2026, 12, 1)) == [
        ("forsinkelsesrente", date(2026, 12, 31)),
        ("inkassosats", date(2026, 12, 31)),
    ]


def test_letter_fee_is_never_rounded_up():
    # 1/20 and 1/10 of every sats in the table end in whole øre or are cut, never raised
    for sent_on in (date(2025, 6, 1), date(2026, 6, 1)):
        fee = letter_fee(due_date=date(2025, 1, 1), sent_on=sent_on)
        assert fee <= inkassosats(sent_on) / 20


def test_worked_example_payments_lower_the_base_from_the_next_day():
    # reference § 4b: 5 000 due 01.06.2026, IV fee 37.50, 2 000 paid 25.06
    accrued = late_interest(principal=D("5000"), due_date=date(2026, 6, 1), until=date(2026, 6, 25))
    assert accrued == D("39.45")
    principal_paid = D("2000") - D("37.50") - accrued
    assert principal_paid == D("1923.05")
    periods = rules.late_interest_periods(
        principal=D("5000"),
        due_date=date(2026, 6, 1),
        until=date(2026, 7, 10),
        reductions=[(date(2026, 6, 25), principal_paid)],
    )
    assert [(p.first, p.last, p.base, p.rate) for p in periods] == [
        (date(2026, 6, 2), date(2026, 6, 25), D("5000"), D("12.00")),
        (date(2026, 6, 26), date(2026, 6, 30), D("3076.95"), D("12.00")),
        (date(2026, 7, 1), date(2026, 7, 10), D("3076.95"), D("12.25")),
    ]
    # 5 days at 12.00 % and 10 days at 12.25 % on 3 076.95
    assert rules.round_ore(periods[1].exact + periods[2].exact) == D("15.38")


def test_reductions_of_the_case_go_to_the_oldest_invoice_first():
    spread = rules.reductions_by_invoice(
        [("new", date(2026, 3, 1), D("100")), ("old", date(2026, 1, 1), D("50"))],
        [(date(2026, 4, 1), D("80"), None), (date(2026, 4, 2), D("10"), "new")],
    )
    assert spread == {
        "old": [(date(2026, 4, 1), D("50"))],
        "new": [(date(2026, 4, 1), D("30")), (date(2026, 4, 2), D("10"))],
    }


# --- round_ore ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(1, 200), D("0.01")),
        (Fraction(1, 201), D("0.00")),
        (Fraction(-1, 200), D("-0.01")),
        (D("2.345"), D("2.35")),
        (D("2.3449"), D("2.34")),
        (7, D("7.00")),
    ],
)
def test_round_ore_half_up(value, expected):
    assert rules.round_ore(value) == expected


# --- business days and deadlines ------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2026, 4, 1), True),  # Wednesday before Easter
        (date(2026, 4, 2), False),  # Skjærtorsdag
        (date(2026, 4, 3), False),  # Langfredag
        (date(2026, 4, 6), False),  # 2. påskedag
        (date(2026, 4, 7), True),
        (date(2026, 5, 1), False),
        (date(2026, 5, 14), False),  # Kristi himmelfartsdag
        (date(2026, 5, 25), False),  # 2. pinsedag
        (date(2025, 5, 17), False),  # Saturday and Grunnlovsdag
        (date(2027, 5, 17), False),  # Monday and Grunnlovsdag
        (date(2025, 12, 24), False),  # Christmas Eve: no public holiday, but banks are closed
        (date(2025, 12, 31), False),  # New Year's Eve likewise
        (date(2025, 12, 23), True),
        (date(2025, 12, 25), False),
        (date(2025, 12, 26), False),
        (date(2026, 1, 1), False),
        (date(2026, 1, 2), True),
        (date(2026, 1, 3), False),  # Saturday
        (date(2026, 1, 4), False),  # Sunday
        (date(2026, 1, 5), True),
    ],
)
def test_is_banking_day(d, expected):
    assert is_banking_day(d) is expected


@pytest.mark.parametrize(
    ("sent_on", "days", "expected"),
    [
        (date(2026, 1, 5), 14, date(2026, 1, 19)),  # Monday → Monday, same weekday
        (date(2026, 3, 23), 14, date(2026, 4, 7)),  # lands on Easter Monday → Tuesday
        (date(2026, 3, 19), 14, date(2026, 4, 7)),  # lands on Maundy Thursday → past Easter
        (date(2026, 3, 20), 14, date(2026, 4, 7)),  # lands on Good Friday
        (date(2026, 4, 3), 14, date(2026, 4, 17)),  # sent on a holiday, lands on a Friday
        (date(2027, 5, 3), 14, date(2027, 5, 18)),  # lands on 17 May (Monday)
        (date(2026, 5, 3), 14, date(2026, 5, 18)),  # lands on 17 May (Sunday)
        (date(2025, 5, 3), 14, date(2025, 5, 19)),  # lands on 17 May (Saturday)
        (date(2025, 12, 11), 14, date(2025, 12, 29)),  # 25 Dec → 26 Dec, weekend → Monday
        (date(2025, 12, 10), 14, date(2025, 12, 29)),  # Christmas Eve is no banking day
        (date(2026, 12, 10), 14, date(2026, 12, 28)),  # 24.12 (Thu) → past Christmas
        (date(2025, 12, 18), 14, date(2026, 1, 2)),  # 1 Jan → 2 Jan
        (date(2026, 1, 3), 14, date(2026, 1, 19)),  # Saturday → Saturday → Monday
        (date(2026, 1, 4), 14, date(2026, 1, 19)),  # Sunday → Sunday → Monday
        (date(2026, 1, 5), 0, date(2026, 1, 5)),
        (date(2026, 1, 3), 0, date(2026, 1, 5)),
        (date(2026, 1, 5), 28, date(2026, 2, 2)),
    ],
)
def test_deadline(sent_on, days, expected):
    assert deadline(sent_on, days) == expected


def test_deadline_default_is_14_days():
    assert deadline(date(2026, 1, 5)) == date(2026, 1, 19)


def test_deadline_rejects_negative_days():
    with pytest.raises(ValueError):
        deadline(date(2026, 1, 5), -1)


def test_holiday_calendar_is_cached_per_year():
    rules._public_holidays.cache_clear()
    is_banking_day(date(2026, 1, 1))
    is_banking_day(date(2026, 6, 1))
    is_banking_day(date(2027, 1, 1))
    info = rules._public_holidays.cache_info()
    assert info.misses == 2
    assert info.hits == 1


# --- dated deadline constants ---------------------------------------------------------------


def test_deadline_constants():
    on = date(2026, 1, 1)
    assert rules.iv_deadline_days(on) == 14
    assert rules.bo_deadline_days(on) == 14
    assert rules.purring_deadline_days(on) == 14
    assert rules.rettslig_varsel_days(on) == 14
    assert rules.heavy_salaer_threshold_days(on) == 28
    assert rules.new_bo_months(on) == 6
    assert rules.LETTER_FEE_MIN_DAYS_AFTER_DUE.at(on) == 14
    assert rules.LIMITATION_YEARS.at(on) == 3


def test_heavy_salaer_earliest_is_day_43_after_bo():
    bo_sent = date(2026, 1, 5)
    bo_deadline = bo_sent + timedelta(days=14)
    earliest = rules.heavy_salaer_earliest(bo_deadline)
    assert earliest == bo_deadline + timedelta(days=29)
    assert (earliest - bo_sent).days == 43


@pytest.mark.parametrize(
    ("bo_sent", "expected"),
    [
        (date(2026, 1, 15), date(2026, 7, 15)),
        (date(2025, 8, 31), date(2026, 2, 28)),
        (date(2023, 8, 31), date(2024, 2, 29)),
        (date(2026, 7, 31), date(2027, 1, 31)),
    ],
)
def test_new_bo_due(bo_sent, expected):
    assert rules.new_bo_due(bo_sent) == expected


@pytest.mark.parametrize(
    ("d", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 11, 30), 2, date(2027, 1, 30)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 5, 15), 0, date(2026, 5, 15)),
    ],
)
def test_add_months(d, months, expected):
    assert rules.add_months(d, months) == expected


# --- limitation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due_date", "interruption", "expected"),
    [
        (date(2025, 5, 15), None, date(2028, 5, 15)),
        (date(2024, 2, 29), None, date(2027, 2, 28)),
        (date(2025, 5, 15), date(2026, 3, 1), date(2029, 3, 1)),
        (date(2025, 5, 15), date(2025, 5, 15), date(2028, 5, 15)),
    ],
)
def test_limitation_date(due_date, interruption, expected):
    assert limitation_date(due_date, interruption) == expected


def test_limitation_interruption_before_due_is_rejected():
    with pytest.raises(ValueError, match="before the due date"):
        limitation_date(date(2025, 5, 15), date(2025, 5, 14))


# --- KID ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("12345678", "123456782"),
        ("1", "18"),
        ("0", "00"),
        ("7992739871", "79927398713"),  # the classic Luhn example
        ("000000000000000000000001", "0000000000000000000000018"),
    ],
)
def test_kid_mod10(payload, expected):
    kid = kid_mod10(payload)
    assert kid == expected
    assert luhn.is_valid(kid)
    assert kid_is_valid(kid)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("12345678", "123456785"),  # the reference's vector
        ("0000000", "00000000"),  # remainder 0 → "0"
        ("6", "6-"),  # 6 × 2 = 12, 12 % 11 = 1 → "-"
        ("5", "51"),  # 5 × 2 = 10, remainder 10 → 11 − 10 = 1
        ("1", "19"),  # 2 → 11 − 2 = 9
        ("11111111", "111111111"),  # 2+3+4+5+6+7+2+3 = 32, 32 % 11 = 10 → 1
        ("100000", "1000004"),  # 6th digit from the right has weight 7: 11 − 7 = 4
        ("1000000", "10000009"),  # 7th digit from the right: weights repeat, 2 → 9
    ],
)
def test_kid_mod11(payload, expected):
    assert kid_mod11(payload) == expected


@pytest.mark.parametrize(
    "payload", ["", "1" * 25, "12a4", " 123", "123 ", "12-3", "١٢٣", "+123", "1.5"]
)
@pytest.mark.parametrize("func", [kid_mod10, kid_mod11])
def test_kid_rejects_bad_payload(func, payload):
    with pytest.raises(ValueError):
        func(payload)


def test_kid_length_limits():
    assert len(kid_mod10("1" * 24)) == 25
    assert len(kid_mod11("1" * 24)) == 25
    assert len(kid_mod10("1")) == 2


def test_kid_rejects_non_string():
    with pytest.raises(ValueError):
        kid_mod10(12345678)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kid", "valid"),
    [
        ("123456782", True),
        ("123456785", True),
        ("123456783", False),
        ("6-", True),
        ("5-", False),
        ("1", False),
        ("1" * 26, False),
        ("12a45", False),
        ("-", False),
        ("", False),
    ],
)
def test_kid_is_valid(kid, valid):
    assert kid_is_valid(kid) is valid
