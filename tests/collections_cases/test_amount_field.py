"""The kroner field of the case actions: Norwegian and computer notation, øre, and amounts too
large for a money column refused as a form error (hypothesis found "1E30" giving a 500)."""

from decimal import Decimal

import pytest
from django import forms

from collections_cases.cases.forms import NokAmountField


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1 234,50", Decimal("1234.50")),
        ("1.234,50", Decimal("1234.50")),
        ("1234.5", Decimal("1234.50")),
        ("kr 10", Decimal("10.00")),
        ("999999999999,99", Decimal("999999999999.99")),  # the largest a column holds
    ],
)
def test_amounts_are_read_to_the_ore(text, amount):
    assert NokAmountField().clean(text) == amount


@pytest.mark.parametrize("text", ["1E30", "1000000000000", "-1E12", "1e400"])
def test_an_amount_too_large_for_a_money_column_is_a_form_error(text):
    with pytest.raises(forms.ValidationError) as error:
        NokAmountField().clean(text)
    assert error.value.code == "too_large"


@pytest.mark.parametrize(("text", "code"), [("abc", "invalid"), ("1,234", "decimals")])
def test_other_bad_amounts_say_what_is_wrong(text, code):
    with pytest.raises(forms.ValidationError) as error:
        NokAmountField().clean(text)
    assert error.value.code == code
