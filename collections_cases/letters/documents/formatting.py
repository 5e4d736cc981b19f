"""How letters print numbers and dates: ``1 234,50``, ``14.12.2026``, ``1503 61 23459``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings

from kravia_web.money import NBSP, to_ore


def amount(value) -> str:
    """``1 234,50`` (thousands grouped with a non-breaking space, decimal comma)."""
    value = to_ore(Decimal(value or 0))
    sign = "-" if value < 0 else ""
    whole, _, fraction = f"{abs(value):,.2f}".partition(".")
    return f"{sign}{whole.replace(',', NBSP)},{fraction}"


def day(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def percent(value) -> str:
    """``12,00`` for 12 % p.a."""
    return f"{Decimal(value or 0):.2f}".replace(".", ",")


def account_number(value: str) -> str:
    """A Norwegian kontonummer grouped the usual way: ``1503 61 23459``."""
    digits = "".join(ch for ch in str(value) if ch.isdigit())
    if len(digits) != 11:
        return str(value)
    return f"{digits[:4]}{NBSP}{digits[4:6]}{NBSP}{digits[6:]}"


def agency() -> dict[str, str]:
    """The agency's letterhead details (settings ``AGENCY_*``)."""
    return {
        "name": settings.AGENCY_NAME,
        "org_number": settings.AGENCY_ORG_NUMBER,
        "account_number": settings.AGENCY_ACCOUNT_NUMBER,
        "account_number_display": account_number(settings.AGENCY_ACCOUNT_NUMBER),
        "address": settings.AGENCY_ADDRESS,
        "email": settings.AGENCY_EMAIL,
        "phone": settings.AGENCY_PHONE,
    }


def min_side_url() -> str:
    return f"{settings.SITE_URL.rstrip('/')}/min-side/"
