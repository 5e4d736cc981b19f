"""Write a camt.054 credit notification — what the bank sends when debtors pay the agency's
client account. Used by ``demo_payment_file`` (demos, benchmarks): the file goes through the
same import as a real bank file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from xml.etree import ElementTree as ET

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"


def _sub(parent, tag, text=None, **attrs):
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = str(text)
    return element


def camt054_credit_notification(
    payments: Iterable[tuple[str, Decimal, str]],
    *,
    account: str,
    booked_on: dt.date,
    message_id: str,
) -> bytes:
    """``payments``: ``(kid, amount, payer name)``; one entry and transaction each, with a
    unique bank reference ``<message_id>-<n>``."""
    ET.register_namespace("", NAMESPACE)
    root = ET.Element(f"{{{NAMESPACE}}}Document")
    body = _sub(root, "BkToCstmrDbtCdtNtfctn")
    header = _sub(body, "GrpHdr")
    _sub(header, "MsgId", message_id)
    _sub(header, "CreDtTm", f"{booked_on.isoformat()}T06:00:00")
    notification = _sub(body, "Ntfctn")
    _sub(notification, "Id", message_id)
    _sub(notification, "CreDtTm", f"{booked_on.isoformat()}T06:00:00")
    _sub(_sub(_sub(notification, "Acct"), "Id"), "BBAN", account)
    for number, (kid, amount, payer) in enumerate(payments, start=1):
        reference = f"{message_id}-{number}"
        entry = _sub(notification, "Ntry")
        _sub(entry, "NtryRef", reference)
        _sub(entry, "Amt", f"{Decimal(amount):.2f}", Ccy="NOK")
        _sub(entry, "CdtDbtInd", "CRDT")
        _sub(_sub(entry, "Sts"), "Cd", "BOOK")
        _sub(_sub(entry, "BookgDt"), "Dt", booked_on.isoformat())
        _sub(_sub(entry, "ValDt"), "Dt", booked_on.isoformat())
        _sub(entry, "AcctSvcrRef", reference)
        details = _sub(_sub(entry, "NtryDtls"), "TxDtls")
        _sub(_sub(details, "Refs"), "AcctSvcrRef", reference)
        _sub(details, "Amt", f"{Decimal(amount):.2f}", Ccy="NOK")
        _sub(details, "CdtDbtInd", "CRDT")
        _sub(_sub(_sub(details, "RltdPties"), "Dbtr"), "Nm", payer[:140])
        creditor_reference = _sub(_sub(_sub(details, "RmtInf"), "Strd"), "CdtrRefInf")
        _sub(_sub(_sub(creditor_reference, "Tp"), "CdOrPrtry"), "Cd", "SCOR")
        _sub(creditor_reference, "Ref", kid)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
