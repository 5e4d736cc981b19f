from decimal import Decimal

import pytest

from kravia_web.crypto import decrypt, encrypt
from kravia_web.money import format_nok, to_ore


@pytest.mark.parametrize(
    ("value", "nb", "en"),
    [
        (Decimal("1234.5"), "kr 1\u00a0234,50", "NOK 1,234.50"),
        (Decimal("0"), "kr 0,00", "NOK 0.00"),
        (Decimal("-35"), "-kr 35,00", "-NOK 35.00"),
        (Decimal("1234567.005"), "kr 1\u00a0234\u00a0567,01", "NOK 1,234,567.01"),
    ],
)
def test_amounts_are_formatted_the_norwegian_way(value, nb, en):
    assert format_nok(value, "nb") == nb
    assert format_nok(value, "en") == en


def test_rounding_is_half_up_to_ore():
    assert to_ore(Decimal("0.005")) == Decimal("0.01")
    assert to_ore(Decimal("2.675")) == Decimal("2.68")


def test_encrypt_round_trip_and_ciphertext_differs():
    token = encrypt("client-key-123")

    assert token != "client-key-123"
    assert "client-key-123" not in token
    assert decrypt(token) == "client-key-123"


def test_key_rotation_keeps_old_secrets_readable(settings):
    from cryptography.fernet import Fernet

    old_key = settings.FIELD_ENCRYPTION_KEY
    token = encrypt("secret")
    settings.FIELD_ENCRYPTION_KEY = f"{Fernet.generate_key().decode()},{old_key}"

    assert decrypt(token) == "secret"
    assert decrypt(encrypt("new")) == "new"


def test_the_template_filter_renders_in_the_active_language():
    from django.template import Context, Template
    from django.utils import translation

    template = Template("{% load money %}{{ amount|nok }}")
    with translation.override("nb"):
        assert template.render(Context({"amount": Decimal("1500")})) == "kr 1\u00a0500,00"
    with translation.override("en"):
        assert template.render(Context({"amount": Decimal("1500")})) == "NOK 1,500.00"
