"""A settlement's voucher to PowerOffice Go (docs/vouchers.md).

``Settlement.voucher_lines`` holds the creditor's posting lines by account *number*
(:func:`collections_cases.settlements.vouchers.posting_lines`). Sending them means resolving
each number to the id of the account in the company's chart (``GET /GeneralLedgerAccounts``,
fresh at send time, so an account created in Go after a block counts at once) and each
receivable line to the customer's own sub-ledger account (``Debtor.pogo_subledger_account_id``,
read from ``GET /Customers/{id}`` when the sync has not stored it yet). Anything missing or
inactive stops the voucher *before* anything is sent: the settlement is ``blocked`` with a
Norwegian message saying what to fix, and the outbox row fails until
:func:`settlement_voucher_retry` queues it again.

By the settlement's bookkeeping mode:

* ``unposted`` — ``POST /JournalEntryVouchers/BankJournals`` (a proposal in Go's voucher
  inbox): single-sided lines, ``DebitAccountId`` or ``CreditAccountId`` with a positive
  ``CurrencyAmount``; receivable lines credit the customer's sub-ledger with ``InvoiceNo`` so
  Go matches the open item when the creditor posts it. The proposal id is recorded at once, in
  its own short transaction; then the statement PDF is attached as a voucher page.
* ``posted`` — ``POST /Vouchers/BankJournals`` with ``ExternalImportReference`` =
  ``kravia-settlement-<id>``, signed ``CurrencyAmount`` (debit +, credit −), ``AccountId``,
  ``VatId: null`` (required by the spec; the lines are net, VAT has its own line),
  ``InvoiceNo`` and the case's KID as ``Cid`` on receivable lines. Go keeps the reference
  unique per client: a 409 means it is already posted, which is success.

Exactly once without an idempotency key (proposals): before the create call the outbox row
records when it was tried (``payload["proposal_tried_at"]``). Any later attempt for a settlement
with no recorded proposal id first lists the integration's journal-entry vouchers created
since then (``GET /JournalEntryVouchers?createdDateTimeOffsetGreaterThan=``), reads each bank
journal and takes the one whose ``Description`` carries the settlement number: a timeout after
Go created the proposal therefore adopts it instead of creating a second one. The page upload
is checked the same way (the proposal's ``Pages``) before it is sent again.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from collections_cases.models import (
    Settlement,
    SettlementInvoicePart,
    SettlementLine,
)
from creditors.models import Creditor, Debtor
from integrations.models import OutboxMessage, PowerOfficeConnection
from integrations.poweroffice import PowerOfficeClient
from integrations.poweroffice import errors as pogo_errors
from integrations.services.queue import Deferred, get_or_create, outbox_status
from integrations.services.settlement_wait import DELIVERED
from kravia_web.crashpoints import crash_point
from kravia_web.errors import ApplicationError
from kravia_web.money import format_nok

logger = logging.getLogger(__name__)

VoucherStatus = Settlement.VoucherStatus
Status = OutboxMessage.Status
Mode = Creditor.BookkeepingMode
DEBIT = "debit"
CREDIT = "credit"
#: The statement PDF is rendered right after the settlement commits; a voucher waits for it
#: this long before the row fails (the agency then looks at the renderer).
PDF_WAIT = dt.timedelta(hours=6)
#: How far before our recorded attempt to look for a proposal Go may have made (clock skew).
LOOKUP_MARGIN = dt.timedelta(minutes=5)


def settlement_reference(settlement: Settlement) -> str:
    """Our reference in Go: ``ExternalImportReference`` of a posted voucher."""
    return f"kravia-settlement-{settlement.pk}"


class VoucherBlocked(Exception):
    """The voucher cannot be sent until the creditor fixes its accounts or customers."""

    def __init__(self, problems: list[str]):
        super().__init__(" ".join(problems))
        self.problems = problems


# --- queueing -------------------------------------------------------------------------------


def not_connected_error() -> str:
    """Why a settlement's voucher waits when its creditor is not connected to PoGo."""
    return _(
        "Ikke koblet til PowerOffice Go: koble til under Innstillinger og send bilaget "
        "på nytt, eller før posteringene i oppgjørsoppstillingen for hånd."
    )


