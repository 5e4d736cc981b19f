"""The creditor's bookkeeping for a settlement, by account *number* (the creditor's mapping).

``posting_lines`` is pure: it reads the settlement, its lines and invoice parts and returns the
lines the creditor books. The PowerOffice push (``integrations.services.vouchers``) resolves
the numbers to PoGo ids; with bookkeeping mode *none* the statement prints these lines for the
creditor to post by hand. Debits always equal credits:

    payout + commission + vat  (debits)  =  principal + interest_to_creditor  (credits)

because ``payout = principal + interest_to_creditor - commission - vat`` (less deducted
claims, each of which posts its own reversing lines: see ``posting_lines``).
"""

from __future__ import annotations

from decimal import Decimal

DEBIT = "debit"
CREDIT = "credit"


def _line(side, account_field, account_no, amount, description, **extra) -> dict:
    return {
        "side": side,
        "account": account_field,
        "account_no": account_no,
        "amount": str(Decimal(amount).quantize(Decimal("0.01"))),
        "description": description[:200],
        **extra,
    }


def posting_lines(settlement, *, mapping: dict[str, int], parts, claims=()) -> list[dict]:
    """The posting lines for ``settlement``.

    ``mapping``: the creditor's account numbers (``Creditor.account_mapping``). ``parts``:
    ``[(invoice_no, debtor_id, debtor_name, case_number, amount)]`` — the principal per
    invoice, each credited to the customer's sub-ledger with its ``invoice_no`` so the open
    item is matched. ``claims``: ``[(case_number, principal, interest_to_creditor,
    commission, vat)]`` — payments the bank reversed after an earlier settlement paid them
    out, deducted from this payout: each reverses that settlement's postings (the principal
    is owed again by the customer, the interest income, commission and input VAT are undone),
    so debits still equal credits with the smaller payout.
    """
    number = settlement.number
    lines = [
        _line(
            DEBIT,
            "account_bank",
            mapping["account_bank"],
            settlement.payout,
            f"Oppgjør {number} fra inkassobyrået",
        )
    ]
    credited = Decimal("0.00")
    for invoice_no, debtor_id, debtor_name, case_number, amount in parts:
        credited += amount
        lines.append(
            _line(
                CREDIT,
                "account_receivables",
                mapping["account_receivables"],
                amount,
                f"Faktura {invoice_no}, {debtor_name}, sak {case_number}",
                invoice_no=str(invoice_no),
                debtor_id=debtor_id,
            )
        )
    rest = settlement.principal - credited
    if rest:
        # Principal not tied to an invoice (a case registered without one): still a receivable.
        lines.append(
            _line(
                CREDIT,
                "account_receivables",
                mapping["account_receivables"],
                rest,
                f"Innkrevd hovedstol, oppgjør {number}",
            )
        )
    if settlement.interest_to_creditor:
        lines.append(
            _line(
                CREDIT,
                "account_interest_income",
                mapping["account_interest_income"],
                settlement.interest_to_creditor,
                f"Forsinkelsesrenter, oppgjør {number}",
            )
        )
    if settlement.commission:
        lines.append(
            _line(
                DEBIT,
                "account_collection_cost",
                mapping["account_collection_cost"],
                settlement.commission,
                f"Suksessprovisjon, oppgjør {number}",
            )
        )
    if settlement.vat:
        lines.append(
            _line(
                DEBIT,
                "account_input_vat",
                mapping["account_input_vat"],
                settlement.vat,
                f"Inngående mva. på byråets honorar, oppgjør {number}",
            )
        )
    for case_number, principal, interest_out, commission, vat in claims:
        text = f"Tilbakeført innbetaling, sak {case_number}, trukket i oppgjør {number}"
        if principal:
            lines.append(
                _line(DEBIT, "account_receivables", mapping["account_receivables"], principal, text)
            )
        if interest_out:
            lines.append(
                _line(
                    DEBIT,
                    "account_interest_income",
                    mapping["account_interest_income"],
                    interest_out,
                    text,
                )
            )
        if commission:
            lines.append(
                _line(
                    CREDIT,
                    "account_collection_cost",
                    mapping["account_collection_cost"],
                    commission,
                    text,
                )
            )
        if vat:
            lines.append(
                _line(CREDIT, "account_input_vat", mapping["account_input_vat"], vat, text)
            )
    return lines


def lines_balance(lines: list[dict]) -> tuple[Decimal, Decimal]:
    """``(debits, credits)`` of posting lines."""
    debits = sum((Decimal(x["amount"]) for x in lines if x["side"] == DEBIT), Decimal("0.00"))
    credits = sum((Decimal(x["amount"]) for x in lines if x["side"] == CREDIT), Decimal("0.00"))
    return debits, credits
