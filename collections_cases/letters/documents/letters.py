"""Letters to the debtor as PDF: inkassovarsel, betalingsoppfordring, varsel om rettslig
inndriving, the new betalingsoppfordring and the statement of what is left after a payment
(Typst templates in ``templates/letters/``: one per kind, shared parts in ``_letter.typ``).

:func:`letter_render` is pure: it draws the letter from what the dunning run recorded on the
:class:`~collections_cases.models.Letter` (its date, deadline, fee and ``amounts``) plus the
case, debtor, creditor and the agency settings — never from today's ledger. :func:`letter_pdf`
renders once, stores the file on ``letter.pdf`` and from then on answers the stored bytes, so
the document a debtor received never changes. The first letter of a case carries the original
invoice(s) from PowerOffice Go when the creditor asked for it.

What a letter says is true as of the moment it was recorded (``letter.created_at``):

* The amounts are what is left per component: the principal outstanding (``amounts
  ["principal"]``; labelled «Hovedstol som gjenstår», with the original principal beside it,
  when part of it was paid, credited or paid directly), and the interest, fees and salær
  booked less the parts of earlier payments that covered them.
* Every earlier payment with its split (fees, salær, interest, principal): the
  :class:`~collections_cases.models.PaymentAllocation` rows written before the letter, of
  payments not reversed; credit notes and direct payments to the creditor beside them.
* Forsinkelsesrente one line per period with its own rate or base (dates, base, rate, amount),
  from :func:`collections_cases.ledger.interest.interest_periods` up to the letter's date
  with what was known when the letter was recorded, and the total interest booked.
* The Min side box prints the letter's own access code (issued when the PDF is first
  rendered, stored only as an HMAC) and says in one sentence how to log in; the KID is the
  payment reference only.
* The varsel om rettslig inndriving says the creditor *may* ask for enforcement, unless the
  creditor approved legal steps before the letter was recorded (``case.legal_approved_at``):
  only then does it say enforcement will be requested without further notice.

Nothing here builds markup: the wording lives in the templates (``_letter.typ``'s partials:
the amounts, interest, earlier payments, enforcement warning, payment box, Min side; each
kind's own text in its template). :func:`letter_data` hands them plain strings as JSON.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.dateparse import parse_date

from collections_cases import rules
from collections_cases.cases.selectors import PRINCIPAL_KINDS
from collections_cases.ledger.interest import (
    INTEREST_KINDS,
    REDUCTION_KINDS,
    InvoiceInterest,
    interest_facts_from_rows,
    interest_periods,
)
from collections_cases.letters.documents import formatting as fmt
from collections_cases.letters.documents.rendering import pdf_merge, typst_to_pdf
from collections_cases.models import (
    Invoice,
    LedgerEntry,
    LedgerKind,
    Letter,
    Payment,
    PaymentAllocation,
    PortalAccess,
)
from kravia_web.money import to_ore

logger = logging.getLogger(__name__)

Kind = Letter.Kind

#: One Typst template per kind in ``templates/letters/`` (shared parts in ``_letter.typ``).
TEMPLATES = {
    Kind.INKASSOVARSEL: "inkassovarsel.typ",
    Kind.BETALINGSOPPFORDRING: "betalingsoppfordring.typ",
    Kind.VARSEL_RETTSLIG: "varsel_rettslig.typ",
    Kind.NEW_BETALINGSOPPFORDRING: "new_betalingsoppfordring.typ",
    Kind.REMAINDER_STATEMENT: "remainder_statement.typ",
}

#: File name stems, e.g. ``inkassovarsel-K-2026-000001.pdf``.
FILE_STEMS = {
    Kind.INKASSOVARSEL: "inkassovarsel",
    Kind.BETALINGSOPPFORDRING: "betalingsoppfordring",
    Kind.VARSEL_RETTSLIG: "varsel-om-rettslig-inndriving",
    Kind.NEW_BETALINGSOPPFORDRING: "ny-betalingsoppfordring",
    Kind.REMAINDER_STATEMENT: "oppgave-over-restbelop",
}

#: Finansklagenemnda (INKL § 10 f): where a debtor can complain about the agency.
FINANSKLAGENEMNDA = {
    "name": "Finansklagenemnda",
    "address": "Postboks 53 Skøyen, 0212 Oslo",
    "website": "www.finkn.no",
}

ZERO = Decimal("0.00")


def letter_filename(letter: Letter) -> str:
    return f"{FILE_STEMS.get(letter.kind, letter.kind)}-{letter.case.number}.pdf"


def _decimal(amounts: dict, key: str) -> Decimal:
    try:
        return Decimal(str(amounts.get(key) or "0"))
    except ArithmeticError:
        return ZERO


def _known_at(letter: Letter) -> datetime:
    """The moment the letter's view of the case was taken: when it was recorded."""
    return letter.created_at or timezone.now()


