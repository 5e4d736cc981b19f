"""Registering a case: a new case from a debtor's open invoices, and invoices added to one.

The invoices are locked and checked (the creditor's, the debtor's, in NOK, unpaid, in no other
case), the case gets the year's next number and its KID, and each invoice's open balance is
booked as principal — one :class:`CaseEvent` per change, like every case service.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_cases import rules
from collections_cases.cases.changes import (
    STAGE_ACTION,
    amount_text,
    case_lock,
    record_event,
)
from collections_cases.models import (
    CaseEvent,
    CaseNumberSequence,
    CollectionCase,
    Invoice,
    LedgerEntry,
)
from creditors.models import Creditor, Debtor
from kravia_web.errors import ApplicationError
from kravia_web.money import format_nok

Status = CollectionCase.Status
Stage = CollectionCase.Stage
NextAction = CollectionCase.NextAction
EventKind = CaseEvent.Kind

MAX_CASES_PER_YEAR = 999_999


def _next_case_number() -> tuple[str, str]:
    """A new case number and its KID; the year's sequence row stays locked until commit, so
    two transactions never get the same number."""
    year = timezone.localdate().year
    sequence, _created = CaseNumberSequence.objects.select_for_update().get_or_create(year=year)
    sequence.last_number += 1
    if sequence.last_number > MAX_CASES_PER_YEAR:
        raise ApplicationError(_("Saksnummerserien for %(year)s er brukt opp.") % {"year": year})
    sequence.save(update_fields=["last_number"])
    serial = f"{sequence.last_number:06d}"
    return f"K-{year}-{serial}", rules.kid_mod10(f"{year}{serial}")


def _lock_invoices(*, creditor: Creditor, debtor: Debtor, invoices: Iterable[Invoice]):
    ids = sorted({invoice.pk for invoice in invoices})
    if not ids:
        raise ApplicationError(_("Velg minst én faktura."))
    locked = list(Invoice.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    if len(locked) != len(ids):
        raise ApplicationError(_("En av fakturaene finnes ikke lenger."))
    for invoice in locked:
        if invoice.creditor_id != creditor.pk or invoice.debtor_id != debtor.pk:
            raise ApplicationError(
                _("Faktura %(number)s tilhører ikke denne skyldneren.")
                % {"number": invoice.invoice_no}
            )
        if invoice.case_id is not None:
            raise ApplicationError(
                _("Faktura %(number)s er allerede i en inkassosak.")
                % {"number": invoice.invoice_no}
            )
        if invoice.currency != "NOK":
            raise ApplicationError(
                _("Faktura %(number)s er i %(currency)s; bare fakturaer i NOK kan inndrives.")
                % {"number": invoice.invoice_no, "currency": invoice.currency}
            )
        if invoice.balance <= 0:
            raise ApplicationError(
                _("Faktura %(number)s har ikke noe udekket beløp.") % {"number": invoice.invoice_no}
            )
    return locked


def _attach_invoices(case: CollectionCase, invoices: list[Invoice], *, actor) -> Decimal:
    """Link the invoices to the case and book their open balance as principal."""
    today = timezone.localdate()
    created_by = actor if actor is not None and not isinstance(actor, str) else None
    Invoice.objects.filter(pk__in=[i.pk for i in invoices]).update(case=case)
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            case=case,
            invoice=invoice,
            kind=LedgerEntry.Kind.PRINCIPAL,
            amount=invoice.balance,
            booked_on=today,
            description=_("Faktura %(number)s") % {"number": invoice.invoice_no},
            created_by=created_by,
        )
        for invoice in invoices
    )
    return sum((invoice.balance for invoice in invoices), start=Decimal("0.00"))


def _earliest_due(invoices: Iterable[Invoice]) -> date:
    return min(invoice.due_date or invoice.invoice_date for invoice in invoices)


def case_create(
    *,
    creditor: Creditor,
    debtor: Debtor,
    invoices: Iterable[Invoice],
    actor=None,
    needs_approval: bool,
) -> CollectionCase:
    """Open a case for ``debtor``'s ``invoices``: waiting for the creditor's approval, or
    active at the debtor's (or creditor's) entry step with that step due today."""
    if debtor.creditor_id != creditor.pk:
        raise ApplicationError(_("Skyldneren tilhører en annen kreditor."))
    if debtor.collection_opt_out:
        raise ApplicationError(
            _("%(name)s er unntatt fra inkasso.") % {"name": debtor.name},
        )
    with transaction.atomic():
        locked = _lock_invoices(creditor=creditor, debtor=debtor, invoices=invoices)
        number, kid = _next_case_number()
        stage = debtor.effective_entry_step
        if needs_approval:
            status = Status.AWAITING_APPROVAL
            approval_kind = CollectionCase.ApprovalKind.START
            next_action, next_action_date = NextAction.AWAIT_APPROVAL, None
        else:
            status = Status.ACTIVE
            approval_kind = ""
            next_action, next_action_date = STAGE_ACTION[stage], timezone.localdate()
        case = CollectionCase.objects.create(
            creditor=creditor,
            debtor=debtor,
            number=number,
            kid=kid,
            status=status,
            stage=stage,
            approval_kind=approval_kind,
            next_action=next_action,
            next_action_date=next_action_date,
            limitation_date=rules.limitation_date(_earliest_due(locked)),
        )
        principal = _attach_invoices(case, locked, actor=actor)
        record_event(
            case,
            kind=EventKind.CREATED,
            actor=actor,
            message=_("Sak opprettet for %(count)d faktura(er), hovedstol %(amount)s.")
            % {"count": len(locked), "amount": format_nok(principal)},
            data={
                "invoices": [invoice.invoice_no for invoice in locked],
                "principal": str(principal),
            },
            status_to=status,
        )
    return case


def case_add_invoices(
    *, case: CollectionCase, actor, invoices: Iterable[Invoice]
) -> CollectionCase:
    """Merge more of the debtor's invoices into the case — only before the
    betalingsoppfordring (stage inkassovarsel, or not yet started)."""
    with transaction.atomic():
        case = case_lock(case_id=case.pk)
        not_started = (
            case.status == Status.AWAITING_APPROVAL
            and case.approval_kind == CollectionCase.ApprovalKind.START
        )
        early = case.status in (Status.ACTIVE, Status.PAUSED) and (
            case.stage == Stage.INKASSOVARSEL
        )
        if case.limitation_date is not None and case.limitation_date <= timezone.localdate():
            raise ApplicationError(
                _(
                    "Sak %(number)s er foreldet (foreldelsesdato %(date)s): ingen fakturaer kan legges til."
                )
                % {"number": case.number, "date": case.limitation_date.strftime("%d.%m.%Y")}
            )
        if not (not_started or early):
            raise ApplicationError(
                _(
                    "Fakturaer kan bare legges til sak %(number)s før betalingsoppfordringen "
                    "(saken har status «%(status)s», steg «%(stage)s»)."
                )
                % {
                    "number": case.number,
                    "status": case.get_status_display(),
                    "stage": case.get_stage_display(),
                }
            )
        locked = _lock_invoices(creditor=case.creditor, debtor=case.debtor, invoices=invoices)
        added = _attach_invoices(case, locked, actor=actor)
        limitation = rules.limitation_date(_earliest_due(locked))
        if case.limitation_date is None or limitation < case.limitation_date:
            case.limitation_date = limitation
            case.save(update_fields=["limitation_date", "updated_at"])
        record_event(
            case,
            kind=EventKind.INVOICES_ADDED,
            actor=actor,
            message=_("%(count)d faktura(er) lagt til, hovedstol økt med %(amount)s.")
            % {"count": len(locked), "amount": format_nok(added)},
            data={"invoices": [i.invoice_no for i in locked], "principal": str(added)},
        )
    return case


def case_take_out_invoices(
    *, case: CollectionCase, actor, invoices: Iterable[Invoice], reason: str
) -> list[Invoice]:
    """Take invoices back out of the case they were added to, when the accounting system the
    case mirrors refused to take them into its own case (PowerOffice Go's AddInvoicesToCase):
    each one's principal on this case is cancelled by an entry of the kind that cancels an
    invoice's principal without money (``credit_note``, linked to the invoice; the ledger has
    no other such kind and stays append-only) and the invoice is free for a case of its own. One event with
    the reason. Returns the invoices taken out (those still in this case)."""
    with transaction.atomic():
        case = case_lock(case_id=case.pk)
        ids = sorted({invoice.pk for invoice in invoices})
        locked = list(
            Invoice.objects.select_for_update().filter(pk__in=ids, case=case).order_by("pk")
        )
        if not locked:
            return []
        today = timezone.localdate()
        created_by = actor if actor is not None and not isinstance(actor, str) else None
        reversed_total = Decimal("0.00")
        reversals = []
        for invoice in locked:
            principal = sum(
                (
                    entry.amount
                    for entry in case.ledger_entries.filter(
                        invoice=invoice, kind=LedgerEntry.Kind.PRINCIPAL
                    )
                ),
                start=Decimal("0.00"),
            )
            if principal:
                reversed_total += principal
                reversals.append(
                    LedgerEntry(
                        case=case,
                        invoice=invoice,
                        kind=LedgerEntry.Kind.CREDIT_NOTE,
                        amount=-principal,
                        booked_on=today,
                        description=_("Faktura %(number)s tatt ut av saken")
                        % {"number": invoice.invoice_no},
                        created_by=created_by,
                    )
                )
        LedgerEntry.objects.bulk_create(reversals)
        Invoice.objects.filter(pk__in=[i.pk for i in locked]).update(case=None)
        numbers = ", ".join(str(i.invoice_no) for i in locked)
        record_event(
            case,
            kind=EventKind.NOTE,
            actor=actor,
            message=_(
                "Faktura %(numbers)s tatt ut av saken igjen (hovedstol redusert med "
                "%(amount)s): %(reason)s"
            )
            % {"numbers": numbers, "amount": format_nok(reversed_total), "reason": reason},
            data={
                "invoices_taken_out": [i.invoice_no for i in locked],
                "principal": amount_text(-reversed_total),
                "reason": reason,
            },
        )
    for invoice in locked:
        invoice.case = None
    return locked
