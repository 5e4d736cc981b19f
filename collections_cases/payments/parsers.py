"""Bank file parsers: ISO 20022 camt.054 and Nets OCR giro. Pure functions, no database.

Both return a :class:`ParsedFile`: the payments and reversals in the file, how many entries
were not money in (pending or information entries, debits that are not reversals), and the
records skipped as malformed. A malformed file raises :class:`PaymentFileError` naming the
line (OCR) or element (camt.054), and nothing of it is imported.

Which errors refuse the whole file and which skip one record (docs/payments.md): a record is
skipped, reported by line or element, only when the bank's own totals for the file still
reconcile without it — its amount was read and is counted in them (OCR: the end records'
counts and sums; camt.054: the entry's ``Amt`` against its transactions). Anything that
breaks the structure or the amounts refuses the file: a record of the wrong length, an
unreadable amount, totals that do not add up.

Not every entry is money in (reference §6): camt.054 entries other than ``Sts`` BOOK are
counted and ignored; ``RvslInd=true`` on a debit, or a debit carrying a KID (a bank taking a
KID credit back), is a *reversal*. OCR transaction types 18 and 20 are reversals; 10–17, 19
and 21 payments.

Why not ``netsgiro`` (the maintained Nets OCR/AvtaleGiro parser, evaluated as 2.0.1): its
record patterns are stricter than the files banks send and we accept (a blank form number
or filler refuses the record), its errors name neither the line nor the field ("did not
match TransactionAmountItem2 record formats"), and it does not check the end records' counts
and sums — which is what decides whether one bad record may be skipped. The fixed-width
layout is small; reading it here keeps one Norwegian message per line and field.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - types and ParseError only; parsing is defusedxml
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from django.utils.translation import gettext as _

FORMAT_CAMT054 = "camt054"
FORMAT_OCR = "ocr"

OCR_RECORD_LENGTH = 80
#: OCR giro transaction types (positions 5–6): money in, and the bank taking it back.
OCR_PAYMENT_TYPES = frozenset({"10", "11", "12", "13", "14", "15", "16", "17", "19", "21"})
OCR_REVERSAL_TYPES = frozenset({"18", "20"})
#: Record type 32 carries the payer text in positions 16–55.
OCR_PAYER_TEXT_LENGTH = 40

PAYMENT = "payment"
REVERSAL = "reversal"


class PaymentFileError(ValueError):
    """The file is malformed; the message names the line or element."""


@dataclass(frozen=True)
class ParsedPayment:
    """One transaction: money in (``kind`` payment) or the bank taking money back (``kind``
    reversal; ``reverses`` then holds the external references the reversed payment may have
    been imported under, when the file names it)."""

    external_reference: str
    amount: Decimal
    paid_on: date
    kid: str
    payer_name: str = ""
    payer_reference: str = ""
    kind: str = PAYMENT
    reverses: tuple[str, ...] = ()
    where: str = ""

    @property
    def is_reversal(self) -> bool:
        return self.kind == REVERSAL


@dataclass
class ParsedFile:
    format: str
    items: list[ParsedPayment] = field(default_factory=list)
    #: Entries/transactions that are not money in (pending, information, plain debits).
    ignored: int = 0
    #: Records skipped as malformed while the totals reconciled: ``{"where", "error"}``.
    skipped: list[dict] = field(default_factory=list)
    #: The account the file is for (account number; from IBAN, ``Othr/Id`` or the OCR
    #: assignment record).
    account: str = ""

    def skip(self, where: str, error: str) -> None:
        self.skipped.append({"where": where, "error": str(error)})


def detect_format(content: bytes) -> str:
    head = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:500]
    if head.startswith(b"<"):
        return FORMAT_CAMT054
    if head.startswith(b"NY00"):
        return FORMAT_OCR
    raise PaymentFileError(
        _("Ukjent filformat: forventet camt.054 (XML) eller OCR giro (starter med «NY00»).")
    )


def parse(content: bytes) -> ParsedFile:
    fmt = detect_format(content)
    if fmt == FORMAT_CAMT054:
        return parse_camt054(content)
    return parse_ocr(content)


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


def _camt_account(ntfctn) -> str:
    """The account number of a notification: ``Acct/Id/IBAN`` (a Norwegian IBAN gives its
    11-digit account number), ``Acct/Id/Othr/Id`` (the BBAN, as Norwegian banks send it), or
    the non-standard ``Acct/Id/BBAN`` of older files."""
    iban = _text(ntfctn, "Acct", "Id", "IBAN").replace(" ", "").upper()
    if iban:
        return iban[4:] if iban.startswith("NO") and len(iban) == 15 else iban
    other = _text(ntfctn, "Acct", "Id", "Othr", "Id") or _text(ntfctn, "Acct", "Id", "BBAN")
    return other.replace(" ", "").replace(".", "")


def _camt_status(entry) -> str:
    """``<Sts>BOOK</Sts>`` (camt.054 up to .07) or ``<Sts><Cd>BOOK</Cd></Sts>`` (.08 on)."""
    return (_text(entry, "Sts", "Cd") or _text(entry, "Sts")).upper()


def _camt_transaction_reference(tx, entry_ref: str, t_index: int) -> str:
    reference = _text(tx, "Refs", "AcctSvcrRef")
    if not reference:
        end_to_end = _text(tx, "Refs", "EndToEndId")
        if end_to_end and end_to_end != "NOTPROVIDED":
            reference = f"e2e:{end_to_end}"
    if not reference and entry_ref:
        reference = f"{entry_ref}:{t_index}"
    return reference


def parse_camt054(content: bytes) -> ParsedFile:
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
    result = ParsedFile(format=FORMAT_CAMT054)
    accounts: list[str] = []
    for n_index, ntfctn in enumerate(_children(notification, "Ntfctn"), start=1):
        account = _camt_account(ntfctn)
        if account and account not in accounts:
            accounts.append(account)
        for e_index, entry in enumerate(_children(ntfctn, "Ntry"), start=1):
            _camt_entry(result, entry, f"Ntfctn[{n_index}]/Ntry[{e_index}]")
    result.account = ", ".join(accounts)[:34]
    return result


def _camt_entry(result: ParsedFile, entry, where: str) -> None:
    indicator = _text(entry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise PaymentFileError(
            _("%(where)s/CdtDbtInd: forventet CRDT eller DBIT, fikk «%(raw)s».")
            % {"where": where, "raw": indicator}
        )
    transactions = [
        tx for details in _children(entry, "NtryDtls") for tx in _children(details, "TxDtls")
    ]
    if _camt_status(entry) != "BOOK":
        # Pending (PDNG) or information (INFO) entries: the money is not on the account yet,
        # or not at all. Booked later, the bank sends them again as BOOK.
        result.ignored += max(len(transactions), 1)
        return
    reversal_indicator = _text(entry, "RvslInd").lower() in ("true", "1")
    if indicator == "CRDT" and reversal_indicator:
        # A credit reversing an earlier debit of the account: money back, not a payment.
        result.ignored += max(len(transactions), 1)
        return
    entry_amount = _camt_amount(_child(entry, "Amt"), where)
    if (
        indicator == "DBIT"
        and not reversal_indicator
        and not any(map(_scor_reference, transactions))
    ):
        # Money out of the account that takes back no KID payment (a payout to a creditor,
        # a fee): not ours to import.
        result.ignored += max(len(transactions), 1)
        return
    if not transactions:
        raise PaymentFileError(
            _("%(where)s: NtryDtls/TxDtls mangler (ingen transaksjoner).") % {"where": where}
        )
    date_el = _child(entry, "ValDt")
    if date_el is None:
        date_el = _child(entry, "BookgDt")
    date_error = ""
    paid_on = None
    if date_el is None:
        date_error = _("%(where)s: dato (ValDt/BookgDt) mangler.") % {"where": where}
    else:
        try:
            paid_on = _camt_date(date_el, where)
        except PaymentFileError as exc:
            date_error = str(exc)
    entry_ref = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")

    net = Decimal("0.00")  # credits − debits, in the entry's direction
    items: list[tuple[str, ParsedPayment | None, str]] = []
    for t_index, tx in enumerate(transactions, start=1):
        tx_where = f"{where}/NtryDtls/TxDtls[{t_index}]"
        amount_el = _child(tx, "Amt")
        if amount_el is None:
            amount_el = _child(tx, "AmtDtls", "TxAmt", "Amt")
        if amount_el is None and len(transactions) == 1:
            amount = entry_amount
        else:
            amount = _camt_amount(amount_el, tx_where)
        tx_indicator = _text(tx, "CdtDbtInd") or indicator
        if tx_indicator not in ("CRDT", "DBIT"):
            raise PaymentFileError(
                _("%(where)s/CdtDbtInd: forventet CRDT eller DBIT, fikk «%(raw)s».")
                % {"where": tx_where, "raw": tx_indicator}
            )
        net += amount if tx_indicator == indicator else -amount
        kid = _scor_reference(tx)[:25]
        is_reversal = tx_indicator == "DBIT" and (reversal_indicator or bool(kid))
        if tx_indicator == "DBIT" and not is_reversal:
            items.append((tx_where, None, ""))  # money out, reverses no KID payment
            continue
        reference = _camt_transaction_reference(tx, entry_ref, t_index)
        error = date_error
        if not error and not reference:
            error = _(
                "%(where)s: ingen unik referanse (AcctSvcrRef, EndToEndId eller NtryRef)."
            ) % {"where": tx_where}
        if error:
            items.append((tx_where, None, error))
            continue
        payer = _text(tx, "RltdPties", "Dbtr", "Nm") or _text(tx, "RltdPties", "Dbtr", "Pty", "Nm")
        message = " ".join((u.text or "").strip() for u in _rmt_children(tx, "Ustrd")).strip()
        end_to_end = _text(tx, "Refs", "EndToEndId")
        reverses = ()
        if is_reversal and end_to_end and end_to_end != "NOTPROVIDED":
            reverses = (f"camt:e2e:{end_to_end}"[:200],)
        items.append(
            (
                tx_where,
                ParsedPayment(
                    external_reference=(
                        f"camt:rvsl:{reference}" if is_reversal else f"camt:{reference}"
                    )[:200],
                    amount=amount,
                    paid_on=paid_on,
                    kid=kid,
                    payer_name=payer[:200],
                    payer_reference=message[:500],
                    kind=REVERSAL if is_reversal else PAYMENT,
                    reverses=reverses,
                    where=tx_where,
                ),
                "",
            )
        )
    if net != entry_amount:
        # The bank's own total for the entry does not reconcile: nothing of the file is safe.
        raise PaymentFileError(
            _(
                "%(where)s: summen av transaksjonene (%(total)s) er ikke lik postens "
                "beløp (%(amount)s)."
            )
            % {"where": where, "total": net, "amount": entry_amount}
        )
    for tx_where, item, error in items:
        if item is not None:
            result.items.append(item)
        elif error:
            result.skip(tx_where, error)
        else:
            result.ignored += 1


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


def parse_ocr(content: bytes) -> ParsedFile:
    """An OCR giro file (Nets' fixed 80-character records): every record checked for its
    frame first (``_ocr_lines``), then read in order by ``_OcrReader``, one step per record
    type, each transaction checked against the end records' totals."""
    lines = _ocr_lines(content)
    reader = _OcrReader(record_count=len(lines))
    for lineno, line in enumerate(lines, start=1):
        reader.read(line, lineno)
    return reader.parsed()


def _ocr_lines(content: bytes) -> list[str]:
    """The file's non-empty records, each 80 characters starting with «NY», the first the
    start of the transmission and the last its end; refuses the file otherwise."""
    try:
        text = content.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes any byte
        raise PaymentFileError(_("OCR-filen kan ikke leses som tekst.")) from None
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if line != ""]
    if not lines:
        raise PaymentFileError(_("OCR-filen er tom."))
    for lineno, line in enumerate(lines, start=1):
        _ocr_check_record_frame(line, lineno)
    if lines[0][:8] != "NY000010":
        raise PaymentFileError(_("Linje 1: startpost for forsendelse (NY000010) mangler."))
    if lines[-1][:8] != "NY000089":
        raise PaymentFileError(
            _("Linje %(line)s: sluttpost for forsendelse (NY000089) mangler.")
            % {"line": len(lines)}
        )
    return lines


