"""Invoices registered for collection from a system other than PowerOffice Go (the API's
``POST /api/v1/invoices``): the debtor is created or updated, the invoice recorded, and it
goes to collection the way Kundeweb's «Klar for inkasso» sends one — into the debtor's open
case while that is still at the inkassovarsel, otherwise into a new case. A time-barred claim
is refused (the API answers 409) and nothing is registered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_cases.cases.changes import positive_amount
from collections_cases.cases.limitation import claim_is_time_barred, time_barred_message
from collections_cases.cases.page_selectors import cases_open_for_more_invoices
from collections_cases.cases.registration import case_add_invoices, case_create
from collections_cases.cases.services import case_add_note
from collections_cases.models import CollectionCase, Invoice
from creditors.models import Creditor, Debtor
from kravia_web.errors import ApplicationError

SUPPORTED_CURRENCY = "NOK"


@dataclass(frozen=True)
class DebtorData:
    name: str
    is_person: bool
    customer_number: int | None = None
    org_number: str = ""
    email: str = ""
    phone: str = ""
    address_line: str = ""
    postal_code: str = ""
    postal_city: str = ""
    country_code: str = "NO"


@dataclass(frozen=True)
class InvoiceData:
    invoice_no: int
    invoice_date: date
    due_date: date
    amount: Decimal
    currency: str = SUPPORTED_CURRENCY
    description: str = ""


@dataclass(frozen=True)
class RegisteredInvoice:
    invoice: Invoice
    case: CollectionCase
    debtor_created: bool
    case_created: bool


def _debtor_upsert(*, creditor: Creditor, data: DebtorData) -> tuple[Debtor, bool]:
    """The creditor's debtor with this customer number (or, for a business without one, this
    organisation number), its contact details updated; a new debtor otherwise."""
    debtors = Debtor.objects.select_for_update().filter(creditor=creditor)
    debtor = None
    if data.customer_number is not None:
        debtor = debtors.filter(customer_number=data.customer_number).order_by("pk").first()
    elif not data.is_person and data.org_number:
        debtor = debtors.filter(org_number=data.org_number, is_person=False).order_by("pk").first()
    values = {
        "name": data.name,
        "is_person": data.is_person,
        "org_number": "" if data.is_person else data.org_number,
        "email": data.email,
        "phone": data.phone,
        "address_line": data.address_line,
        "postal_code": data.postal_code,
        "postal_city": data.postal_city,
        "country_code": data.country_code,
    }
    if debtor is None:
        debtor = Debtor.objects.create(
            creditor=creditor,
            customer_number=data.customer_number,
            # Registered here for collection: the creditor's consent is this registration.
            transfer_to_debt_collection_agency=True,
            **values,
        )
        return debtor, True
    # Blank values do not erase what we know (an address from an earlier invoice stays).
    changed = [
        name
        for name, value in values.items()
        if (value not in ("", None) or name == "is_person") and getattr(debtor, name) != value
    ]
    for name in changed:
        setattr(debtor, name, values[name])
    if changed:
        debtor.save(update_fields=[*changed, "updated_at"])
    return debtor, False


def invoice_register_external(
    *, creditor: Creditor, actor, debtor: DebtorData, invoice: InvoiceData
) -> RegisteredInvoice:
    """Register ``invoice`` against ``debtor`` and send it to collection, in one transaction."""
    if invoice.currency != SUPPORTED_CURRENCY:
        raise ApplicationError(
            _("Bare fakturaer i NOK kan registreres for inkasso (fikk %(currency)s).")
            % {"currency": invoice.currency}
        )
    amount = positive_amount(invoice.amount)
    today = timezone.localdate()
    if invoice.due_date < invoice.invoice_date:
        raise ApplicationError(_("Forfallsdatoen kan ikke være før fakturadatoen."))
    if invoice.due_date >= today:
        raise ApplicationError(
            _("Fakturaen er ikke forfalt ennå: inkasso kan starte først etter forfall.")
        )
    if claim_is_time_barred(due_date=invoice.due_date, on=today):
        raise ApplicationError(time_barred_message(invoice.invoice_no, invoice.due_date))
    with transaction.atomic():
        # One registration per creditor at a time: the duplicate check below then holds.
        Creditor.objects.select_for_update().filter(pk=creditor.pk).first()
        if Invoice.objects.filter(creditor=creditor, invoice_no=invoice.invoice_no).exists():
            raise ApplicationError(
                _("Faktura %(number)s er allerede registrert.") % {"number": invoice.invoice_no}
            )
        debtor_row, debtor_created = _debtor_upsert(creditor=creditor, data=debtor)
        if debtor_row.collection_opt_out:
            raise ApplicationError(
                _("%(name)s er unntatt fra inkasso.") % {"name": debtor_row.name}
            )
        row = Invoice.objects.create(
            creditor=creditor,
            debtor=debtor_row,
            invoice_no=invoice.invoice_no,
            voucher_type="External",
            invoice_date=invoice.invoice_date,
            due_date=invoice.due_date,
            currency=invoice.currency,
            total_amount=amount,
            balance=amount,
        )
        open_case = cases_open_for_more_invoices(creditor=creditor, debtors=[debtor_row]).get(
            debtor_row.pk
        )
        if open_case is not None:
            case = case_add_invoices(case=open_case, actor=actor, invoices=[row])
        else:
            case = case_create(
                creditor=creditor,
                debtor=debtor_row,
                invoices=[row],
                actor=actor,
                needs_approval=creditor.approve_cases_before_start,
            )
        description = (invoice.description or "").strip()
        if description:
            case_add_note(
                case=case,
                actor=actor,
                text=_("Faktura %(number)s: %(description)s")
                % {"number": invoice.invoice_no, "description": description},
            )
        row.refresh_from_db(fields=["case"])
    return RegisteredInvoice(
        invoice=row, case=case, debtor_created=debtor_created, case_created=open_case is None
    )
