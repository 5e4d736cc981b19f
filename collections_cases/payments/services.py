"""Import, match and allocate incoming payments.

Sign convention (see docs/payments.md): every allocated component is one
``LedgerEntry(kind=payment)`` with a negative amount; an overpayment is a negative
``payment`` entry *and* a positive ``refund_due`` entry of the same amount, so the case
balance (the ledger sum) ends at 0 and the refund owed to the debtor stays visible.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_cases import rules
from collections_cases.cases import changes
from collections_cases.cases import services as case_services
from collections_cases.cases.selectors import case_balance, case_principal_outstanding
from collections_cases.ledger import interest
from collections_cases.models import (
    CaseEvent,
    CollectionCase,
    LedgerEntry,
    Payment,
    PaymentAllocation,
)
from kravia_web.errors import ApplicationError
from kravia_web.money import format_nok, to_ore

logger = logging.getLogger(__name__)
Kind = LedgerEntry.Kind
Component = PaymentAllocation.Component
ZERO = Decimal("0.00")

DEFAULT_ALLOCATION_ORDER = ("fee", "salaer", "interest", "principal")
COMPONENTS = (Component.FEE, Component.SALAER, Component.INTEREST, Component.PRINCIPAL)
# Ledger debits that make up each component (principal also carries its own credits).
COMPONENT_KINDS = {
    Component.FEE: (Kind.FEE,),
    Component.SALAER: (Kind.SALAER,),
    Component.INTEREST: (Kind.INTEREST, Kind.INTEREST_CORRECTION),
    Component.PRINCIPAL: (Kind.PRINCIPAL, Kind.DIRECT_PAYMENT, Kind.CREDIT_NOTE),
}


def allocation_order() -> tuple[str, ...]:
    order = tuple(getattr(settings, "PAYMENT_ALLOCATION_ORDER", DEFAULT_ALLOCATION_ORDER))
    if sorted(order) != sorted(c.value for c in COMPONENTS):
        raise ApplicationError(
            _("PAYMENT_ALLOCATION_ORDER må inneholde fee, salaer, interest og principal én gang.")
        )
    return order


def case_outstanding_by_component(case: CollectionCase) -> dict[str, Decimal]:
    """What is left to pay per component, replaying the ledger in the order it was written:
    debits add to their component; direct payments and credit notes reduce the principal;
    an allocated payment entry reduces its allocation's component; credits tied to no
    component (write-offs, reductions, payments without allocation) reduce the components
    then outstanding in the allocation order, any excess held as a credit against later
    debits."""
    order = allocation_order()
    component_of = {}
    # A reversed payment's allocation: its payment_reversal entry gives the amount back to
    # the same component (an overpayment's stays out, as its payment entry did).
    for entry_id, reversal_id, component in PaymentAllocation.objects.filter(case=case).values_list(
        "ledger_entry_id", "reversal_entry_id", "component"
    ):
        component_of[entry_id] = component
        if reversal_id is not None:
            component_of[reversal_id] = component
    kind_component = {
        kind: component for component, kinds in COMPONENT_KINDS.items() for kind in kinds
    }
    outstanding = dict.fromkeys((c.value for c in COMPONENTS), ZERO)
    credit = ZERO  # unattributed credit not yet used

    def absorb() -> None:
        nonlocal credit
        for component in order:
            take = min(outstanding[component], credit)
            if take > 0:
                outstanding[component] -= take
                credit -= take

    entries = (
        LedgerEntry.objects.filter(case=case).order_by("id").values_list("id", "kind", "amount")
    )
    for entry_id, kind, amount in entries:
        amount = to_ore(amount)
        if entry_id in component_of:
            component = component_of[entry_id]
            if component != Component.OVERPAYMENT:
                outstanding[component] += amount
        elif kind in (Kind.REFUND_DUE, Kind.REFUND_CANCELLED):
            continue  # paired with an overpayment allocation's payment (reversal) entry
        elif kind in kind_component:
            outstanding[kind_component[kind]] += amount
            if amount > 0 and credit > 0:
                absorb()
        else:
            credit += -amount
            absorb()
    return {component: max(value, ZERO) for component, value in outstanding.items()}


def _split_text(parts: list[tuple[str, str, Decimal]]) -> str:
    return ", ".join(f"{label.lower()} {format_nok(amount)}" for _c, label, amount in parts)


def _interest_to_payment_day(case: CollectionCase, paid_on: date) -> Decimal | None:
    """Before a payment on ``paid_on`` is split: book the interest accrued up to and including
    that day (reference § 4b; up to the rate table's last known day), and return the most the
    payment may take as interest — the interest of the days up to ``paid_on`` not yet paid —
    when interest is already booked for later days (a payment that becomes known after a
    letter); ``None`` when what is booked ends on or before ``paid_on``."""
    if case.debtor.do_not_add_late_payment_interest or not case_services.case_may_add_costs(case):
        return None
    facts = interest.case_interest_facts(case)
    if not any(f.last_booked_on and f.last_booked_on > paid_on for f in facts):
        interest.case_accrue_interest(case, on=interest.known_accrual_day(paid_on))
        return None
    not_before = interest.interest_not_before(case, on=paid_on)
    up_to_payment = sum(
        (interest.invoice_interest_total(f, until=paid_on, not_before=not_before) for f in facts),
        start=ZERO,
    )
    return max(up_to_payment - interest.case_interest_paid(case), ZERO)


def _after_split(case: CollectionCase, paid_on: date) -> None:
    """After a payment whose day is earlier than interest already booked: the base of the
    later days is lower now, so the interest booked for them is corrected."""
    if case.debtor.do_not_add_late_payment_interest or not case_services.case_may_add_costs(case):
        return
    last = max(
        (f.last_booked_on for f in interest.case_interest_facts(case) if f.last_booked_on),
        default=None,
    )
    if last is not None and last > paid_on:
        interest.case_accrue_interest(case, on=last)


def remainder_statement_due(
    *, principal_before: Decimal, principal_after: Decimal, balance_after: Decimal, case
) -> bool:
    """Whether a payment leaves so little that the debtor first gets a plain statement of
    what is left and how the payment was split (reference § 4b), before any new cost: it
    reached the principal (costs and interest were paid first), and what is left of the
    principal is at most ``REMAINDER_STATEMENT_MAX_PRINCIPAL`` (docs/cases.md). Not while an
    earlier statement's deadline is still running."""
    from collections_cases.models import Letter

    if not case.is_open or balance_after <= 0 or principal_after >= principal_before:
        return False
    if principal_after > Decimal(str(settings.REMAINDER_STATEMENT_MAX_PRINCIPAL)):
        return False
    return not Letter.objects.filter(
        case=case,
        kind=Letter.Kind.REMAINDER_STATEMENT,
        deadline__gte=timezone.localdate(),
    ).exists()


def payment_allocate(*, payment: Payment, case: CollectionCase, actor=None) -> Payment:
    """Split ``payment`` over ``case`` and record it (reference § 4b): first the interest
    accrued up to and including the payment day is booked, then the amount covers costs,
    that interest, then principal (``PAYMENT_ALLOCATION_ORDER``); from the next day interest
    runs on the principal still outstanding. A part-payment interrupts the limitation
    period. A payment that leaves little gets a remainder statement
    (:func:`remainder_statement_due`); an open case whose balance reaches 0 closes as paid."""
    with transaction.atomic():
        case = case_services.case_lock(case_id=case.pk)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status in (
            Payment.Status.ALLOCATED,
            Payment.Status.REFUNDED,
            Payment.Status.REVERSED,
        ):
            raise ApplicationError(_("Innbetalingen er allerede fordelt."))
        today = payment.paid_on or timezone.localdate()
        interest_cap = _interest_to_payment_day(case, today)
        outstanding = case_outstanding_by_component(case)
        if interest_cap is not None:
            outstanding[Component.INTEREST] = min(outstanding[Component.INTEREST], interest_cap)
        principal_before = case_principal_outstanding(case)
        remaining = to_ore(payment.amount)
        parts: list[tuple[str, str, Decimal]] = []

        def book(component: str, amount: Decimal, label: str) -> None:
            entry = LedgerEntry.objects.create(
                case=case,
                kind=Kind.PAYMENT,
                amount=-amount,
                booked_on=today,
                description=(
                    _("Innbetaling %(ref)s: %(label)s") % {"ref": payment.pk, "label": label}
                )[:200],
                created_by=actor if actor is not None and not isinstance(actor, str) else None,
            )
            PaymentAllocation.objects.create(
                payment=payment, case=case, component=component, amount=amount, ledger_entry=entry
            )
            parts.append((component, str(label), amount))

        for component in allocation_order():
            take = min(remaining, outstanding[component])
            if take > 0:
                book(component, take, Component(component).label)
                remaining -= take
        # Interest of days after a payment day earlier than what was booked: what it still
        # owes after the split is paid before an overpayment is held for the debtor.
        if remaining > 0 and interest_cap is not None:
            _after_split(case, today)
            left = case_outstanding_by_component(case)
            for component in allocation_order():
                take = min(remaining, left[component])
                if take > 0:
                    book(component, take, Component(component).label)
                    remaining -= take
        if remaining > 0:
            book(Component.OVERPAYMENT, remaining, Component.OVERPAYMENT.label)
            LedgerEntry.objects.create(
                case=case,
                kind=Kind.REFUND_DUE,
                amount=remaining,
                booked_on=today,
                description=(
                    _("Overbetaling fra innbetaling %(ref)s skal tilbakebetales skyldner")
                    % {"ref": payment.pk}
                )[:200],
            )
        payment.case = case
        payment.status = Payment.Status.ALLOCATED
        if actor is not None and not isinstance(actor, str) and payment.matched_by_id is None:
            payment.matched_by = actor
        payment.save(update_fields=["case", "status", "matched_by"])
        if interest_cap is not None:
            _after_split(case, today)
        changes.record_event(
            case,
            kind=CaseEvent.Kind.PAYMENT,
            actor=actor,
            message=_("Innbetaling %(amount)s fordelt: %(split)s.")
            % {"amount": format_nok(payment.amount), "split": _split_text(parts)},
            data={
                "payment_id": payment.pk,
                "amount": str(payment.amount),
                "paid_on": today.isoformat(),
                "allocations": {component: str(amount) for component, _label, amount in parts},
            },
        )
        balance = case_balance(case)
        if case.is_open and balance > 0:
            from collections_cases.cases.limitation import case_limitation_interrupt

            case_limitation_interrupt(
                case=case,
                # a bank's value date may lie ahead of the day the file is read
                on=min(today, timezone.localdate()),
                reason=_("Delbetaling %(amount)s") % {"amount": format_nok(payment.amount)},
                actor=actor,
            )
            if remainder_statement_due(
                principal_before=principal_before,
                principal_after=case_principal_outstanding(case),
                balance_after=balance,
                case=case,
            ):
                from collections_cases.dunning.remainder import remainder_statement_send

                try:
                    with transaction.atomic():
                        remainder_statement_send(
                            case=case, payment=payment, on=timezone.localdate()
                        )
                except rules.RuleUnknown:
                    # No letter with a rate the tables do not know: the next dunning step
                    # is held too until the row is added (Oversikt and the admin warn).
                    logger.warning("Remainder statement for case %s held: rate unknown", case.pk)
        if case.is_open and balance <= 0:
            case_services.case_close(case=case, actor=actor, reason=CollectionCase.CloseReason.PAID)
    return payment


def payment_mark_refunded(*, payment: Payment, actor, note: str = "") -> Payment:
    """The agency paid a payment's overpayment back to the debtor (it never goes to the
    creditor: settlements leave overpayments out). Records who and when on the case."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        overpaid = to_ore(
            sum(
                (a.amount for a in payment.allocations.filter(component=Component.OVERPAYMENT)),
                ZERO,
            )
        )
        if payment.status != Payment.Status.ALLOCATED or overpaid <= 0:
            raise ApplicationError(
                _("Innbetalingen har ingen overbetaling som venter på tilbakebetaling.")
            )
        payment.status = Payment.Status.REFUNDED
        payment.save(update_fields=["status"])
        case = case_services.case_lock(case_id=payment.case_id)
        changes.record_event(
            case,
            kind=CaseEvent.Kind.PAYMENT,
            actor=actor,
            message=_("Overbetaling %(amount)s tilbakebetalt til skyldner.%(note)s")
            % {"amount": format_nok(overpaid), "note": f" {note}" if note else ""},
            data={"payment_id": payment.pk, "refunded": str(overpaid)},
        )
    return payment


# --- Matching ---------------------------------------------------------------------------


def payment_match(*, payment: Payment) -> Payment:
    """Match by KID: exactly one open case → allocated; otherwise queued with a note."""
    kid = (payment.kid or "").replace(" ", "")
    if not kid:
        return _queue(payment, Payment.Status.UNMATCHED, _("Ingen KID."))
    if not rules.kid_is_valid(kid):
        return _queue(
            payment,
            Payment.Status.UNMATCHED,
            _("Ugyldig KID %(kid)s (kontrollsiffer).") % {"kid": kid},
        )
    candidates = list(CollectionCase.objects.filter(kid=kid))
    if not candidates:
        return _queue(
            payment, Payment.Status.UNMATCHED, _("Ingen sak med KID %(kid)s.") % {"kid": kid}
        )
    if len(candidates) > 1:
        return _queue(
            payment, Payment.Status.AMBIGUOUS, _("Flere saker med KID %(kid)s.") % {"kid": kid}
        )
    case = candidates[0]
    if not case.is_open:
        return _queue(
            payment,
            Payment.Status.AMBIGUOUS,
            _("Sak %(number)s med KID %(kid)s er avsluttet.") % {"number": case.number, "kid": kid},
        )
    return payment_allocate(payment=payment, case=case)


def _queue(payment: Payment, status: str, note: str) -> Payment:
    payment.status = status
    payment.match_note = note[:300]
    payment.save(update_fields=["status", "match_note"])
    return payment


def payment_assign(*, payment: Payment, case: CollectionCase, actor) -> Payment:
    """A case handler assigns a queued payment to a case, which allocates it."""
    if payment.status not in Payment.QUEUE_STATUSES:
        raise ApplicationError(_("Bare innbetalinger i køen kan kobles til en sak."))
    payment.matched_by = actor
    payment.save(update_fields=["matched_by"])
    return payment_allocate(payment=payment, case=case, actor=actor)


def payment_register(
    *,
    amount: Decimal,
    paid_on: date,
    external_reference: str,
    kid: str = "",
    case: CollectionCase | None = None,
    payer_name: str = "",
    payer_reference: str = "",
    actor=None,
) -> Payment:
    """Register a payment by hand (admin): allocated to ``case`` if given, else by KID."""
    amount = to_ore(Decimal(amount))
    if amount <= 0:
        raise ApplicationError(_("Beløpet må være større enn 0."))
    external_reference = (external_reference or "").strip()
    if not external_reference:
        raise ApplicationError(_("Oppgi en ekstern referanse (f.eks. bankens arkivreferanse)."))
    with transaction.atomic():
        if Payment.objects.filter(external_reference=external_reference).exists():
            raise ApplicationError(
                _("En innbetaling med referansen %(ref)s er allerede registrert.")
                % {"ref": external_reference}
            )
        payment = Payment.objects.create(
            source=Payment.Source.MANUAL,
            external_reference=external_reference,
            amount=amount,
            paid_on=paid_on,
            kid=(kid or "").replace(" ", ""),
            payer_name=payer_name,
            payer_reference=payer_reference,
        )
        if case is not None:
            return payment_allocate(payment=payment, case=case, actor=actor)
        return payment_match(payment=payment)


# --- Import ---------------------------------------------------------------------------