def outbox_settlement_voucher(*, settlement: Settlement) -> OutboxMessage | None:
    """Queue the voucher of a new settlement (called inside the transaction that wrote it).
    Nothing for bookkeeping mode *none*: the statement lists the lines to post by hand."""
    if settlement.bookkeeping_mode == Mode.NONE:
        return None
    connection = PowerOfficeConnection.objects.filter(creditor_id=settlement.creditor_id).first()
    if connection is None or not connection.is_connected:
        # Nowhere to send it (and a row that can never be delivered would only crowd the
        # outbox): it waits, saying why, until the creditor connects and sends it again.
        Settlement.objects.filter(pk=settlement.pk).update(voucher_error=not_connected_error())
        return None
    message, _created = get_or_create(
        dedupe_key=f"settlement_voucher:{settlement.pk}",
        kind=OutboxMessage.Kind.SETTLEMENT_VOUCHER,
        creditor_id=settlement.creditor_id,
        settlement=settlement,
        payload={"mode": settlement.bookkeeping_mode},
    )
    return message


def settlement_voucher_retry(*, settlement: Settlement) -> OutboxMessage:
    """«Send bilaget på nytt»: after the creditor fixed what blocked it (or the agency what
    failed), queue the voucher again; the next delivery resolves the accounts afresh."""
    settlement.refresh_from_db()
    if settlement.voucher_status in DELIVERED:
        raise ApplicationError(_("Bilaget for dette oppgjøret er allerede sendt."))
    if settlement.bookkeeping_mode == Mode.NONE:
        raise ApplicationError(_("Oppgjøret føres manuelt; det sendes ikke noe bilag."))
    connection = PowerOfficeConnection.objects.filter(creditor_id=settlement.creditor_id).first()
    if connection is None or not connection.is_connected:
        raise ApplicationError(
            _("Koble til PowerOffice Go under Innstillinger før du sender bilaget på nytt.")
        )
    with transaction.atomic():
        message = outbox_settlement_voucher(settlement=settlement)
        if message is None:
            raise ApplicationError(_("Oppgjøret føres manuelt; det sendes ikke noe bilag."))
        OutboxMessage.objects.filter(pk=message.pk).exclude(status=Status.SENT).update(
            status=Status.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error=""
        )
        Settlement.objects.filter(pk=settlement.pk).update(
            voucher_status=VoucherStatus.PENDING, voucher_error=""
        )
    settlement.refresh_from_db()
    message.refresh_from_db()
    return message


# --- resolving account numbers and customers ------------------------------------------------


@dataclass(frozen=True)
class ResolvedLine:
    side: str
    account_id: int
    amount: Decimal
    description: str
    invoice_no: str = ""
    cid: str = ""


def _account_label(field: str) -> str:
    try:
        return str(Creditor._meta.get_field(field).verbose_name)
    except Exception:  # an unknown field name in stored lines: show the number only
        return ""


def _refresh_chart(connection: PowerOfficeConnection, accounts, numbers: set[int]) -> None:
    """Keep the stored chart (the settings page's account check) in step with what we read."""
    chart = dict(connection.chart_of_accounts or {})
    found = {account.account_no for account in accounts}
    for account in accounts:
        chart[str(account.account_no)] = {
            "name": account.name,
            "is_active": bool(account.is_active),
        }
    for number in numbers - found:
        chart.pop(str(number), None)
    if chart != connection.chart_of_accounts:
        connection.chart_of_accounts = chart
        PowerOfficeConnection.objects.filter(pk=connection.pk).update(
            chart_of_accounts=chart, updated_at=timezone.now()
        )