# --- what a letter reads ----------------------------------------------------------------------

#: The ledger kinds a letter reads: the principal, the interest booked, the credits.
LETTER_LEDGER_KINDS = tuple(
    dict.fromkeys(
        (
            LedgerKind.PRINCIPAL,
            *INTEREST_KINDS,
            *REDUCTION_KINDS,
            *PRINCIPAL_KINDS,
        )
    )
)


@dataclass
class LetterRecords:
    """What a letter prints from the case's records as known when it was recorded
    (:func:`_known_at`), read in three queries and shared by every part of the letter."""

    #: The case's invoices by number.
    invoices: list
    #: ``(id, invoice_id, kind, amount, booked_on)`` of the ledger entries of
    #: :data:`LETTER_LEDGER_KINDS`, by ``booked_on, id``.
    entries: list[tuple]
    #: ``(payment_id, paid_on, payment_amount, component, amount)`` of the allocations of
    #: payments not reversed, by ``paid_on, payment_id, id``.
    allocations: list[tuple]


#: Where :func:`letters_prefetch` leaves a letter's records and whether it is its case's first.
_RECORDS_ATTR = "_prefetched_letter_records"
_FIRST_ATTR = "_prefetched_letter_is_first"


def letter_records(letter: Letter) -> LetterRecords:
    """What ``letter`` prints from its case's records (read now, or by :func:`letters_prefetch`)."""
    records = getattr(letter, _RECORDS_ATTR, None)
    if records is None:
        records = letter_records_many([letter])[letter.pk]
    return records


def letter_records_many(letters: Sequence[Letter]) -> dict[int, LetterRecords]:
    """:class:`LetterRecords` of each of ``letters`` by its id, in three queries for them all:
    each letter gets its own case's rows written up to its own :func:`_known_at`."""
    if not letters:
        return {}
    case_ids = {letter.case_id for letter in letters}
    latest = max(_known_at(letter) for letter in letters)
    entries = defaultdict(list)
    for case_id, created_at, *row in (
        LedgerEntry.objects.filter(
            case_id__in=case_ids, kind__in=LETTER_LEDGER_KINDS, created_at__lte=latest
        )
        .order_by("booked_on", "id")
        .values_list("case_id", "created_at", "id", "invoice_id", "kind", "amount", "booked_on")
    ):
        entries[case_id].append((created_at, tuple(row)))
    allocations = defaultdict(list)
    for case_id, created_at, *row in (
        PaymentAllocation.objects.filter(case_id__in=case_ids, created_at__lte=latest)
        .exclude(payment__status=Payment.Status.REVERSED)
        .order_by("payment__paid_on", "payment_id", "id")
        .values_list(
            "case_id",
            "created_at",
            "payment_id",
            "payment__paid_on",
            "payment__amount",
            "component",
            "amount",
        )
    ):
        allocations[case_id].append((created_at, tuple(row)))
    invoices = defaultdict(list)
    for invoice in Invoice.objects.filter(case_id__in=case_ids).order_by("invoice_no", "id"):
        invoices[invoice.case_id].append(invoice)
    records = {}
    for letter in letters:
        known_at = _known_at(letter)
        records[letter.pk] = LetterRecords(
            invoices=invoices[letter.case_id],
            entries=[row for at, row in entries[letter.case_id] if at <= known_at],
            allocations=[row for at, row in allocations[letter.case_id] if at <= known_at],
        )
    return records