def _ocr_check_record_frame(line: str, lineno: int) -> None:
    if len(line) != OCR_RECORD_LENGTH:
        raise PaymentFileError(
            _("Linje %(line)s: posten har %(length)s tegn, skal ha %(expected)s.")
            % {"line": lineno, "length": len(line), "expected": OCR_RECORD_LENGTH}
        )
    if not line.startswith("NY"):
        raise PaymentFileError(
            _("Linje %(line)s: posten starter ikke med «NY».") % {"line": lineno}
        )


class _OcrReader:
    """Reads the records of one OCR file in order. State: the assignment being read (its
    running totals), the transaction whose amount items are being read (``pending``, from
    its type 30 to the next 30, 88 or 89), the whole file's totals and the accounts seen."""

    def __init__(self, *, record_count: int) -> None:
        self.record_count = record_count
        self.result = ParsedFile(format=FORMAT_OCR)
        self.accounts: list[str] = []
        self.pending: dict | None = None
        self.in_assignment = False
        self.assignment = _OcrTotals()
        self.total = _OcrTotals()

    def read(self, line: str, lineno: int) -> None:
        if line[:8] == "NY000010":
            self._transmission_start(lineno)
        elif line[:8] == "NY000089":
            self._transmission_end(line, lineno)
        elif line[6:8] == "20":
            self._assignment_start(line, lineno)
        else:
            self._assignment_record(line, lineno)

    def parsed(self) -> ParsedFile:
        self.result.account = ", ".join(self.accounts)[:34]
        return self.result

    # -- the transmission --------------------------------------------------------------------

    def _transmission_start(self, lineno: int) -> None:
        if lineno != 1:
            raise PaymentFileError(
                _("Linje %(line)s: startpost for forsendelse midt i filen.") % {"line": lineno}
            )

    def _transmission_end(self, line: str, lineno: int) -> None:
        self._finish_transaction()
        if self.in_assignment:
            raise PaymentFileError(
                _("Linje %(line)s: oppdraget mangler sluttpost (NY090088).") % {"line": lineno}
            )
        self.total.records = self.record_count
        _ocr_check_totals(line, lineno, self.total, assignment_end=False)

    # -- an assignment -----------------------------------------------------------------------

    def _assignment_start(self, line: str, lineno: int) -> None:
        if self.in_assignment:
            raise PaymentFileError(
                _("Linje %(line)s: nytt oppdrag før forrige er avsluttet.") % {"line": lineno}
            )
        self.in_assignment = True
        self.assignment = _OcrTotals(records=1)
        account = line[24:35].strip()
        if account.isdigit() and account not in self.accounts:
            self.accounts.append(account)

    def _assignment_record(self, line: str, lineno: int) -> None:
        record_type = line[6:8]
        if not self.in_assignment:
            raise PaymentFileError(
                _("Linje %(line)s: post type %(type)s utenfor et oppdrag.")
                % {"line": lineno, "type": record_type}
            )
        self.assignment.records += 1
        if record_type == "30":
            self._amount_item_1(line, lineno)
        elif record_type == "31":
            self._amount_item_2(line, lineno)
        elif record_type == "32":
            self._amount_item_3(line, lineno)
        elif record_type == "88":
            self._assignment_end(line, lineno)
        else:
            raise PaymentFileError(
                _("Linje %(line)s: ukjent posttype «%(type)s».")
                % {"line": lineno, "type": line[:8]}
            )

    def _assignment_end(self, line: str, lineno: int) -> None:
        self._finish_transaction()
        _ocr_check_totals(line, lineno, self.assignment, assignment_end=True)
        self.total.merge(self.assignment)
        self.in_assignment = False

    # -- a transaction's amount items --------------------------------------------------------

    def _amount_item_1(self, line: str, lineno: int) -> None:
        self._finish_transaction()
        self.pending = _ocr_amount_item(line, lineno)
        self.assignment.add(
            self.pending["ore"], reversal=self.pending["type"] in OCR_REVERSAL_TYPES
        )

    def _amount_item_2(self, line: str, lineno: int) -> None:
        pending = self.pending
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

    def _amount_item_3(self, line: str, lineno: int) -> None:
        if self.pending is None or self.pending.get("archive") is None:
            raise PaymentFileError(
                _("Linje %(line)s: beløpspost 3 (type 32) uten beløpspost 1 og 2.")
                % {"line": lineno}
            )
        self.pending["payer"] = line[15 : 15 + OCR_PAYER_TEXT_LENGTH].strip()

    def _finish_transaction(self) -> None:
        """The transaction read so far becomes a payment (or a reversal), or a skipped
        record when its amount item 1 was wrong; it needs its amount item 2."""
        pending, self.pending = self.pending, None
        if pending is None:
            return
        if pending.get("archive") is None:
            raise PaymentFileError(
                _("Linje %(line)s: beløpspost 2 (type 31) mangler for transaksjon %(no)s.")
                % {"line": pending["lineno"], "no": pending["number"]}
            )
        where = _("Linje %(line)s") % {"line": pending["lineno"]}
        if pending.get("error"):
            self.result.skip(where, pending["error"])
        else:
            self.result.items.append(_ocr_payment(pending, where))