def _resolve_accounts(client, connection, lines: list[dict]) -> tuple[dict[int, int], list[str]]:
    numbers = {int(line["account_no"]) for line in lines if not line.get("debtor_id")}
    if not numbers:
        return {}, []
    accounts = client.general_ledger_accounts(account_nos=sorted(numbers))
    _refresh_chart(connection, accounts, numbers)
    by_number = {account.account_no: account for account in accounts}
    ids, problems, labels = {}, [], {}
    for line in lines:
        labels.setdefault(int(line["account_no"]), _account_label(line.get("account", "")))
    for number in sorted(numbers):
        label = labels.get(number)
        what = f"{number} ({label})" if label else str(number)
        account = by_number.get(number)
        if account is None:
            problems.append(
                _(
                    "Konto %(account)s finnes ikke i kontoplanen i PowerOffice Go. Opprett "
                    "kontoen i Go eller velg en annen konto under Innstillinger → Kontoer, og "
                    "send bilaget på nytt."
                )
                % {"account": what}
            )
        elif not account.is_active:
            problems.append(
                _(
                    "Konto %(account)s er inaktiv i PowerOffice Go. Aktiver kontoen i Go eller "
                    "velg en annen konto under Innstillinger → Kontoer, og send bilaget på nytt."
                )
                % {"account": what}
            )
        else:
            ids[number] = account.id
    return ids, problems


def _resolve_subledgers(client, lines: list[dict]) -> tuple[dict[int, int], list[str]]:
    """``{debtor id: sub-ledger account id}``; a debtor whose id the sync has not stored yet is
    read from Go (and stored)."""
    debtor_ids = {int(line["debtor_id"]) for line in lines if line.get("debtor_id")}
    ids, problems = {}, []
    for debtor in Debtor.objects.filter(pk__in=debtor_ids).order_by("name", "pk"):
        subledger = debtor.pogo_subledger_account_id
        if subledger is None and debtor.pogo_id is not None:
            try:
                subledger = client.customer(debtor.pogo_id).subledger_account_id
            except pogo_errors.NotFound:
                subledger = None
            if subledger is not None:
                Debtor.objects.filter(pk=debtor.pk).update(pogo_subledger_account_id=subledger)
        if debtor.pogo_id is None:
            problems.append(
                _(
                    "Kunden %(name)s finnes ikke i PowerOffice Go (kunden er registrert i "
                    "Kundeweb), så fakturaen kan ikke krediteres på kundens reskontro. Før "
                    "oppgjøret for hånd i Go, eller opprett kunden i Go og send bilaget på nytt."
                )
                % {"name": debtor.name}
            )
        elif subledger is None:
            problems.append(
                _(
                    "Kunden %(name)s (kundenr. %(number)s) har ingen reskontrokonto i "
                    "PowerOffice Go. Kontroller kunden i Go og send bilaget på nytt."
                )
                % {"name": debtor.name, "number": debtor.customer_number or "–"}
            )
        else:
            ids[debtor.pk] = subledger
    for missing in (
        debtor_ids
        - set(ids)
        - set(Debtor.objects.filter(pk__in=debtor_ids).values_list("pk", flat=True))
    ):
        problems.append(_("Kunden (ID %(id)s) finnes ikke lenger.") % {"id": missing})
    return ids, problems


def _kids_by_invoice_no(settlement: Settlement) -> dict[str, str]:
    rows = SettlementInvoicePart.objects.filter(line__settlement=settlement).values_list(
        "invoice__invoice_no", "line__case__kid"
    )
    return {str(invoice_no): kid or "" for invoice_no, kid in rows}