def letters_prefetch(letters: Sequence[Letter]) -> None:
    """Read what drawing each of ``letters`` needs for them all at once (a delivery chunk's:
    three queries for the records, one for which are their case's first letter), instead of
    four queries a letter; :func:`letter_render` and :func:`letter_document` then use it."""
    by_id = letter_records_many(letters)
    first_of = {}
    case_ids = {letter.case_id for letter in letters}
    for case_id, letter_id in (
        Letter.objects.filter(case_id__in=case_ids)
        .order_by("case_id", "sent_on", "id")
        .values_list("case_id", "pk")
    ):
        first_of.setdefault(case_id, letter_id)
    for letter in letters:
        setattr(letter, _RECORDS_ATTR, by_id[letter.pk])
        setattr(letter, _FIRST_ATTR, first_of.get(letter.case_id) == letter.pk)


# --- earlier payments -----------------------------------------------------------------------

Component = PaymentAllocation.Component
#: The components of a payment's split, in the order the letters print them.
SPLIT_COMPONENTS = (Component.FEE, Component.SALAER, Component.INTEREST, Component.PRINCIPAL)
#: Credits to the principal that are not payments to the agency (shown beside the payments).
OTHER_PRINCIPAL_CREDITS = tuple(kind for kind in PRINCIPAL_KINDS if kind != LedgerKind.PRINCIPAL)


@dataclass
class PaymentSplit:
    """One earlier payment (or a credit to the principal) and how it was split."""

    on: date
    what: str
    amount: Decimal
    parts: dict[str, Decimal] = field(default_factory=dict)
    payment_id: int | None = None

    def row(self) -> dict:
        return {
            "date": fmt.day(self.on),
            "what": self.what,
            "amount": fmt.amount(self.amount),
            "payment_id": self.payment_id,
            **{
                str(component): fmt.amount(self.parts[component])
                if self.parts.get(component)
                else ""
                for component in (*SPLIT_COMPONENTS, Component.OVERPAYMENT)
            },
        }


def earlier_payments(letter: Letter, records: LetterRecords | None = None) -> list[PaymentSplit]:
    """The payments allocated on the case before the letter was recorded (not reversed), each
    with its split, and the credit notes and direct payments to the creditor, by date."""
    if records is None:
        records = letter_records(letter)
    splits: dict[int, PaymentSplit] = {}
    for payment_id, paid_on, payment_amount, component, amount in records.allocations:
        split = splits.get(payment_id)
        if split is None:
            split = splits[payment_id] = PaymentSplit(
                on=paid_on,
                what="Innbetaling",
                amount=payment_amount,
                payment_id=payment_id,
            )
        split.parts[component] = split.parts.get(component, ZERO) + amount
    rows = list(splits.values())
    labels = dict(LedgerKind.choices)
    for _id, _invoice_id, kind, entry_amount, booked_on in records.entries:
        if kind not in OTHER_PRINCIPAL_CREDITS:
            continue
        amount = -entry_amount
        rows.append(
            PaymentSplit(
                on=booked_on,
                what=str(labels.get(kind, kind)),
                amount=amount,
                parts={Component.PRINCIPAL: amount},
            )
        )
    rows.sort(key=lambda split: (split.on, split.payment_id is None, split.payment_id or 0))
    return rows


def _paid_by_component(splits: list[PaymentSplit]) -> dict[str, Decimal]:
    """What the payments to the agency covered, per component (credits to the principal are
    already in the recorded principal)."""
    paid = dict.fromkeys((str(c) for c in SPLIT_COMPONENTS), ZERO)
    for split in splits:
        if split.payment_id is None:
            continue
        for component in SPLIT_COMPONENTS:
            paid[str(component)] += split.parts.get(component, ZERO)
    return paid


# --- amounts --------------------------------------------------------------------------------