def _ocr_payment(pending: dict, where: str) -> ParsedPayment:
    return ParsedPayment(
        external_reference=(
            f"ocr:{pending['paid_on']:%Y%m%d}:{pending['serial']}:"
            f"{pending['archive']}:{pending['ore']}"
        ),
        amount=(Decimal(pending["ore"]) / 100).quantize(Decimal("0.01")),
        paid_on=pending["paid_on"],
        kid=pending["kid"],
        payer_name=pending.get("payer", ""),
        payer_reference=pending.get("form", ""),
        kind=REVERSAL if pending["type"] in OCR_REVERSAL_TYPES else PAYMENT,
        where=str(where),
    )


@dataclass
class _OcrTotals:
    """What a part of the file holds, to check against its end record. Nets states the sum
    unsigned; a reversal (type 18/20) is money out, so a sum is accepted both as the sum of
    every amount (gross) and as payments less reversals (net)."""

    count: int = 0
    records: int = 0
    gross: int = 0
    net: int = 0

    def add(self, ore: int, *, reversal: bool) -> None:
        self.count += 1
        self.gross += ore
        self.net += -ore if reversal else ore

    def merge(self, other: _OcrTotals) -> None:
        self.count += other.count
        self.gross += other.gross
        self.net += other.net


def _ocr_check_totals(line: str, lineno: int, real: _OcrTotals, *, assignment_end: bool) -> None:
    count = _ocr_int(line, 9, 16, lineno, _("antall transaksjoner"))
    records = _ocr_int(line, 17, 24, lineno, _("antall poster"))
    amount = _ocr_int(line, 25, 41, lineno, _("sum beløp"))
    if (count, records) == (real.count, real.records) and amount in (real.gross, abs(real.net)):
        return
    if assignment_end:
        message = _(
            "Linje %(line)s: oppdragets sluttpost oppgir %(count)s transaksjoner, "
            "%(records)s poster og %(amount)s øre, men oppdraget har "
            "%(real_count)s, %(real_records)s og %(real_amount)s."
        )
    else:
        message = _(
            "Linje %(line)s: sluttposten oppgir %(count)s transaksjoner, %(records)s "
            "poster og %(amount)s øre, men filen har %(real_count)s, "
            "%(real_records)s og %(real_amount)s."
        )
    raise PaymentFileError(
        message
        % {
            "line": lineno,
            "count": count,
            "records": records,
            "amount": amount,
            "real_count": real.count,
            "real_records": real.records,
            "real_amount": real.gross,
        }
    )


