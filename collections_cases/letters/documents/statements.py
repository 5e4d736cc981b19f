"""Other documents: the payment plan confirmation to the debtor and the settlement statement
to the creditor (templates ``letters/payment_plan.html`` and ``letters/settlement_statement.html``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from collections_cases.cases.selectors import case_amounts
from collections_cases.letters.documents import formatting as fmt
from collections_cases.letters.documents.rendering import html_to_pdf
from collections_cases.models import CollectionCase


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


#: The money columns of a settlement statement, per case and in the sum row.
SETTLEMENT_COLUMNS = (
    ("collected", "Innbetalt"),
    ("principal", "Hovedstol"),
    ("interest", "Renter"),
    ("costs", "Gebyr og salær"),
    ("commission", "Provisjon"),
    ("vat", "Mva."),
    ("payout", "Til deg"),
)

BOOKKEEPING_TEXT = {
    "unposted": "Bilagsforslaget i bilagsmottaket i PowerOffice Go har disse linjene:",
    "posted": "Bilaget er bokført direkte i PowerOffice Go med disse linjene:",
    "none": "Vi fører ikke oppgjøret for deg. Før disse linjene i regnskapet:",
}


def _cells(row, *, payout=None) -> list[str]:
    values = {
        "collected": row.collected,
        "principal": row.principal,
        "interest": row.interest,
        "costs": row.fees + row.salaer,
        "commission": row.commission,
        "vat": row.vat,
        "payout": row.payout if payout is None else payout,
    }
    return [fmt.amount(values[key]) for key, _label in SETTLEMENT_COLUMNS]


def seller_org_number(org_number: str) -> str:
    """The agency's org number as a VAT-registered seller writes it on a sales document
    (bokføringsforskriften § 5-1-1 nr. 2: the letters «MVA» after the number): ``999 123 457
    MVA``. The statement is the creditor's VAT basis for the agency's fee."""
    digits = "".join(ch for ch in str(org_number) if ch.isdigit())
    grouped = f"{digits[:3]} {digits[3:6]} {digits[6:]}" if len(digits) == 9 else org_number
    return f"{grouped} MVA"


def _fee_and_vat(settlement) -> dict | None:
    """The agency's fee the VAT is charged on (salær and commission, each its own line), the
    VAT and the sum, for the sales-document part of the statement; None without VAT."""
    if not settlement.vat:
        return None
    base = settlement.salaer + settlement.commission
    return {
        "salaer": fmt.amount(settlement.salaer) if settlement.salaer else "",
        "commission": fmt.amount(settlement.commission) if settlement.commission else "",
        "commission_percent": fmt.percent(settlement.commission_percent),
        "base": fmt.amount(base),
        "vat_percent": fmt.percent(settlement.vat_percent),
        "vat": fmt.amount(settlement.vat),
        "total": fmt.amount(base + settlement.vat),
    }


def document_settlement_pdf(*, settlement) -> bytes:
    """The creditor's settlement statement (oppgjørsoppstilling, inkassoloven §§ 15–16): each
    case's collected amounts and the creditor's share, the deductions, where the payout goes,
    and the posting lines for the creditor's books."""
    lines = list(settlement.lines.select_related("case__debtor").order_by("case__number"))
    rows = [
        {
            "case_number": line.case.number,
            "debtor_name": line.case.debtor.name,
            "cells": _cells(line),
        }
        for line in lines
    ]
    postings = [
        {
            "account_no": posting["account_no"],
            "description": posting["description"],
            "debit": fmt.amount(posting["amount"]) if posting["side"] == "debit" else "",
            "credit": fmt.amount(posting["amount"]) if posting["side"] == "credit" else "",
        }
        for posting in settlement.voucher_lines
    ]
    interest_kept = settlement.interest - settlement.interest_to_creditor
    # Payments the bank reversed after an earlier payout: deducted here (docs/payments.md).
    claims = [
        {
            "case_number": claim.case.number,
            "debtor_name": claim.case.debtor.name,
            "paid_out_in": claim.settled_in.settlement.number,
            "amount": fmt.amount(claim.amount),
        }
        for claim in settlement.deducted_claims.select_related(
            "case__debtor", "settled_in__settlement"
        ).order_by("case__number", "pk")
    ]
    agency = fmt.agency()
    agency["org_number"] = seller_org_number(agency["org_number"])
    context = {
        "creditor": settlement.creditor,
        "agency": agency,
        "settlement": settlement,
        "number": settlement.number,
        "period_start": fmt.day(settlement.period_start),
        "period_end": fmt.day(settlement.period_end),
        "sent_on": fmt.day(settlement.settled_on),
        "account_number": fmt.account_number(settlement.payout_account or ""),
        "columns": [label for _key, label in SETTLEMENT_COLUMNS],
        "rows": rows,
        # The lines' sum (before the claims deducted below the table).
        "totals": _cells(settlement, payout=settlement.payout + settlement.claims),
        "claims": claims,
        "fee_and_vat": _fee_and_vat(settlement),
        "summary": {
            "collected": fmt.amount(settlement.collected),
            "fees": fmt.amount(settlement.fees),
            "salaer": fmt.amount(settlement.salaer),
            "interest_kept": fmt.amount(interest_kept) if interest_kept else "",
            "commission": fmt.amount(settlement.commission) if settlement.commission else "",
            "commission_percent": fmt.percent(settlement.commission_percent),
            "vat": fmt.amount(settlement.vat) if settlement.vat else "",
            "vat_percent": fmt.percent(settlement.vat_percent),
            "claims": fmt.amount(settlement.claims) if settlement.claims else "",
            "payout": fmt.amount(settlement.payout),
        },
        "postings": postings,
        "bookkeeping_text": BOOKKEEPING_TEXT.get(settlement.bookkeeping_mode, ""),
        "title": "Oppgjørsoppstilling",
    }
    return html_to_pdf("letters/settlement_statement.html", context)