def _principal_original(letter: Letter, records: LetterRecords | None = None) -> Decimal:
    """The principal before anything was paid or credited: recorded on the letter when the
    snapshot has it, else the case's principal entries as known when the letter was made."""
    amounts = letter.amounts or {}
    if "principal_original" in amounts:
        return _decimal(amounts, "principal_original")
    if records is None:
        records = letter_records(letter)
    principal = [row[3] for row in records.entries if row[2] == LedgerKind.PRINCIPAL]
    return to_ore(sum(principal, start=ZERO) if principal else 0)


def _amount_lines(
    letter: Letter, paid: dict[str, Decimal] | None = None, original: Decimal | None = None
) -> tuple[list[dict], Decimal]:
    """What is left to pay per component as recorded on the letter, and its total.

    The principal is the recorded principal outstanding; interest, fees and salær are the
    recorded amounts booked less what earlier payments (``paid``, per component) covered.
    A difference to the recorded total (a write-off, a reduction) is a line of its own.
    """
    amounts = letter.amounts or {}
    paid = paid or {}
    principal = _decimal(amounts, "principal")
    interest = _decimal(amounts, "interest") - paid.get("interest", ZERO)
    fees = _decimal(amounts, "fees") - paid.get("fee", ZERO)
    salaer = _decimal(amounts, "salaer") - paid.get("salaer", ZERO)
    total = _decimal(amounts, "total") if "total" in amounts else None
    fee_label = "Gebyr for inkassovarsel" if letter.kind == Kind.INKASSOVARSEL else "Gebyrer"
    if original is None:
        original = _principal_original(letter)
    principal_label = (
        "Hovedstol som gjenstår" if original and original != principal else "Hovedstol"
    )
    rows = [
        ("principal", principal_label, principal),
        ("interest", "Forsinkelsesrente", interest),
        ("fees", fee_label, fees),
        ("salaer", "Inkassosalær", salaer),
    ]
    lines = [
        {"key": key, "label": label, "amount": value, "display": fmt.amount(value)}
        for key, label, value in rows
        if value or key == "principal"
    ]
    shown = principal + interest + fees + salaer
    if total is None:
        total = shown
    elif total != shown:
        other = total - shown
        lines.append(
            {
                "key": "other",
                "label": "Andre tillegg og fradrag",
                "amount": other,
                "display": fmt.amount(other),
            }
        )
    return lines, total


# --- interest -------------------------------------------------------------------------------


def letter_interest_facts(records: LetterRecords) -> list[InvoiceInterest]:
    """The case's interest facts (:func:`~collections_cases.ledger.interest.case_interest_facts`)
    as known when the letter was recorded, from what the letter read."""
    return interest_facts_from_rows(
        records.invoices,
        [(invoice_id, kind, amount, on) for _id, invoice_id, kind, amount, on in records.entries],
        [
            (paid_on, amount)
            for _pid, paid_on, _total, component, amount in records.allocations
            if component == Component.PRINCIPAL
        ],
    )


def interest_lines(letter: Letter, records: LetterRecords | None = None) -> list[dict]:
    """One line per invoice and period with its own rate or base, from the invoice's due
    date up to the letter's date, as known when the letter was recorded."""
    if records is None:
        records = letter_records(letter)
    lines = []
    for invoice, periods in interest_periods(
        letter.case,
        until=letter.sent_on,
        known_at=_known_at(letter),
        facts=letter_interest_facts(records),
    ):
        for period in periods:
            amount = rules.round_ore(period.exact)
            lines.append(
                {
                    "invoice": invoice.invoice_no,
                    "first": fmt.day(period.first),
                    "last": fmt.day(period.last),
                    "days": period.days,
                    "base": fmt.amount(period.base),
                    "rate": fmt.percent(period.rate),
                    "amount": fmt.amount(amount),
                    "value": amount,
                }
            )
    return lines


