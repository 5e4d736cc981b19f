"""Hypothesis properties for collections_cases.rules."""

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn

from collections_cases.rules import (
    deadline,
    inkassosats,
    is_banking_day,
    kid_is_valid,
    kid_mod10,
    kid_mod11,
    late_interest,
    late_interest_exact,
    late_interest_periods,
    late_interest_rate,
    letter_fee,
    salaer,
)

# Modest example counts (the whole directory must run in a few seconds); no per-example
# deadline, since other work may share the machine.
fast = settings(max_examples=60, deadline=None)

# Up to the end of the tables: later days raise RuleUnknown (tested in test_rules.py).
dates = st.dates(min_value=date(2016, 7, 1), max_value=date(2026, 12, 31))
sats_dates = st.dates(min_value=date(2017, 1, 1), max_value=date(2026, 12, 31))
amounts = st.decimals(
    min_value=Decimal("0"), max_value=Decimal("10000000"), places=2, allow_nan=False
)
payloads = st.text(alphabet="0123456789", min_size=1, max_size=24)


def ordered(n):
    return st.lists(dates, min_size=n, max_size=n).map(sorted)


@fast
@given(principal=amounts, bounds=ordered(3))
def test_interest_monotone_in_until(principal, bounds):
    due, b, c = bounds
    assert late_interest_exact(principal=principal, due_date=due, until=b) <= late_interest_exact(
        principal=principal, due_date=due, until=c
    )
    assert late_interest(principal=principal, due_date=due, until=b) <= late_interest(
        principal=principal, due_date=due, until=c
    )


@fast
@given(p1=amounts, p2=amounts, bounds=ordered(2))
def test_interest_monotone_in_principal(p1, p2, bounds):
    low, high = sorted((p1, p2))
    due, until = bounds
    assert late_interest(principal=low, due_date=due, until=until) <= late_interest(
        principal=high, due_date=due, until=until
    )


@fast
@given(principal=amounts, bounds=ordered(3))
def test_interest_splits_exactly(principal, bounds):
    a, b, c = bounds
    whole = late_interest_exact(principal=principal, due_date=a, until=c)
    first = late_interest_exact(principal=principal, due_date=a, until=b)
    second = late_interest_exact(principal=principal, due_date=b, until=c)
    assert whole == first + second


@fast
@given(principal=amounts, bounds=ordered(3))
def test_rounded_total_within_one_ore_of_rounded_parts(principal, bounds):
    a, b, c = bounds
    whole = late_interest(principal=principal, due_date=a, until=c)
    parts = late_interest(principal=principal, due_date=a, until=b) + late_interest(
        principal=principal, due_date=b, until=c
    )
    assert abs(whole - parts) <= Decimal("0.01")


@fast
@given(principal=amounts, bounds=ordered(2))
def test_interest_is_linear_in_principal(principal, bounds):
    due, until = bounds
    one = late_interest_exact(principal=Decimal(1), due_date=due, until=until)
    assert late_interest_exact(principal=principal, due_date=due, until=until) == one * Fraction(
        principal
    )


@fast
@given(
    p1=amounts,
    p2=amounts,
    on=sats_dates,
    due=dates,
    heavy=st.booleans(),
    business=st.booleans(),
    vat=st.booleans(),
)
def test_salaer_monotone_in_principal(p1, p2, on, due, heavy, business, vat):
    low, high = sorted((p1, p2))
    kwargs = {
        "on": on,
        "due_date": due,
        "heavy": heavy,
        "business_debtor": business,
        "creditor_vat_registered": vat,
    }
    small = salaer(principal=low, **kwargs)
    big = salaer(principal=high, **kwargs)
    assert Decimal(0) < small <= big
    assert small.as_tuple().exponent == -2


@fast
@given(principal=amounts, on=sats_dates, due=dates)
def test_salaer_multipliers_never_lower_the_cap(principal, on, due):
    base = salaer(principal=principal, on=on, due_date=due)
    for flag in ({"heavy": True}, {"business_debtor": True}, {"creditor_vat_registered": False}):
        assert salaer(principal=principal, on=on, due_date=due, **flag) > base