def _ocr_amount_item(line: str, lineno: int) -> dict:
    """Amount item 1 (record type 30). What the end records' totals depend on — the
    transaction number and the amount — refuses the file when unreadable; anything else wrong
    with the transaction (its type, date, sign, a zero amount) is noted in ``error`` and the
    transaction skipped, reported by its line (the totals still reconcile)."""
    number = _ocr_int(line, 9, 15, lineno, _("transaksjonsnummer"))
    ore = _ocr_int(line, 33, 49, lineno, _("beløp i øre"))
    transaction_type = line[4:6]
    item = {
        "lineno": lineno,
        "number": number,
        "type": transaction_type,
        "ore": ore,
        "kid": line[49:74].strip(),
        "serial": line[21:31],
        "archive": None,
        "error": "",
    }
    reversal = transaction_type in OCR_REVERSAL_TYPES
    try:
        if not reversal and transaction_type not in OCR_PAYMENT_TYPES:
            raise PaymentFileError(
                _("Linje %(line)s, posisjon 5–6: ukjent transaksjonstype «%(type)s».")
                % {"line": lineno, "type": transaction_type}
            )
        item["paid_on"] = _ocr_date(line, 16, lineno)
        if not item["serial"].isdigit():
            raise PaymentFileError(
                _("Linje %(line)s, posisjon 22–31: ugyldig løpenummer «%(raw)s».")
                % {"line": lineno, "raw": item["serial"]}
            )
        sign = line[31]
        if sign not in "0 -" or (sign == "-" and not reversal):
            raise PaymentFileError(
                _(
                    "Linje %(line)s, posisjon 32: fortegnet «%(sign)s» passer ikke til "
                    "transaksjonstype %(type)s."
                )
                % {"line": lineno, "sign": sign, "type": transaction_type}
            )
        if ore <= 0:
            raise PaymentFileError(
                _("Linje %(line)s, posisjon 33–49: beløpet er 0.") % {"line": lineno}
            )
    except PaymentFileError as exc:
        item["error"] = str(exc)
    return item
