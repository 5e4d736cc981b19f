"""Bank files as banks send them, built in the tests: camt.054 entries (booked, pending,
reversals, debits) and Nets OCR giro records (transaction types, signs, the end records'
counts and sums)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal

# --- camt.054 --------------------------------------------------------------------------------


@dataclass
class Tx:
    amount: str
    kid: str = ""
    ref: str = ""
    e2e: str = "NOTPROVIDED"
    indicator: str = ""  # the transaction's own CdtDbtInd, when given
    payer: str = "Ola Nordmann"

    def xml(self) -> str:
        refs = f"<AcctSvcrRef>{self.ref}</AcctSvcrRef>" if self.ref else ""
        kid = (
            "<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
            f"<Ref>{self.kid}</Ref></CdtrRefInf></Strd></RmtInf>"
            if self.kid
            else ""
        )
        indicator = f"<CdtDbtInd>{self.indicator}</CdtDbtInd>" if self.indicator else ""
        return (
            f"<TxDtls><Refs>{refs}<EndToEndId>{self.e2e}</EndToEndId></Refs>"
            f'<Amt Ccy="NOK">{self.amount}</Amt>{indicator}'
            f"<RltdPties><Dbtr><Nm>{self.payer}</Nm></Dbtr></RltdPties>{kid}</TxDtls>"
        )


@dataclass
class Entry:
    amount: str
    txs: list[Tx] = field(default_factory=list)
    indicator: str = "CRDT"
    status: str = "<Sts><Cd>BOOK</Cd></Sts>"
    reversal: bool = False
    day: dt.date = dt.date(2026, 11, 5)
    ref: str = ""

    def xml(self) -> str:
        reversal = "<RvslInd>true</RvslInd>" if self.reversal else ""
        ref = f"<AcctSvcrRef>{self.ref}</AcctSvcrRef>" if self.ref else ""
        details = "".join(tx.xml() for tx in self.txs)
        return (
            f'<Ntry><Amt Ccy="NOK">{self.amount}</Amt><CdtDbtInd>{self.indicator}</CdtDbtInd>'
            f"{reversal}{self.status}<BookgDt><Dt>{self.day.isoformat()}</Dt></BookgDt>"
            f"<ValDt><Dt>{self.day.isoformat()}</Dt></ValDt>{ref}"
            f"<NtryDtls>{details}</NtryDtls></Ntry>"
        )


def camt(*entries: Entry, account: str = "<Othr><Id>86011117947</Id></Othr>") -> bytes:
    body = "".join(e.xml() for e in entries)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">'
        "<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>TEST</MsgId>"
        "<CreDtTm>2026-11-05T06:00:00</CreDtTm></GrpHdr>"
        f"<Ntfctn><Id>N1</Id><Acct><Id>{account}</Id></Acct>{body}</Ntfctn>"
        "</BkToCstmrDbtCdtNtfctn></Document>"
    ).encode()


def payment_entry(amount: str, kid: str, ref: str, *, e2e: str = "NOTPROVIDED", **kwargs) -> Entry:
    return Entry(amount, [Tx(amount, kid=kid, ref=ref, e2e=e2e)], **kwargs)


# --- OCR giro --------------------------------------------------------------------------------


@dataclass
class Ocr:
    """One OCR transaction: ``kind`` is the transaction type (10–21); 18 and 20 reverse."""

    ore: int
    kid: str
    kind: str = "10"
    sign: str = "0"
    payer: str = ""
    day: dt.date = dt.date(2026, 11, 5)
    archive: int = 0


#: The bank's archive references are unique across files (the import's duplicate check relies
#: on it); a file built here numbers its transactions from 1, so the archive reference counts
#: on from file to file.
_archive = itertools.count(500_000_001)


def _pad(head: str, fill: str = "0") -> str:
    assert len(head) <= 80, head
    return head + fill * (80 - len(head))


def ocr(*transactions: Ocr, net_sum: bool = False) -> bytes:
    """A transmission with one assignment. The end records state the sum of every amount, or
    (``net_sum``) payments less reversals — banks are read both ways."""
    records: list[str] = [_pad("NY000010000080800000001000080800"), ""]
    body: list[str] = []
    gross = net = 0
    for number, t in enumerate(transactions, start=1):
        serial = f"{number:05d}"
        body.append(
            f"NY09{t.kind}30{number:07d}{t.day:%d%m%y}0105{1}{serial}{t.sign}"
            f"{t.ore:017d}{t.kid:>25}000000"
        )
        body.append(_pad(f"NY09{t.kind}31{number:07d}{' ' * 10}{t.archive or next(_archive):09d}"))
        if t.payer:
            body.append(f"NY09{t.kind}32{number:07d}{t.payer:<40}" + "0" * 25)
        gross += t.ore
        net += -t.ore if t.kind in ("18", "20") else t.ore
    total = abs(net) if net_sum else gross
    count = len(transactions)
    records[1] = _pad("NY090020000012345000000186011117947")
    records.extend(body)
    records.append(_pad(f"NY090088{count:08d}{len(body) + 2:08d}{total:017d}"))
    records.append(_pad(f"NY000089{count:08d}{len(records) + 1:08d}{total:017d}"))
    for line in records:
        assert len(line) == 80, line
    return ("\n".join(records) + "\n").encode("latin-1")


def amount_of(value: str) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))
