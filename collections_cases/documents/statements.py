"""Other documents: the payment plan confirmation to the debtor and the settlement statement
to the creditor (templates ``letters/payment_plan.html`` and ``letters/settlement_statement.html``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from collections_cases.documents import formatting as fmt
from collections_cases.documents.rendering import html_to_pdf
from collections_cases.models import CollectionCase
from collections_cases.selectors import case_amounts

#: The money columns of a settlement statement, in order (``lines`` and ``totals`` keys).
SETTLEMENT_COLUMNS = (
    ("principal", "Hovedstol innbetalt"),
    ("interest", "Renter"),
    ("fees", "Gebyrer og salær"),
    ("paid_out", "Utbetalt til deg"),
    ("agency_fee", "Vårt honorar"),
    ("vat", "Mva. på honorar"),
)


def document_payment_plan_pdf(
    *,
    case: CollectionCase,
    instalments: list[tuple[date, Decimal]],
    agreed_on: date,
) -> bytes:
    """Confirmation of an agreed payment plan: each instalment's date and amount, the total,
    where to pay (account, KID) and that escalation resumes if an instalment is missed."""
    rows = []
    total = Decimal("0.00")
    for number, (due, value) in enumerate(instalments, start=1):
        value = Decimal(value)
        total += value
        rows.append({"number": number, "date": fmt.day(due), "amount": fmt.amount(value)})
    balance = case_amounts(case)["balance"]
    context = {
        "case": case,
        "debtor": case.debtor,
        "creditor": case.creditor,
        "agency": fmt.agency(),
        "agreed_on": fmt.day(agreed_on),
        "sent_on": fmt.day(agreed_on),
        "instalments": rows,
        "total": fmt.amount(total),
        "balance": fmt.amount(balance),
        "first_date": rows[0]["date"] if rows else "",
        "kid": case.kid,
        "min_side_url": fmt.min_side_url(),
        "title": "Bekreftelse på nedbetalingsavtale",
    }
    return html_to_pdf("letters/payment_plan.html", context)


def _money_cells(row: Mapping) -> list[str]:
    return [fmt.amount(row.get(key) or 0) for key, _label in SETTLEMENT_COLUMNS]


def document_settlement_statement_pdf(
    *,
    creditor,
    period_start: date,
    period_end: date,
    lines: Iterable[Mapping],
    totals: Mapping,
) -> bytes:
    """A creditor's settlement statement (oppgjørsoppstilling) for a period.

    ``lines``: one mapping per case with ``case_number``, ``debtor_name`` and the money keys of
    :data:`SETTLEMENT_COLUMNS` (missing ones print as 0,00). ``totals``: the same money keys,
    plus optional ``payout_date`` (a date) and ``account_number`` (where it was paid).
    """
    rows = [
        {
            "case_number": line.get("case_number", ""),
            "debtor_name": line.get("debtor_name", ""),
            "cells": _money_cells(line),
        }
        for line in lines
    ]
    context = {
        "creditor": creditor,
        "agency": fmt.agency(),
        "period_start": fmt.day(period_start),
        "period_end": fmt.day(period_end),
        "sent_on": fmt.day(totals.get("payout_date") or period_end),
        "payout_date": fmt.day(totals.get("payout_date")),
        "account_number": fmt.account_number(
            totals.get("account_number") or creditor.bank_account or ""
        ),
        "columns": [label for _key, label in SETTLEMENT_COLUMNS],
        "rows": rows,
        "totals": _money_cells(totals),
        "title": "Oppgjørsoppstilling",
    }
    return html_to_pdf("letters/settlement_statement.html", context)