def resolve_lines(
    client: PowerOfficeClient, connection: PowerOfficeConnection, settlement: Settlement
) -> list[ResolvedLine]:
    """The settlement's posting lines with PoGo ids; raises :class:`VoucherBlocked` naming every
    account and customer that is missing (nothing is sent then)."""
    lines = list(settlement.voucher_lines or [])
    if not lines:
        raise VoucherBlocked([_("Oppgjøret har ingen posteringslinjer.")])
    account_ids, problems = _resolve_accounts(client, connection, lines)
    subledgers, customer_problems = _resolve_subledgers(client, lines)
    problems += customer_problems
    if problems:
        raise VoucherBlocked(problems)
    kids = _kids_by_invoice_no(settlement)
    resolved = []
    for line in lines:
        invoice_no = str(line.get("invoice_no") or "")
        if line.get("debtor_id"):
            account_id = subledgers[int(line["debtor_id"])]
        else:
            account_id = account_ids[int(line["account_no"])]
        resolved.append(
            ResolvedLine(
                side=line["side"],
                account_id=account_id,
                amount=Decimal(line["amount"]),
                description=str(line.get("description") or "")[:200],
                invoice_no=invoice_no,
                cid=kids.get(invoice_no, "") if invoice_no else "",
            )
        )
    debits = sum((r.amount for r in resolved if r.side == DEBIT), Decimal("0"))
    credits = sum((r.amount for r in resolved if r.side == CREDIT), Decimal("0"))
    if debits != credits:  # posting_lines guarantees it; never send an unbalanced voucher
        raise VoucherBlocked(
            [
                _("Bilaget går ikke i balanse (debet %(debit)s, kredit %(credit)s).")
                % {"debit": format_nok(debits), "credit": format_nok(credits)}
            ]
        )
    return resolved


# --- payloads -------------------------------------------------------------------------------


#: ``VatId`` of every line we send: none. The settlement's lines are already net and its input
#: VAT on the agency's fee is a line of its own (``account_input_vat``, docs/vouchers.md), so a
#: VAT code on a line, such as the account's default one, would make Go split VAT out of an
#: amount a second time. PowerOffice's spec requires ``VatId`` on posted bank-voucher lines and
#: allows null there; proposals' ``DebitVatId``/``CreditVatId`` get the same explicit null.
NO_VAT_CODE = None


def _header(settlement: Settlement) -> dict:
    number = settlement.number
    return {
        "VoucherDate": settlement.settled_on.isoformat(),
        "CurrencyCode": "NOK",
        "Description": f"Oppgjør {number} fra {settings.AGENCY_NAME}"[:500],
    }


def proposal_payload(settlement: Settlement, lines: list[ResolvedLine]) -> dict:
    """``JournalEntryVouchers/BankJournals``: single-sided lines, positive amounts."""
    body = _header(settlement)
    body["Comment"] = (
        _(
            "Bilagsforslag fra %(agency)s for oppgjør %(number)s (%(start)s–%(end)s): "
            "%(payout)s utbetales til konto %(account)s. Oppgjørsoppstillingen er vedlagt. "
            "Referanse %(reference)s."
        )
        % {
            "agency": settings.AGENCY_NAME,
            "number": settlement.number,
            "start": settlement.period_start.strftime("%d.%m.%Y"),
            "end": settlement.period_end.strftime("%d.%m.%Y"),
            "payout": format_nok(settlement.payout),
            "account": settlement.payout_account or "–",
            "reference": settlement_reference(settlement),
        }
    )[:1000]
    body["BankJournalLines"] = []
    for line in lines:
        debit = line.side == DEBIT
        row = {
            ("DebitAccountId" if debit else "CreditAccountId"): line.account_id,
            # No VAT code, explicitly (see NO_VAT_CODE).
            ("DebitVatId" if debit else "CreditVatId"): NO_VAT_CODE,
            "CurrencyAmount": line.amount,
            "Description": line.description,
        }
        if line.invoice_no:
            row["InvoiceNo"] = line.invoice_no
        body["BankJournalLines"].append(row)
    return body


