"""Money helpers: amounts are ``Decimal`` NOK, rounded half up to øre."""

from decimal import ROUND_HALF_UP, Decimal

ORE = Decimal("0.01")
NBSP = "\u00a0"
MONEY_MAX_DIGITS = 14
MONEY_DECIMAL_PLACES = 2


def to_ore(value: Decimal | int | str) -> Decimal:
    """Round to øre, half up (the Norwegian convention)."""
    return Decimal(value).quantize(ORE, rounding=ROUND_HALF_UP)


def format_nok(value, language: str = "nb") -> str:
    """``kr 1 234,50`` in Norwegian, ``NOK 1,234.50`` in English; negative keeps its sign."""
    if value is None or value == "":
        return ""
    amount = to_ore(Decimal(value))
    sign = "-" if amount < 0 else ""
    whole, _, fraction = f"{abs(amount):,.2f}".partition(".")
    if language.startswith("en"):
        return f"{sign}NOK {whole}.{fraction}"
    # Norwegian groups thousands with a (non-breaking) space and uses a decimal comma.
    grouped = whole.replace(",", NBSP)
    return f"{sign}kr {grouped},{fraction}"