@fast
@given(due=dates, sent_on=sats_dates)
def test_letter_fee_zero_before_14_days_and_positive_after(due, sent_on):
    fee = letter_fee(due_date=due, sent_on=sent_on)
    if sent_on < due + timedelta(days=14):
        assert fee == 0
    else:
        assert fee > 0
        # a cap: never above the fraction of the sats (1/10 for claims due before 2020-10-01)
        assert fee <= inkassosats(sent_on) / (10 if due < date(2020, 10, 1) else 20)


@fast
@given(
    sent_on=st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31)),
    days=st.integers(0, 120),
)
def test_deadline_is_first_business_day_on_or_after_sent_plus_days(sent_on, days):
    result = deadline(sent_on, days)
    earliest = sent_on + timedelta(days=days)
    assert result >= earliest
    assert is_banking_day(result)
    d = earliest
    while d < result:  # no business day was skipped
        assert not is_banking_day(d)
        d += timedelta(days=1)
    assert (result - earliest).days <= 6


@fast
@given(payload=payloads)
def test_kid_mod10_always_passes_luhn(payload):
    kid = kid_mod10(payload)
    assert kid.startswith(payload)
    assert len(kid) == len(payload) + 1
    assert luhn.is_valid(kid)
    assert kid_is_valid(kid)


@fast
@given(payload=payloads)
def test_kid_mod11_check_character(payload):
    kid = kid_mod11(payload)
    assert kid.startswith(payload)
    assert len(kid) == len(payload) + 1
    assert kid[-1] in "0123456789-"
    assert kid_is_valid(kid)
    if kid[-1] != "-":
        weights = [2 + i % 6 for i in range(len(kid) - 1)]
        total = sum(int(c) * w for c, w in zip(reversed(payload), weights, strict=True))
        assert (total + int(kid[-1])) % 11 == 0


@fast
@given(payload=payloads, position=st.integers(min_value=0), digit=st.sampled_from("0123456789"))
def test_kid_mod10_detects_single_digit_errors(payload, position, digit):
    kid = kid_mod10(payload)
    i = position % len(kid)
    if kid[i] == digit:
        return
    corrupted = kid[:i] + digit + kid[i + 1 :]
    assert not luhn.is_valid(corrupted)


@settings(max_examples=40, deadline=None)
@given(principal=amounts, due=dates, length=st.integers(min_value=-5, max_value=400))
def test_interest_matches_day_by_day_definition(principal, due, length):
    until = min(due + timedelta(days=length), date(2026, 12, 31))
    expected = Fraction(0)
    d = due + timedelta(days=1)
    while d <= until:
        expected += Fraction(principal) * Fraction(late_interest_rate(d)) / (100 * 365)
        d += timedelta(days=1)
    assert late_interest_exact(principal=principal, due_date=due, until=until) == expected


@settings(max_examples=60, deadline=None)
@given(
    principal=amounts,
    due=st.dates(min_value=date(2016, 7, 1), max_value=date(2026, 6, 30)),
    length=st.integers(min_value=0, max_value=180),
    cuts=st.lists(
        st.tuples(
            st.integers(min_value=-10, max_value=200),
            st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2),
        ),
        max_size=5,
    ),
)
def test_interest_runs_only_on_the_principal_still_outstanding(principal, due, length, cuts):
    """Day by day: a reduction on day p lowers the base from p + 1, never below 0."""
    until = due + timedelta(days=length)
    reductions = [(due + timedelta(days=offset), amount) for offset, amount in cuts]
    expected = Fraction(0)
    d = due + timedelta(days=1)
    while d <= until:
        base = principal - sum((a for day, a in reductions if day < d), start=Decimal(0))
        if base > 0:
            expected += Fraction(base) * Fraction(late_interest_rate(d)) / (100 * 365)
        d += timedelta(days=1)
    periods = late_interest_periods(
        principal=principal, due_date=due, until=until, reductions=reductions
    )
    assert sum((p.exact for p in periods), start=Fraction(0)) == expected
    assert all(p.base > 0 and p.base <= principal for p in periods)
