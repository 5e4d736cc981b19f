"""Payout instructions: an ISO 20022 **pain.001.001.03** credit transfer file for the agency's
bank, paying settlements from the client account to each creditor's account.

One payment per settlement; ``EndToEndId`` is the settlement number, the creditor sees
«Oppgjør O-2026-000123» as the message. Accounts are Norwegian 11-digit account numbers,
sent as IBAN (``stdnum.no.kontonr.to_iban``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from xml.etree import ElementTree as ET

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.no import kontonr

from kravia_web.errors import ApplicationError

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"


def _sub(parent, tag, text=None, **attrs):
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = str(text)
    return element


def _iban(account: str, what: str) -> str:
    try:
        return kontonr.to_iban(kontonr.validate(account))
    except Exception as exc:
        raise ApplicationError(
            _("Ugyldig kontonummer for %(what)s: «%(account)s».")
            % {"what": what, "account": account}
        ) from exc


def payout_instruction_xml(settlements, *, execute_on: dt.date | None = None) -> bytes:
    """pain.001 for ``settlements`` (each must have a payout account and be pending)."""
    settlements = list(settlements)
    if not settlements:
        raise ApplicationError(_("Velg minst ett oppgjør som skal utbetales."))
    problems = [s.number for s in settlements if not s.payout_account]
    if problems:
        raise ApplicationError(
            _("Kreditoren mangler kontonummer for %(numbers)s.") % {"numbers": ", ".join(problems)}
        )
    paid = [s.number for s in settlements if s.payout_status != "pending"]
    if paid:
        raise ApplicationError(_("Allerede utbetalt: %(numbers)s.") % {"numbers": ", ".join(paid)})
    now = timezone.localtime()
    execute_on = execute_on or timezone.localdate()
    total = sum((s.payout for s in settlements), Decimal("0.00"))
    message_id = f"KRAVIA-{now:%Y%m%d%H%M%S}-{settlements[0].pk}"

    ET.register_namespace("", NAMESPACE)
    root = ET.Element(f"{{{NAMESPACE}}}Document")
    body = _sub(root, "CstmrCdtTrfInitn")
    header = _sub(body, "GrpHdr")
    _sub(header, "MsgId", message_id)
    _sub(header, "CreDtTm", now.replace(microsecond=0).isoformat())
    _sub(header, "NbOfTxs", len(settlements))
    _sub(header, "CtrlSum", f"{total:.2f}")
    initiator = _sub(header, "InitgPty")
    _sub(initiator, "Nm", settings.AGENCY_NAME)
    other = _sub(_sub(_sub(initiator, "Id"), "OrgId"), "Othr")
    _sub(other, "Id", settings.AGENCY_ORG_NUMBER)
    _sub(_sub(other, "SchmeNm"), "Cd", "CUST")

    payment = _sub(body, "PmtInf")
    _sub(payment, "PmtInfId", message_id)
    _sub(payment, "PmtMtd", "TRF")
    _sub(payment, "NbOfTxs", len(settlements))
    _sub(payment, "CtrlSum", f"{total:.2f}")
    _sub(_sub(_sub(payment, "PmtTpInf"), "SvcLvl"), "Cd", "NURG")
    _sub(payment, "ReqdExctnDt", execute_on.isoformat())
    _sub(_sub(payment, "Dbtr"), "Nm", settings.AGENCY_NAME)
    debtor_account = _sub(payment, "DbtrAcct")
    _sub(_sub(debtor_account, "Id"), "IBAN", _iban(settings.AGENCY_ACCOUNT_NUMBER, "klientkontoen"))
    _sub(debtor_account, "Ccy", "NOK")
    _sub(_sub(_sub(_sub(payment, "DbtrAgt"), "FinInstnId"), "Othr"), "Id", "NOTPROVIDED")
    _sub(payment, "ChrgBr", "SLEV")

    for settlement in settlements:
        transfer = _sub(payment, "CdtTrfTxInf")
        ids = _sub(transfer, "PmtId")
        _sub(ids, "InstrId", settlement.number)
        _sub(ids, "EndToEndId", settlement.number)
        _sub(_sub(transfer, "Amt"), "InstdAmt", f"{settlement.payout:.2f}", Ccy="NOK")
        _sub(_sub(transfer, "Cdtr"), "Nm", settlement.creditor.name[:70])
        iban = _iban(settlement.payout_account, settlement.creditor.name)
        _sub(_sub(_sub(transfer, "CdtrAcct"), "Id"), "IBAN", iban)
        _sub(_sub(transfer, "RmtInf"), "Ustrd", f"Oppgjør {settlement.number}")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