def _interest(
    letter: Letter, booked: Decimal, invoice_count: int, records: LetterRecords | None = None
) -> dict:
    """The interest section: its period lines and the total booked (``booked``)."""
    if booked <= 0:
        return {"charged": False, "show": False, "lines": [], "total": fmt.amount(booked)}
    lines = interest_lines(letter, records)
    return {
        "charged": True,
        "show": bool(lines),
        "lines": lines,
        "per_invoice": invoice_count > 1,
        "total": fmt.amount(booked),
        "rounded_apart": sum((line["value"] for line in lines), start=ZERO) != booked,
        "until": fmt.day(letter.sent_on),
    }


def legal_steps_pre_approved(letter: Letter) -> bool:
    """Whether the creditor approved legal steps before the letter was recorded: only then
    may a varsel om rettslig inndriving say they will be taken without further notice.
    (Creditors have no standing pre-approval setting; the case's approval is the only one.)"""
    approved_at = letter.case.legal_approved_at
    return approved_at is not None and approved_at <= _known_at(letter)


def _invoices(letter: Letter, records: LetterRecords | None = None) -> list[dict]:
    if records is None:
        records = letter_records(letter)
    rows = []
    for invoice in records.invoices:
        rows.append(
            {
                "number": invoice.invoice_no,
                "date": fmt.day(invoice.invoice_date),
                "due_date": fmt.day(invoice.due_date),
                "amount": fmt.amount(invoice.total_amount),
            }
        )
    return rows


def _statement_payment(letter: Letter, splits: list[PaymentSplit]) -> dict | None:
    """The payment an «Oppgave over restbeløp» is about, with its split."""
    payment_id = (letter.amounts or {}).get("payment_id")
    for split in splits:
        if split.payment_id is not None and split.payment_id == payment_id:
            row = split.row()
            row["parts"] = [
                {"label": str(component.label), "amount": fmt.amount(split.parts[component])}
                for component in (*SPLIT_COMPONENTS, Component.OVERPAYMENT)
                if split.parts.get(component)
            ]
            return row
    return None


def letter_context(letter: Letter) -> dict:
    case = letter.case
    amounts = letter.amounts or {}
    records = letter_records(letter)
    splits = earlier_payments(letter, records)
    paid = _paid_by_component(splits)
    original = _principal_original(letter, records)
    lines, total = _amount_lines(letter, paid, original)
    invoices = _invoices(letter, records)
    principal = _decimal(amounts, "principal")
    interest_from = parse_date(str(amounts.get("interest_from") or ""))
    is_bo = letter.kind in (Kind.BETALINGSOPPFORDRING, Kind.NEW_BETALINGSOPPFORDRING)
    statement_payment = _statement_payment(letter, splits)
    return {
        "letter": letter,
        "kind": letter.kind,
        "is_bo": is_bo,
        "case": case,
        "debtor": case.debtor,
        "creditor": case.creditor,
        "agency": fmt.agency(),
        "sent_on": fmt.day(letter.sent_on),
        "deadline": fmt.day(letter.deadline),
        "fee": fmt.amount(letter.fee),
        "invoices": invoices,
        "lines": lines,
        "total": fmt.amount(total),
        "principal_original": fmt.amount(original) if original and original != principal else "",
        "principal_left": principal > 0,
        "interest": _interest(letter, _decimal(amounts, "interest"), len(invoices), records),
        "earlier_payments": [split.row() for split in splits],
        "has_overpayment": any(split.parts.get(Component.OVERPAYMENT) for split in splits),
        # The table of earlier payments, unless its one row is the statement's own payment.
        "show_earlier_payments": bool(splits)
        and not (statement_payment is not None and len(splits) == 1),
        "statement_payment": statement_payment,
        "legal_pre_approved": legal_steps_pre_approved(letter),
        "has_interest_rate": "interest_rate" in amounts,
        "interest_rate": fmt.percent(amounts.get("interest_rate")),
        "interest_from": fmt.day(interest_from),
        "kid": case.kid,
        "min_side_url": fmt.min_side_url(),
        "nemnd": FINANSKLAGENEMNDA,
        "title": letter.get_kind_display(),
    }


