import pytest
from django.core.exceptions import ValidationError

from creditors.validators import validate_bank_account, validate_org_number


@pytest.mark.parametrize("value", ["923609016", "974760673", "988077917"])
def test_valid_org_numbers(value):
    validate_org_number(value)


@pytest.mark.parametrize("value", ["923609017", "988077918", "12345678", "abcdefghi", ""])
def test_invalid_org_numbers(value):
    with pytest.raises(ValidationError):
        validate_org_number(value)


def test_valid_bank_account():
    validate_bank_account("86011117947")


@pytest.mark.parametrize("value", ["86011117948", "8601111794", "abc"])
def test_invalid_bank_accounts(value):
    with pytest.raises(ValidationError):
        validate_bank_account(value)
