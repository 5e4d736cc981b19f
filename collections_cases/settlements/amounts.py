"""A settlement's arithmetic, pure (no database): one case's amounts from what its payments
were split into, and a case's principal spread over its invoices. The rules are in
``collections_cases.settlements.services``' docstring and docs/settlements.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from collections_cases import rules

ZERO = Decimal("0.00")
#: Merverdiavgiftsloven § 5-1: the general rate, on the agency's fee to the creditor.
VAT_PERCENT = Decimal("25.00")


@dataclass
class CaseAmounts:
    principal: Decimal = ZERO
    interest: Decimal = ZERO
    fees: Decimal = ZERO
    salaer: Decimal = ZERO
    days_overdue: int = 0
    allocations: list = field(default_factory=list)

    @property
    def collected(self) -> Decimal:
        return self.principal + self.interest + self.fees + self.salaer


def line_amounts(
    amounts: CaseAmounts,
    *,
    interest_to_creditor: bool,
    vat_registered: bool,
    commission_percent: Decimal,
    commission_min_days: int,
) -> dict[str, Decimal]:
    """One case's settlement amounts (see the services module's docstring)."""
    interest_out = amounts.interest if interest_to_creditor else ZERO
    commission = ZERO
    if commission_percent > 0 and amounts.days_overdue > commission_min_days:
        commission = rules.round_ore(amounts.principal * commission_percent / 100)
    vat = ZERO
    if vat_registered:
        vat = rules.round_ore((amounts.salaer + commission) * VAT_PERCENT / 100)
    return {
        "collected": amounts.collected,
        "principal": amounts.principal,
        "interest": amounts.interest,
        "fees": amounts.fees,
        "salaer": amounts.salaer,
        "interest_to_creditor": interest_out,
        "commission": commission,
        "vat": vat,
        "payout": amounts.principal + interest_out - commission - vat,
    }


MONEY_FIELDS = (
    "collected",
    "principal",
    "interest",
    "fees",
    "salaer",
    "interest_to_creditor",
    "commission",
    "vat",
    "payout",
)


def split_over_invoices(
    principal: Decimal, open_by_invoice: list[tuple[int, Decimal]]
) -> list[tuple[int, Decimal]]:
    """Spread a case's settled principal over its invoices, oldest due first, each up to what
    is still open on it (``open_by_invoice`` in that order). What no invoice can take is left
    out: the posting lines credit it to receivables without an invoice number."""
    parts, rest = [], principal
    for invoice_id, still_open in open_by_invoice:
        if rest <= 0:
            break
        take = min(rest, max(still_open, ZERO))
        if take > 0:
            parts.append((invoice_id, take))
            rest -= take
    return parts