def posted_payload(settlement: Settlement, lines: list[ResolvedLine]) -> dict:
    """``Vouchers/BankJournals``: signed amounts (debit +, credit −), our reference."""
    body = _header(settlement)
    body["ExternalImportReference"] = settlement_reference(settlement)
    body["VoucherLines"] = []
    for line in lines:
        row = {
            "AccountId": line.account_id,
            "CurrencyAmount": line.amount if line.side == DEBIT else -line.amount,
            "PostingDate": settlement.settled_on.isoformat(),
            # Required on every line by PowerOffice's spec (nullable): see NO_VAT_CODE.
            "VatId": NO_VAT_CODE,
            "Description": line.description,
        }
        if line.invoice_no:
            row["InvoiceNo"] = line.invoice_no
            if line.cid:
                row["Cid"] = line.cid
        body["VoucherLines"].append(row)
    return body


# --- sending --------------------------------------------------------------------------------


def send_settlement_voucher(client: PowerOfficeClient, message: OutboxMessage) -> str | None:
    """The outbox sender of a ``settlement_voucher`` row (claimed; no transaction open)."""
    settlement = Settlement.objects.select_related("creditor").get(pk=message.settlement_id)
    if settlement.voucher_status in DELIVERED:
        return None
    if settlement.voucher_status == VoucherStatus.MANUAL:
        return Status.SUPERSEDED
    mode = settlement.bookkeeping_mode
    if mode == Mode.UNPOSTED and not settlement.statement_pdf:
        if settlement.created_at > timezone.now() - PDF_WAIT:
            raise Deferred
        raise pogo_errors.ValidationError(
            _("Oppgjørsoppstillingen (PDF) ble ikke laget; bilaget venter på den.")
        )
    connection = PowerOfficeConnection.objects.get(creditor_id=settlement.creditor_id)
    try:
        lines = resolve_lines(client, connection, settlement)
    except VoucherBlocked as blocked:
        text = "\n".join(blocked.problems)
        Settlement.objects.filter(pk=settlement.pk).exclude(voucher_status__in=DELIVERED).update(
            voucher_status=VoucherStatus.BLOCKED, voucher_error=text
        )
        raise pogo_errors.ValidationError(text) from None
    # Resolved: whatever blocked or failed it before is fixed; it is being sent now.
    Settlement.objects.filter(
        pk=settlement.pk, voucher_status__in=[VoucherStatus.BLOCKED, VoucherStatus.FAILED]
    ).update(voucher_status=VoucherStatus.PENDING, voucher_error="")
    if mode == Mode.POSTED:
        _send_posted(client, settlement, lines)
    else:
        _send_proposal(client, message, settlement, lines)
    return None


def settlement_voucher_failed(message: OutboxMessage, error: str) -> None:
    """The outbox gave up on the row: show it on the settlement (a block says so already)."""
    Settlement.objects.filter(
        pk=message.settlement_id, voucher_status=VoucherStatus.PENDING
    ).update(
        voucher_status=VoucherStatus.FAILED,
        voucher_error=_(
            "PowerOffice Go tok ikke imot bilaget: %(error)s Byrået ser på det; bilaget kan "
            "sendes på nytt."
        )
        % {"error": error},
    )


def _send_posted(client, settlement: Settlement, lines: list[ResolvedLine]) -> None:
    try:
        voucher = client.post_bank_journal_voucher(posted_payload(settlement, lines))
        voucher_id = str(voucher.id)
    except pogo_errors.Conflict:
        # Our reference is already there: an earlier attempt posted it.
        voucher_id = settlement.pogo_voucher_id
    _delivered(settlement, VoucherStatus.POSTED, voucher_id=voucher_id)