def _recipient_lines(debtor) -> list[str]:
    """The window envelope's address lines under the debtor's name."""
    lines = []
    if debtor.address_line:
        lines.append(debtor.address_line)
    if debtor.postal_code or debtor.postal_city:
        lines.append(f"{debtor.postal_code} {debtor.postal_city}".strip())
    if debtor.country_code and debtor.country_code != "NO":
        lines.append(debtor.country_code)
    return lines


def letter_data(context: dict) -> dict:
    """What the Typst templates print, as JSON-ready strings, lists and flags (from
    :func:`letter_context`): the templates never see a model."""
    case, debtor, creditor = context["case"], context["debtor"], context["creditor"]
    meta = [
        ("Dato", context["sent_on"]),
        ("Saksnummer", case.number),
        ("KID", context["kid"]),
        ("Kreditor", creditor.name),
    ]
    if context["deadline"]:
        meta.append(("Betalingsfrist", context["deadline"]))
    interest = {
        key: value
        for key, value in context["interest"].items()
        if key != "lines"  # each line's Decimal "value" stays in Python
    }
    interest["lines"] = [
        {key: str(value) for key, value in line.items() if key != "value"}
        for line in context["interest"]["lines"]
    ]
    interest.setdefault("per_invoice", False)
    interest.setdefault("rounded_apart", False)
    interest.setdefault("until", "")
    return {
        "title": str(context["title"]),
        "case_number": case.number,
        "kid": context["kid"],
        "agency": context["agency"],
        "creditor": {"name": creditor.name, "org_number": creditor.org_number},
        "recipient": {"name": debtor.name, "lines": _recipient_lines(debtor)},
        "meta": meta,
        "sent_on": context["sent_on"],
        "deadline": context["deadline"],
        "fee": context["fee"],
        "has_fee": bool(context["letter"].fee),
        "invoices": [
            {key: str(value) for key, value in invoice.items()} for invoice in context["invoices"]
        ],
        "lines": [
            {"label": line["label"], "display": line["display"]} for line in context["lines"]
        ],
        "total": context["total"],
        "principal_original": context["principal_original"],
        "principal_left": context["principal_left"],
        "interest": interest,
        "earlier_payments": context["earlier_payments"],
        "has_overpayment": bool(context["has_overpayment"]),
        "show_earlier_payments": context["show_earlier_payments"],
        "statement_payment": context["statement_payment"],
        "legal_pre_approved": context["legal_pre_approved"],
        "has_interest_rate": context["has_interest_rate"],
        "interest_rate": context["interest_rate"],
        "interest_from": context["interest_from"],
        "min_side_url": context["min_side_url"],
        "nemnd": context["nemnd"],
        "access_code": context.get("access_code", ""),
    }


def letter_render(letter: Letter, *, access_code: str = "") -> bytes:
    """The letter as PDF, drawn from its recorded amounts and dates (no attachment).
    ``access_code`` is the Min side code to print (plaintext, never stored); without it the
    Min side box only says how to log in."""
    from collections_cases.portal.access import code_display

    template = TEMPLATES.get(letter.kind)
    if template is None:
        raise ValueError(f"No letter template for kind {letter.kind!r}")
    context = letter_context(letter)
    context["access_code"] = code_display(access_code) if access_code else ""
    return typst_to_pdf(template, letter_data(context))


def letter_document(letter: Letter, *, access_code: str) -> bytes:
    """The letter with ``access_code`` printed and the original invoices behind it (the case's
    first letter, when the creditor wants them): what the debtor receives."""
    data = letter_render(letter, access_code=access_code)
    attachments = _attachments(letter)
    if attachments:
        data = pdf_merge(data, attachments)
    return data


def letter_is_first(letter: Letter) -> bool:
    """Whether ``letter`` is its case's first (by date, then id)."""
    prefetched = getattr(letter, _FIRST_ATTR, None)
    if prefetched is not None:
        return prefetched
    first = letter.case.letters.order_by("sent_on", "id").values_list("pk", flat=True).first()
    return first == letter.pk


