"""Credit notes the creditor registers on a case (from Kundeweb's API): they reduce the
principal, like a credit note matched in PowerOffice Go does (``integrations.services.
sync_matches``). When nothing is left of the principal the case closes as *credited*: the
claim is gone, and with it the ground for the costs."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_cases.cases.changes import (
    actor_fields,
    case_lock,
    ensure_open,
    positive_amount,
    record_event,
)
from collections_cases.cases.selectors import case_principal_outstanding
from collections_cases.cases.services import case_close
from collections_cases.models import CaseEvent, CollectionCase, LedgerEntry
from kravia_web.errors import ApplicationError
from kravia_web.money import format_nok


def case_register_credit_note(
    *,
    case: CollectionCase,
    actor,
    amount,
    credited_on: date,
    invoice_no: int | None = None,
    reference: str = "",
) -> CollectionCase:
    """Book a credit note of ``amount`` against the case (optionally one of its invoices):
    refused for more than the outstanding principal; closes the case as credited when the
    principal reaches zero."""
    amount = positive_amount(amount)
    if credited_on > timezone.localdate():
        raise ApplicationError(_("Datoen for kreditnotaen kan ikke være frem i tid."))
    reference = (reference or "").strip()
    with transaction.atomic():
        case = case_lock(case_id=case.pk)
        ensure_open(case)
        invoice = None
        if invoice_no is not None:
            invoice = case.invoices.filter(invoice_no=invoice_no).first()
            if invoice is None:
                raise ApplicationError(
                    _("Faktura %(number)s hører ikke til sak %(case)s.")
                    % {"number": invoice_no, "case": case.number}
                )
        principal = case_principal_outstanding(case)
        if amount > principal:
            raise ApplicationError(
                _(
                    "Kreditnotaen på %(amount)s er større enn udekket hovedstol %(principal)s "
                    "i sak %(number)s."
                )
                % {
                    "amount": format_nok(amount),
                    "principal": format_nok(principal),
                    "number": case.number,
                }
            )
        description = (
            _("Kreditnota mot faktura %(number)s") % {"number": invoice.invoice_no}
            if invoice is not None
            else _("Kreditnota")
        )
        if reference:
            description = f"{description} ({reference})"
        created_by = actor_fields(actor)["actor"]
        LedgerEntry.objects.create(
            case=case,
            invoice=invoice,
            kind=LedgerEntry.Kind.CREDIT_NOTE,
            amount=-amount,
            booked_on=credited_on,
            description=description[:200],
            created_by=created_by,
        )
        record_event(
            case,
            kind=CaseEvent.Kind.NOTE,
            actor=actor,
            message=_("Kreditnota registrert: %(amount)s. Hovedstolen er redusert.")
            % {"amount": format_nok(amount)},
            data={
                "credit_note": str(amount),
                "credited_on": credited_on.isoformat(),
                "invoice": invoice.invoice_no if invoice is not None else None,
                "reference": reference,
            },
        )
        if amount == principal:
            case = case_close(
                case=case,
                actor=actor,
                reason=CollectionCase.CloseReason.CREDITED,
                note=reference,
            )
    return case