def _send_proposal(client, message, settlement: Settlement, lines: list[ResolvedLine]) -> None:
    voucher_id = settlement.pogo_voucher_id
    created_now = False
    if not voucher_id:
        tried_at = parse_datetime(message.payload.get("proposal_tried_at") or "")
        if tried_at is not None:
            voucher_id = _find_proposal(client, settlement, since=tried_at - LOOKUP_MARGIN)
        if not voucher_id:
            payload = {**message.payload, "proposal_tried_at": timezone.now().isoformat()}
            OutboxMessage.objects.filter(pk=message.pk).update(payload=payload)
            message.payload = payload
            voucher_id = str(
                client.create_bank_journal_proposal(proposal_payload(settlement, lines)).id
            )
            crash_point("voucher.after_proposal")  # in Go, not yet recorded here
            created_now = True
        # Recorded at once, alone: whatever happens next, a retry never proposes it again.
        with transaction.atomic():
            Settlement.objects.filter(pk=settlement.pk, pogo_voucher_id="").update(
                pogo_voucher_id=voucher_id
            )
        settlement.pogo_voucher_id = voucher_id
    note = ""
    try:
        if created_now or not client.bank_journal_proposal(voucher_id).page_ids:
            with settlement.statement_pdf.open("rb") as pdf:
                content = pdf.read()
            client.add_voucher_page(
                voucher_id, filename=f"oppgjor-{settlement.number}.pdf", content=content
            )
    except pogo_errors.Conflict:
        # The creditor posted the proposal before its page arrived; the voucher stands.
        note = _("Oppgjørsoppstillingen kunne ikke legges ved: bilaget var allerede bokført i Go.")
    _delivered(settlement, VoucherStatus.SENT, voucher_id=voucher_id, note=note)


def _find_proposal(client, settlement: Settlement, *, since) -> str:
    """The proposal an earlier, unanswered attempt may have created: ours, created since
    ``since``, with the settlement number in its description."""
    for item in client.journal_entry_vouchers(created_since=since):
        if item.is_created_by_current_integration is False:
            continue
        try:
            voucher = client.bank_journal_proposal(item.id)
        except pogo_errors.NotFound:  # another voucher type
            continue
        if settlement.number in (voucher.description or ""):
            logger.info("Settlement %s: adopting proposal %s", settlement.pk, voucher.id)
            return str(voucher.id)
    return ""


def _delivered(settlement: Settlement, status: str, *, voucher_id: str, note: str = "") -> None:
    """Record the delivery, then queue the closing status of the settlement's closed cases
    (it waited for this voucher, see :func:`.settlement_wait.case_awaits_settlement_voucher`)."""
    fields = {
        "voucher_status": status,
        "voucher_sent_at": timezone.now(),
        "voucher_error": note,
    }
    if voucher_id:
        fields["pogo_voucher_id"] = voucher_id
    with transaction.atomic():
        Settlement.objects.filter(pk=settlement.pk).update(**fields)
        for case_id in SettlementLine.objects.filter(settlement=settlement).values_list(
            "case_id", flat=True
        ):
            outbox_status(case_id=case_id)


# --- the closing status waits for the voucher -----------------------------------------------


# --- the voucher posted in Go ----------------------------------------------------------------


def settlements_booked_in_go(*, booked: dict[int, dt.datetime]) -> int:
    """Our settlement voucher came back from Go as matched items (the sync's
    ``own_settlement``): it is posted in the creditor's books. ``booked`` maps each such
    settlement to when Go matched the posting (the matched item's ``lastChanged``, else the
    sync's time). Go's v1 matched items name no user, so the booking is PowerOffice Go's (the
    settlement page says so; Go's voucher number is on the matched item).

    A proposal that waited in the voucher inbox (*sent*) becomes *posted*; ``booked_at``
    takes Go's time, also over an earlier «Marker som bokført» (Go's is the fact). Called once
    per settlement: the first echo of its voucher. Returns how many settlements changed."""
    changed = 0
    for settlement_id, when in booked.items():
        with transaction.atomic():
            Settlement.objects.filter(pk=settlement_id, voucher_status=VoucherStatus.SENT).update(
                voucher_status=VoucherStatus.POSTED
            )
            changed += Settlement.objects.filter(pk=settlement_id).update(booked_at=when)
    return changed