def _attachments(letter: Letter) -> list[bytes]:
    """The original invoices for the case's first letter (when the creditor wants them)."""
    if not letter.case.creditor.attach_original_invoice or not letter_is_first(letter):
        return []
    from integrations.services.invoice_pdf import invoice_original_pdfs

    records = getattr(letter, _RECORDS_ATTR, None)
    originals = invoice_original_pdfs(
        invoices=records.invoices
        if records is not None
        else letter.case.invoices.order_by("invoice_no", "id"),
        creditor=letter.case.creditor,
    )
    return [data for data in originals if data]


#: Delivery statuses (``letter.deliveries``) after which the letter has left the agency.
SENT_DELIVERY_STATUSES = ("sending", "sent", "print_queued", "posted", "bounced")


def letter_is_sent(letter: Letter) -> bool:
    """Whether the letter was handed to the debtor's channel (its document is then final)."""
    if letter.status != Letter.Status.RECORDED:
        return True
    deliveries = getattr(letter, "deliveries", None)
    if deliveries is None:
        return False
    return deliveries.filter(status__in=SENT_DELIVERY_STATUSES).exists()


def _read_stored(letter: Letter) -> bytes | None:
    if not letter.pdf:
        return None
    try:
        with letter.pdf.open("rb") as handle:
            return handle.read()
    except OSError:
        logger.exception("Letter %s: stored PDF %s is unreadable", letter.pk, letter.pdf.name)
        return None


def letter_pdf(letter: Letter, *, rerender: bool = False) -> bytes:
    """The letter's PDF: :func:`letter_pdf_issued` without the access."""
    return letter_pdf_issued(letter, rerender=rerender)[0]


def letter_pdf_issued(
    letter: Letter, *, rerender: bool = False
) -> tuple[bytes, PortalAccess | None]:
    """The letter's PDF: the stored one, or rendered now (with the original invoices on the
    case's first letter) and stored. Call it outside a database transaction (it may fetch the
    original invoice from PowerOffice Go).

    ``rerender=True`` throws the stored PDF away and renders again — only for a letter not yet
    sent (:func:`letter_is_sent`), e.g. to try the original invoice once more after
    PowerOffice Go was unavailable; a sent letter raises ``ValueError``.

    The first render issues the letter's Min side access code
    (:func:`collections_cases.portal.access.access_issue`) and prints it; the stored PDF is
    the copy the first delivery sends. A re-render replaces the letter's code.

    Returns the PDF and, when this call drew and stored it, the
    :class:`~collections_cases.models.PortalAccess` of the code it printed (``None`` when the
    PDF was stored already: its code is then ``portal.access.letter_access``).
    """
    if rerender:
        if letter_is_sent(letter):
            raise ValueError("Only a letter not yet sent can be rendered again")
        if letter.pdf:
            old = letter.pdf.name
            Letter.objects.filter(pk=letter.pk).update(pdf="", rendered_at=None)
            letter.pdf.storage.delete(old)
            letter.pdf.name = ""
            letter.rendered_at = None
    else:
        stored = _read_stored(letter)
        if stored is not None:
            return stored, None

    # The letter's Min side code: issued now, printed on this render, only its HMAC stored
    # (collections_cases.portal.access). A render that is thrown away discards its code.
    from collections_cases.portal import access as portal_access

    issued = portal_access.access_issue(
        case=letter.case, letter=letter, replaces_letter_codes=rerender
    )
    try:
        data = letter_document(letter, access_code=issued.code)
    except BaseException:
        portal_access.access_discard(issued.access)
        raise

    field = letter.pdf.field
    name = field.storage.save(
        field.generate_filename(letter, letter_filename(letter)), ContentFile(data)
    )
    rendered_at = timezone.now()
    # Only the first render to finish is kept: a concurrent one answers the stored bytes.
    updated = Letter.objects.filter(pk=letter.pk, pdf="").update(pdf=name, rendered_at=rendered_at)
    if not updated:
        portal_access.access_discard(issued.access)
        field.storage.delete(name)
        letter.refresh_from_db(fields=["pdf", "rendered_at"])
        return _read_stored(letter) or data, None
    letter.pdf.name = name
    letter.rendered_at = rendered_at
    return data, issued.access
