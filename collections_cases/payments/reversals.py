"""Payments the bank reversed (reference §6: not every entry is money in).

A reversal takes money back from the client account: camt.054 ``RvslInd=true`` or a debit
taking back a KID credit, OCR giro transaction types 18 and 20. It is matched to the payment
it reverses — by the bank's reference when the file names it, else by KID and amount — and
:func:`payment_reverse` undoes that payment:

* each allocation gets a ``payment_reversal`` ledger entry of its amount (linked as the
  allocation's ``reversal_entry``, so ``case_outstanding_by_component`` gives it back to the
  same component); an overpayment's ``refund_due`` is cancelled by a ``refund_cancelled``
  credit. The case balance is exactly what it was before the payment;
* the payment's status becomes *reversed*: its allocations are never settled, and the
  interest code no longer counts its principal as paid;
* a case this payment closed as paid is reopened, so dunning continues;
* when the money was already paid out to the creditor, a :class:`SettlementClaim` deducts the
  creditor's share from the next payout (shown on that statement and in the admin).

A reversal that matches no payment, or one that cannot be undone automatically (a different
amount, an overpayment already refunded), waits in the admin for a case handler
(*Tilbakeførte innbetalinger*), never silently skipped. ``PaymentReversal.external_reference``
is unique: the same reversal imported twice undoes nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from collections_cases import rules
from collections_cases.cases import changes
from collections_cases.cases import services as case_services
from collections_cases.cases.selectors import case_balance
from collections_cases.models import (
    CaseEvent,
    CollectionCase,
    LedgerEntry,
    Payment,
    PaymentAllocation,
    PaymentReversal,
    SettlementClaim,
    SettlementLine,
)
from collections_cases.payments.parsers import ParsedPayment
from creditors.models import Creditor
from kravia_web.errors import ApplicationError
from kravia_web.money import format_nok, to_ore

Kind = LedgerEntry.Kind
Component = PaymentAllocation.Component
ZERO = Decimal("0.00")
#: Payments a reversal may take back (a queued payment too: it was money in all the same).
REVERSIBLE = (
    Payment.Status.ALLOCATED,
    Payment.Status.REFUNDED,
    Payment.Status.UNMATCHED,
    Payment.Status.AMBIGUOUS,
    Payment.Status.MATCHED,
)


def _user(actor):
    return actor if actor is not None and not isinstance(actor, str) else None


# --- matching ------------------------------------------------------------------------------


def reversal_find_payment(
    *, references: tuple[str, ...], kid: str, amount: Decimal, on: date
) -> tuple[Payment | None, str]:
    """The payment a reversal takes back: the one imported under one of ``references``;
    else the one with that KID and exactly that amount, paid on or before ``on``. Several of
    those on the same case are the same money to the case, so the latest is taken; on
    different cases nothing is guessed. ``(None, note)`` when there is no single one."""
    if references:
        payment = Payment.objects.filter(external_reference__in=references).first()
        if payment is not None:
            return payment, ""
    kid = (kid or "").replace(" ", "")
    if not kid:
        return None, _("Tilbakeføringen har ingen KID eller referanse til en innbetaling.")
    candidates = list(
        Payment.objects.filter(
            kid=kid, amount=amount, paid_on__lte=on, status__in=REVERSIBLE
        ).order_by("-paid_on", "-id")
    )
    if not candidates:
        return None, _("Ingen innbetaling med KID %(kid)s og beløp %(amount)s å tilbakeføre.") % {
            "kid": kid,
            "amount": format_nok(amount),
        }
    if (
        len({p.case_id for p in candidates}) > 1
        or candidates[0].case_id is None
        and len(candidates) > 1
    ):
        return None, _(
            "Flere innbetalinger med KID %(kid)s og beløp %(amount)s på ulike saker; velg den "
            "som er tilbakeført."
        ) % {"kid": kid, "amount": format_nok(amount)}
    return candidates[0], ""


def reversal_import(*, item: ParsedPayment, source: str, batch=None) -> PaymentReversal:
    """One reversal from a bank file: undone when it matches a payment, else queued."""
    details = {
        "amount": item.amount,
        "source": source,
        "kid": item.kid,
        "payer_name": item.payer_name,
        "payer_reference": item.payer_reference,
        "original_reference": ", ".join(item.reverses)[:200],
        "import_batch": batch,
    }
    payment, note = reversal_find_payment(
        references=item.reverses, kid=item.kid, amount=item.amount, on=item.paid_on
    )
    if payment is None:
        return reversal_queue(
            reference=item.external_reference, reversed_on=item.paid_on, note=note, **details
        )
    return payment_reverse(
        payment=payment, reversed_on=item.paid_on, reference=item.external_reference, **details
    )


def reversal_queue(*, reference: str, reversed_on: date, note: str, **details) -> PaymentReversal:
    """Record a reversal for a case handler (admin → *Tilbakeførte innbetalinger*)."""
    reversal, _created = PaymentReversal.objects.get_or_create(
        external_reference=reference[:200],
        defaults={
            "reversed_on": reversed_on,
            "status": PaymentReversal.Status.UNMATCHED,
            "note": note[:300],
            **details,
        },
    )
    if reversal.status == PaymentReversal.Status.UNMATCHED and reversal.note != note[:300]:
        reversal.note = note[:300]
        reversal.save(update_fields=["note"])
    return reversal


# --- undoing a payment ---------------------------------------------------------------------


def payment_reverse(
    *,
    payment: Payment,
    reversed_on: date,
    reference: str,
    actor=None,
    amount: Decimal | None = None,
    source: str = Payment.Source.MANUAL,
    **details,
) -> PaymentReversal:
    """Undo ``payment`` because the bank reversed it (see the module docstring). Returns the
    :class:`PaymentReversal` recorded under ``reference`` (the reversal's own bank
    reference): status *reversed*, or *unmatched* with a note when it cannot be undone
    automatically. Idempotent: a reference already reversed returns its record unchanged."""
    reference = (reference or "").strip()[:200]
    if not reference:
        raise ApplicationError(_("Oppgi bankens referanse for tilbakeføringen."))
    amount = to_ore(Decimal(amount if amount is not None else payment.amount))
    with transaction.atomic():
        existing = (
            PaymentReversal.objects.select_for_update().filter(external_reference=reference).first()
        )
        if existing is not None and existing.status != PaymentReversal.Status.UNMATCHED:
            return existing
        case = None
        case_id = Payment.objects.values_list("case_id", flat=True).get(pk=payment.pk)
        if case_id is not None:
            # The case first, then the payment: the order payment_allocate locks them in.
            case = case_services.case_lock(case_id=case_id)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        fields = {
            "reversed_on": reversed_on,
            "amount": amount,
            "source": source,
            "payment": payment,
            **{k: v for k, v in details.items() if v is not None},
        }
        reversal = existing or PaymentReversal(external_reference=reference)
        for name, value in fields.items():
            setattr(reversal, name, value)
        reversal.kid = reversal.kid or payment.kid
        reversal.handled_by = _user(actor) or reversal.handled_by

        problem = _why_not_automatic(payment, amount)
        if problem:
            reversal.status = PaymentReversal.Status.UNMATCHED
            reversal.note = problem[:300]
            reversal.save()
            return reversal

        allocations = list(
            PaymentAllocation.objects.select_for_update()
            .filter(payment=payment, reversal_entry__isnull=True)
            .order_by("id")
        )
        parts = _undo_allocations(payment, allocations, reversed_on, actor)
        payment.status = Payment.Status.REVERSED
        payment.save(update_fields=["status"])
        reversal.status = PaymentReversal.Status.REVERSED
        reversal.note = ""
        reversal.save()
        if case is None:
            return reversal  # never allocated: it only leaves the queue

        claim = _settlement_claim(reversal, case, [a for a in allocations if a.settlement_line_id])
        message = _("Innbetaling %(amount)s fra %(paid_on)s er tilbakeført av banken.") % {
            "amount": format_nok(payment.amount),
            "paid_on": payment.paid_on.strftime("%d.%m.%Y"),
        }
        if parts:
            message += " " + _("Fordelingen er opphevet: %(split)s.") % {
                "split": ", ".join(
                    f"{Component(c).label.lower()} {format_nok(a)}" for c, a in parts.items()
                )
            }
        if claim is not None:
            message += " " + _(
                "Beløpet var utbetalt til kreditor; %(amount)s trekkes i neste utbetaling."
            ) % {"amount": format_nok(claim.amount)}
        changes.record_event(
            case,
            kind=CaseEvent.Kind.PAYMENT_REVERSED,
            actor=actor,
            message=message,
            data={
                "payment_id": payment.pk,
                "reversal_id": reversal.pk,
                "amount": str(payment.amount),
                "reversed_on": reversed_on.isoformat(),
                "allocations": {c: str(a) for c, a in parts.items()},
                "settlement_claim": str(claim.amount) if claim is not None else None,
            },
        )
        case.refresh_from_db()
        if (
            case.status == CollectionCase.Status.CLOSED
            and case.close_reason == CollectionCase.CloseReason.PAID
            and case_balance(case) > 0
        ):
            case_services.case_reopen(
                case=case,
                actor=actor,
                reason=_("innbetalingen som gjorde saken betalt, er tilbakeført av banken"),
            )
    return reversal


def _why_not_automatic(payment: Payment, amount: Decimal) -> str:
    if payment.status == Payment.Status.REVERSED:
        return _("Innbetalingen er allerede tilbakeført.")
    if amount != to_ore(payment.amount):
        return _(
            "Tilbakeføringen (%(amount)s) er ikke lik innbetalingen (%(paid)s); behandles manuelt."
        ) % {"amount": format_nok(amount), "paid": format_nok(payment.amount)}
    if payment.status == Payment.Status.REFUNDED:
        return _(
            "Overbetalingen er allerede tilbakebetalt skyldner; tilbakeføringen behandles manuelt."
        )
    return ""


def _undo_allocations(payment, allocations, reversed_on: date, actor) -> dict[str, Decimal]:
    """One ``payment_reversal`` entry per allocation (and a ``refund_cancelled`` credit per
    overpayment): the balance returns to what it was before the payment."""
    parts: dict[str, Decimal] = defaultdict(lambda: ZERO)
    user = _user(actor)
    for allocation in allocations:
        label = Component(allocation.component).label
        entry = LedgerEntry.objects.create(
            case_id=allocation.case_id,
            kind=Kind.PAYMENT_REVERSAL,
            amount=allocation.amount,
            booked_on=reversed_on,
            description=(
                _("Tilbakeført innbetaling %(ref)s: %(label)s")
                % {"ref": payment.pk, "label": label}
            )[:200],
            created_by=user,
        )
        if allocation.component == Component.OVERPAYMENT:
            LedgerEntry.objects.create(
                case_id=allocation.case_id,
                kind=Kind.REFUND_CANCELLED,
                amount=-allocation.amount,
                booked_on=reversed_on,
                description=(
                    _("Overbetaling fra innbetaling %(ref)s skal ikke tilbakebetales: tilbakeført")
                    % {"ref": payment.pk}
                )[:200],
                created_by=user,
            )
        allocation.reversal_entry = entry
        allocation.save(update_fields=["reversal_entry"])
        parts[allocation.component] += to_ore(allocation.amount)
    return dict(parts)


def _settlement_claim(reversal, case, settled) -> SettlementClaim | None:
    """The creditor's share of the reversed payment's allocations already paid out, computed
    the way their settlement line was (its settlement's creditor settings): principal, plus
    interest when it went to the creditor, less commission (when the line had one) and the VAT
    on the salær and commission. ``None`` when nothing was paid out (or the share is 0)."""
    if not settled:
        return None
    by_line: dict[int, list] = defaultdict(list)
    for allocation in settled:
        by_line[allocation.settlement_line_id].append(allocation)
    totals = dict.fromkeys(("principal", "interest_to_creditor", "commission", "vat"), ZERO)
    lines = SettlementLine.objects.select_related("settlement").in_bulk(list(by_line))
    for line_id, allocations in by_line.items():
        line = lines[line_id]
        settlement = line.settlement
        paid = defaultdict(lambda: ZERO)
        for allocation in allocations:
            paid[allocation.component] += to_ore(allocation.amount)
        principal = paid[Component.PRINCIPAL]
        interest_out = (
            paid[Component.INTEREST]
            if settlement.interest_to == Creditor.InterestTo.CREDITOR
            else ZERO
        )
        commission = ZERO
        if line.commission > 0:
            commission = rules.round_ore(principal * settlement.commission_percent / 100)
        vat = ZERO
        if settlement.vat_registered:
            vat = rules.round_ore(
                (paid[Component.SALAER] + commission) * settlement.vat_percent / 100
            )
        totals["principal"] += principal
        totals["interest_to_creditor"] += interest_out
        totals["commission"] += commission
        totals["vat"] += vat
    amount = (
        totals["principal"] + totals["interest_to_creditor"] - totals["commission"] - totals["vat"]
    )
    if amount == 0:
        return None
    return SettlementClaim.objects.create(
        creditor_id=case.creditor_id,
        case=case,
        reversal=reversal,
        settled_in_id=min(by_line),
        amount=amount,
        **totals,
    )


# --- the queue -----------------------------------------------------------------------------


def reversal_assign(*, reversal: PaymentReversal, payment: Payment, actor) -> PaymentReversal:
    """A case handler names the payment a queued reversal takes back."""
    if reversal.status != PaymentReversal.Status.UNMATCHED:
        raise ApplicationError(_("Bare tilbakeføringer som venter, kan kobles til en innbetaling."))
    result = payment_reverse(
        payment=payment,
        reversed_on=reversal.reversed_on,
        reference=reversal.external_reference,
        actor=actor,
        amount=reversal.amount,
        source=reversal.source,
    )
    if result.status != PaymentReversal.Status.REVERSED:
        raise ApplicationError(result.note)
    return result


def reversal_dismiss(*, reversal: PaymentReversal, actor, note: str) -> PaymentReversal:
    """A case handler closes a queued reversal without undoing a payment (e.g. handled
    outside the system), with the reason."""
    note = (note or "").strip()
    if not note:
        raise ApplicationError(_("Oppgi hvorfor tilbakeføringen avsluttes uten å tilbakeføre."))
    with transaction.atomic():
        reversal = PaymentReversal.objects.select_for_update().get(pk=reversal.pk)
        if reversal.status != PaymentReversal.Status.UNMATCHED:
            raise ApplicationError(_("Tilbakeføringen er allerede behandlet."))
        reversal.status = PaymentReversal.Status.DISMISSED
        reversal.note = note[:300]
        reversal.handled_by = _user(actor)
        reversal.save(update_fields=["status", "note", "handled_by"])
    return reversal
