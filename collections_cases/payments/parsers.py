"""Bank file parsers: ISO 20022 camt.054 and Nets OCR giro. Pure functions, no database.

Both return a list of :class:`ParsedPayment` or raise :class:`PaymentFileError` naming the
line (OCR) or element (camt.054) at fault; a file is either parsed whole or not at all.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - types and ParseError only; parsing is defusedxml
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from django.utils.translation import gettext as _

FORMAT_CAMT054 = "camt054"
FORMAT_OCR = "ocr"

OCR_RECORD_LENGTH = 80


class PaymentFileError(ValueError):
    """The file is malformed; the message names the line or element."""


@dataclass(frozen=True)
class ParsedPayment:
    external_reference: str
    amount: Decimal
    paid_on: date
    kid: str
    payer_name: str = ""
    payer_reference: str = ""


def detect_format(content: bytes) -> str:
    head = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:500]
    if head.startswith(b"<"):
        return FORMAT_CAMT054
    if head.startswith(b"NY00"):
        return FORMAT_OCR
    raise PaymentFileError(
        _("Ukjent filformat: forventet camt.054 (XML) eller OCR giro (starter med «NY00»).")
    )


def parse(content: bytes) -> tuple[str, list[ParsedPayment]]:
    fmt = detect_format(content)
    if fmt == FORMAT_CAMT054:
        return fmt, parse_camt054(content)
    return fmt, parse_ocr(content)


# --- camt.054 ---------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(el, *path: str):
    """The first descendant along ``path`` (local names, any namespace), or None."""
    for name in path:
        if el is None:
            return None
        el = next((c for c in el if _local(c.tag) == name), None)
    return el


def _children(el, name: str) -> list:
    return [c for c in el if _local(c.tag) == name]


def _text(el, *path: str) -> str:
    found = _child(el, *path)
    return (found.text or "").strip() if found is not None else ""


def _camt_amount(el, where: str) -> Decimal:
    if el is None:
        raise PaymentFileError(_("%(where)s: beløp (Amt) mangler.") % {"where": where})
    currency = el.get("Ccy", "")
    if currency != "NOK":
        raise PaymentFileError(
            _("%(where)s/Amt: valuta «%(ccy)s» støttes ikke, bare NOK.")
            % {"where": where, "ccy": currency}
        )
    raw = (el.text or "").strip()
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2:
        raise PaymentFileError(
            _("%(where)s/Amt: ugyldig beløp «%(raw)s».") % {"where": where, "raw": raw}
        )
    return amount.quantize(Decimal("0.01"))


def _camt_date(el, where: str) -> date:
    raw = _text(el, "Dt") or _text(el, "DtTm")[:10]
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise PaymentFileError(
            _("%(where)s: ugyldig dato «%(raw)s».") % {"where": where, "raw": raw}
        ) from None


def _rmt_children(tx, name: str) -> list:
    remittance = _child(tx, "RmtInf")
    return [] if remittance is None else _children(remittance, name)


def _scor_reference(tx) -> str:
    for strd in _rmt_children(tx, "Strd"):
        ref_inf = _child(strd, "CdtrRefInf")
        if ref_inf is None:
            continue
        code = _text(ref_inf, "Tp", "CdOrPrtry", "Cd")
        if code == "SCOR":
            return _text(ref_inf, "Ref").replace(" ", "")
    return ""


def parse_camt054(content: bytes) -> list[ParsedPayment]:
    try:
        # An uploaded bank file is untrusted: no DTDs, entities or external references.
        root = safe_fromstring(content, forbid_dtd=True)
    except DefusedXmlException:
        raise PaymentFileError(
            _("Ugyldig XML: filen inneholder DTD eller entiteter, som ikke er tillatt.")
        ) from None
    except ET.ParseError as exc:
        raise PaymentFileError(
            _("Ugyldig XML (linje %(line)s, kolonne %(col)s): %(error)s")
            % {"line": exc.position[0], "col": exc.position[1], "error": exc}
        ) from None
    notification = _child(root, "BkToCstmrDbtCdtNtfctn")
    if _local(root.tag) != "Document" or notification is None:
        raise PaymentFileError(_("Ikke en camt.054-fil: Document/BkToCstmrDbtCdtNtfctn mangler."))
    payments: list[ParsedPayment] = []
    for n_index, ntfctn in enumerate(_children(notification, "Ntfctn"), start=1):
        for e_index, entry in enumerate(_children(ntfctn, "Ntry"), start=1):
            where = f"Ntfctn[{n_index}]/Ntry[{e_index}]"
            indicator = _text(entry, "CdtDbtInd")
            if indicator not in ("CRDT", "DBIT"):
                raise PaymentFileError(
                    _("%(where)s/CdtDbtInd: forventet CRDT eller DBIT, fikk «%(raw)s».")
                    % {"where": where, "raw": indicator}
                )
            entry_amount = _camt_amount(_child(entry, "Amt"), where)
            if indicator == "DBIT":
                continue  # money out of the account is not an incoming payment
            date_el = _child(entry, "ValDt")
            if date_el is None:
                date_el = _child(entry, "BookgDt")
            if date_el is None:
                raise PaymentFileError(
                    _("%(where)s: dato (ValDt/BookgDt) mangler.") % {"where": where}
                )
            paid_on = _camt_date(date_el, where)
            entry_ref = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
            transactions = [
                tx
                for details in _children(entry, "NtryDtls")
                for tx in _children(details, "TxDtls")
            ]
            if not transactions:
                raise PaymentFileError(
                    _("%(where)s: NtryDtls/TxDtls mangler (ingen transaksjoner).")
                    % {"where": where}
                )
            total = Decimal("0.00")
            for t_index, tx in enumerate(transactions, start=1):
                tx_where = f"{where}/NtryDtls/TxDtls[{t_index}]"
                amount_el = _child(tx, "Amt")
                if amount_el is None:
                    amount_el = _child(tx, "AmtDtls", "TxAmt", "Amt")
                if amount_el is None and len(transactions) == 1:
                    amount = entry_amount
                else:
                    amount = _camt_amount(amount_el, tx_where)
                total += amount
                reference = _text(tx, "Refs", "AcctSvcrRef")
                if not reference:
                    end_to_end = _text(tx, "Refs", "EndToEndId")
                    if end_to_end and end_to_end != "NOTPROVIDED":
                        reference = f"e2e:{end_to_end}"
                if not reference:
                    if not entry_ref:
                        raise PaymentFileError(
                            _(
                                "%(where)s: ingen unik referanse (AcctSvcrRef, EndToEndId "
                                "eller NtryRef)."
                            )
                            % {"where": tx_where}
                        )
                    reference = f"{entry_ref}:{t_index}"
                payer = _text(tx, "RltdPties", "Dbtr", "Nm") or _text(
                    tx, "RltdPties", "Dbtr", "Pty", "Nm"
                )
                message = " ".join(
                    (u.text or "").strip() for u in _rmt_children(tx, "Ustrd")
                ).strip()
                payments.append(
                    ParsedPayment(
                        external_reference=f"camt:{reference}"[:200],
                        amount=amount,
                        paid_on=paid_on,
                        kid=_scor_reference(tx)[:25],
                        payer_name=payer[:200],
                        payer_reference=message[:500],
                    )
                )
            if total != entry_amount:
                raise PaymentFileError(
                    _(
                        "%(where)s: summen av transaksjonene (%(total)s) er ikke lik postens "
                        "beløp (%(amount)s)."
                    )
                    % {"where": where, "total": total, "amount": entry_amount}
                )
    return payments


# --- OCR giro -----------------------------------------------------------------------------
# Layout (Nets «Systemspesifikasjon OCR giro»), 1-based positions:
#   NY000010 start of transmission · NY090020 start of assignment
#   NY09tt30 amount item 1: 9-15 transaction no., 16-21 settlement date DDMMYY,
#            22-23 centre id, 24-25 day code, 26 partial settlement, 27-31 serial no.,
#            32 sign, 33-49 amount in øre, 50-74 KID right-aligned, 75-76 card issuer
#   NY09tt31 amount item 2: 9-15 transaction no., 16-25 form no., 26-34 archive reference,
#            42-47 order date DDMMYY, 48-58 debit account
#   NY09tt32 amount item 3 (optional): free text / payer
#   NY090088 end of assignment: 9-16 transactions, 17-24 records, 25-41 total øre
#   NY000089 end of transmission: 9-16 transactions, 17-24 records, 25-41 total øre


def _ocr_int(line: str, start: int, end: int, lineno: int, what: str) -> int:
    raw = line[start - 1 : end]
    if not raw.isdigit():
        raise PaymentFileError(
            _("Linje %(line)s, posisjon %(start)s–%(end)s (%(what)s): «%(raw)s» er ikke et tall.")
            % {"line": lineno, "start": start, "end": end, "what": what, "raw": raw}
        )
    return int(raw)


def _ocr_date(line: str, start: int, lineno: int) -> date:
    raw = line[start - 1 : start + 5]
    try:
        return datetime.strptime(raw, "%d%m%y").date()
    except ValueError:
        raise PaymentFileError(
            _("Linje %(line)s, posisjon %(start)s: ugyldig dato «%(raw)s» (DDMMÅÅ).")
            % {"line": lineno, "start": start, "raw": raw}
        ) from None


def parse_ocr(content: bytes) -> list[ParsedPayment]:
    try:
        text = content.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes any byte
        raise PaymentFileError(_("OCR-filen kan ikke leses som tekst.")) from None
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if line != ""]
    if not lines:
        raise PaymentFileError(_("OCR-filen er tom."))
    for lineno, line in enumerate(lines, start=1):
        if len(line) != OCR_RECORD_LENGTH:
            raise PaymentFileError(
                _("Linje %(line)s: posten har %(length)s tegn, skal ha %(expected)s.")
                % {"line": lineno, "length": len(line), "expected": OCR_RECORD_LENGTH}
            )
        if not line.startswith("NY"):
            raise PaymentFileError(
                _("Linje %(line)s: posten starter ikke med «NY».") % {"line": lineno}
            )
    if lines[0][:8] != "NY000010":
        raise PaymentFileError(_("Linje 1: startpost for forsendelse (NY000010) mangler."))
    if lines[-1][:8] != "NY000089":
        raise PaymentFileError(
            _("Linje %(line)s: sluttpost for forsendelse (NY000089) mangler.")
            % {"line": len(lines)}
        )

    payments: list[ParsedPayment] = []
    pending: dict | None = None
    in_assignment = False
    assignment_count = assignment_sum = assignment_records = 0
    total_count = total_sum = 0

    def finish_pending(lineno: int) -> None:
        nonlocal pending
        if pending is None:
            return
        if pending.get("archive") is None:
            raise PaymentFileError(
                _("Linje %(line)s: beløpspost 2 (type 31) mangler for transaksjon %(no)s.")
                % {"line": pending["lineno"], "no": pending["number"]}
            )
        payments.append(
            ParsedPayment(
                external_reference=(
                    f"ocr:{pending['paid_on']:%Y%m%d}:{pending['serial']}:"
                    f"{pending['archive']}:{pending['ore']}"
                ),
                amount=(Decimal(pending["ore"]) / 100).quantize(Decimal("0.01")),
                paid_on=pending["paid_on"],
                kid=pending["kid"],
                payer_name=pending.get("payer", ""),
                payer_reference=pending.get("form", ""),
            )
        )
        pending = None

    for lineno, line in enumerate(lines, start=1):
        record_type = line[6:8]
        if line[:8] == "NY000010":
            if lineno != 1:
                raise PaymentFileError(
                    _("Linje %(line)s: startpost for forsendelse midt i filen.") % {"line": lineno}
                )
            continue
        if line[:8] == "NY000089":
            finish_pending(lineno)
            if in_assignment:
                raise PaymentFileError(
                    _("Linje %(line)s: oppdraget mangler sluttpost (NY090088).") % {"line": lineno}
                )
            count = _ocr_int(line, 9, 16, lineno, _("antall transaksjoner"))
            records = _ocr_int(line, 17, 24, lineno, _("antall poster"))
            amount = _ocr_int(line, 25, 41, lineno, _("sum beløp"))
            if (count, amount, records) != (total_count, total_sum, len(lines)):
                raise PaymentFileError(
                    _(
                        "Linje %(line)s: sluttposten oppgir %(count)s transaksjoner, %(records)s "
                        "poster og %(amount)s øre, men filen har %(real_count)s, "
                        "%(real_records)s og %(real_amount)s."
                    )
                    % {
                        "line": lineno,
                        "count": count,
                        "records": records,
                        "amount": amount,
                        "real_count": total_count,
                        "real_records": len(lines),
                        "real_amount": total_sum,
                    }
                )
            continue
        if record_type == "20":
            if in_assignment:
                raise PaymentFileError(
                    _("Linje %(line)s: nytt oppdrag før forrige er avsluttet.") % {"line": lineno}
                )
            in_assignment = True
            assignment_count = assignment_sum = 0
            assignment_records = 1
            continue
        if not in_assignment:
            raise PaymentFileError(
                _("Linje %(line)s: post type %(type)s utenfor et oppdrag.")
                % {"line": lineno, "type": record_type}
            )
        assignment_records += 1
        if record_type == "30":
            finish_pending(lineno)
            number = _ocr_int(line, 9, 15, lineno, _("transaksjonsnummer"))
            paid_on = _ocr_date(line, 16, lineno)
            serial = line[21:31]
            if not serial.isdigit():
                raise PaymentFileError(
                    _("Linje %(line)s, posisjon 22–31: ugyldig løpenummer «%(raw)s».")
                    % {"line": lineno, "raw": serial}
                )
            if line[31] not in "0 ":
                raise PaymentFileError(
                    _("Linje %(line)s, posisjon 32: negative beløp støttes ikke.")
                    % {"line": lineno}
                )
            ore = _ocr_int(line, 33, 49, lineno, _("beløp i øre"))
            if ore <= 0:
                raise PaymentFileError(
                    _("Linje %(line)s, posisjon 33–49: beløpet er 0.") % {"line": lineno}
                )
            kid = line[49:74].strip()
            assignment_count += 1
            assignment_sum += ore
            pending = {
                "lineno": lineno,
                "number": number,
                "paid_on": paid_on,
                "serial": serial,
                "ore": ore,
                "kid": kid,
                "archive": None,
            }
        elif record_type == "31":
            if pending is None or pending.get("archive") is not None:
                raise PaymentFileError(
                    _("Linje %(line)s: beløpspost 2 (type 31) uten beløpspost 1 (type 30).")
                    % {"line": lineno}
                )
            number = _ocr_int(line, 9, 15, lineno, _("transaksjonsnummer"))
            if number != pending["number"]:
                raise PaymentFileError(
                    _("Linje %(line)s: transaksjonsnummer %(no)s, forventet %(expected)s.")
                    % {"line": lineno, "no": number, "expected": pending["number"]}
                )
            pending["form"] = line[15:25].strip()
            pending["archive"] = line[25:34].strip() or "0"
        elif record_type == "32":
            if pending is None or pending.get("archive") is None:
                raise PaymentFileError(
                    _("Linje %(line)s: beløpspost 3 (type 32) uten beløpspost 1 og 2.")
                    % {"line": lineno}
                )
            pending["payer"] = line[15:50].strip()
        elif record_type == "88":
            finish_pending(lineno)
            count = _ocr_int(line, 9, 16, lineno, _("antall transaksjoner"))
            records = _ocr_int(line, 17, 24, lineno, _("antall poster"))
            amount = _ocr_int(line, 25, 41, lineno, _("sum beløp"))
            if (count, amount, records) != (assignment_count, assignment_sum, assignment_records):
                raise PaymentFileError(
                    _(
                        "Linje %(line)s: oppdragets sluttpost oppgir %(count)s transaksjoner, "
                        "%(records)s poster og %(amount)s øre, men oppdraget har "
                        "%(real_count)s, %(real_records)s og %(real_amount)s."
                    )
                    % {
                        "line": lineno,
                        "count": count,
                        "records": records,
                        "amount": amount,
                        "real_count": assignment_count,
                        "real_records": assignment_records,
                        "real_amount": assignment_sum,
                    }
                )
            total_count += assignment_count
            total_sum += assignment_sum
            in_assignment = False
        else:
            raise PaymentFileError(
                _("Linje %(line)s: ukjent posttype «%(type)s».")
                % {"line": lineno, "type": line[:8]}
            )
    return payments
