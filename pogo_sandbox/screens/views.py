"""Go's own screens: company home, settings, customers, the Inkasso menu and the voucher inbox.

Thin views: forms validate, ``pogo_sandbox.domain`` changes things.
"""

import uuid
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kravia_web.money import format_nok
from pogo_sandbox import domain
from pogo_sandbox.models import (
    Customer,
    DebtCollectionCase,
    GeneralLedgerAccount,
    JournalVoucher,
    JournalVoucherPage,
    OutgoingInvoice,
)
from pogo_sandbox.screens.access import (
    choose_company,
    company_required,
    current_company,
    go_login_required,
    user_companies,
)
from pogo_sandbox.screens.forms import (
    CreditNoteForm,
    CustomerForm,
    PaymentForm,
    ReminderSettingsForm,
    WriteOffForm,
)

Status = OutgoingInvoice.DebtCollectionStatus


# --- Company picker and home ------------------------------------------------------------------


def _inkasso_counts(company) -> dict:
    counts = company.invoices.aggregate(
        drafts=Count("pk", filter=Q(debt_collection_status=Status.DRAFT)),
        approved=Count("pk", filter=Q(debt_collection_status=Status.APPROVED)),
    )
    counts["open"] = company.debt_cases.filter(status=DebtCollectionCase.Status.ACTIVE).count()
    counts["vouchers"] = company.vouchers.filter(is_posted=False).count()
    return counts


@go_login_required
def home(request):
    user = request.go_user
    company = current_company(request, user)
    if company is None:
        companies = list(user_companies(user))
        if len(companies) != 1:
            return render(request, "pogo_sandbox/companies.html", {"companies": companies})
        company = companies[0]
        choose_company(request, company)
    request.go_company = company
    domain.refresh_drafts(company)
    return render(
        request,
        "pogo_sandbox/home.html",
        {"company": company, "counts": _inkasso_counts(company)},
    )


@go_login_required
def companies(request):
    choices = list(user_companies(request.go_user))
    if request.method == "POST":
        company = next((c for c in choices if str(c.pk) == request.POST.get("company_id")), None)
        if company is None:
            return HttpResponseBadRequest("Ukjent selskap.")
        choose_company(request, company)
        return redirect("pogo_screens:home")
    return render(request, "pogo_sandbox/companies.html", {"companies": choices})


# --- Innstillinger → Purring & inkasso -----------------------------------------------------------


@company_required
def reminder_settings(request):
    company = request.go_company
    form = ReminderSettingsForm(request.POST or None, instance=company)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Innstillingene for purring og inkasso er lagret.")
        return redirect("pogo_screens:reminder_settings")
    return render(request, "pogo_sandbox/settings_reminders.html", {"form": form})


# --- Kunder --------------------------------------------------------------------------------------


@company_required
def customer_list(request):
    query = request.GET.get("q", "").strip()
    customers = request.go_company.customers.annotate(
        open_balance=Sum("invoices__balance", filter=Q(invoices__balance__gt=0))
    ).order_by("number")
    if query:
        match = (
            Q(name__icontains=query)
            | Q(email_address__icontains=query)
            | Q(organization_number__icontains=query)
        )
        if query.isdigit():
            match |= Q(number=int(query))
        customers = customers.filter(match)
    page = Paginator(customers, 50).get_page(request.GET.get("side"))
    return render(request, "pogo_sandbox/customer_list.html", {"page": page, "query": query})


ACTION_FORMS = {form.action: form for form in (PaymentForm, CreditNoteForm, WriteOffForm)}


def _is_open(invoice: OutgoingInvoice) -> bool:
    return invoice.voucher_type == "OutgoingInvoice" and invoice.balance > 0


def _render_card(request, customer: Customer, form: CustomerForm, failed=None, status=200):
    """The customer card; ``failed`` is an invoice action form with errors to show inline."""
    today = domain.oslo_today()
    invoices = []
    for invoice in customer.invoices.select_related("debt_case").order_by(
        "-voucher_date", "-invoice_no"
    ):
        actions = []
        if _is_open(invoice):
            for action, form_class in ACTION_FORMS.items():
                if (
                    failed is not None
                    and failed.invoice.pk == invoice.pk
                    and failed.action == action
                ):
                    actions.append(failed)
                else:
                    actions.append(form_class(invoice=invoice, today=today))
        invoices.append({"invoice": invoice, "actions": actions})
    return render(
        request,
        "pogo_sandbox/customer_card.html",
        {"customer": customer, "form": form, "invoices": invoices, "today": today},
        status=status,
    )


@company_required
def customer_card(request, customer_id):
    customer = get_object_or_404(Customer, pk=customer_id, company=request.go_company)
    form = CustomerForm(request.POST or None, instance=customer)
    if request.method == "POST":
        if form.is_valid():
            customer = form.save(commit=False)
            customer.last_changed = timezone.now()
            customer.save()
            messages.success(request, "Kundekortet er lagret.")
            return redirect("pogo_screens:customer", customer_id=customer.pk)
        # Validation wrote the rejected values onto form.instance: show the stored customer.
        stored = Customer.objects.get(pk=customer.pk)
        return _render_card(request, stored, form, status=400)
    return _render_card(request, customer, form)


MONEY_DONE = {
    "innbetaling": "Innbetaling på {amount} er registrert på faktura {no}.",
    "kreditnota": "Kreditnota på {amount} er registrert på faktura {no}.",
    "avskriv": "Faktura {no} er avskrevet ({amount}).",
}


@company_required
@require_POST
def invoice_action(request, invoice_id, action):
    form_class = ACTION_FORMS.get(action)
    if form_class is None:
        raise Http404
    invoice = get_object_or_404(
        OutgoingInvoice.objects.select_related("customer"),
        pk=invoice_id,
        company=request.go_company,
    )
    customer = invoice.customer
    if not _is_open(invoice):
        messages.error(request, f"Faktura {invoice.invoice_no} har ingen åpen saldo.")
        return redirect("pogo_screens:customer", customer_id=customer.pk)
    form = form_class(request.POST, invoice=invoice, today=domain.oslo_today())
    if form.is_valid():
        on = form.cleaned_data["on"]
        try:
            if action == "innbetaling":
                entry = domain.register_payment(invoice, amount=form.cleaned_data["amount"], on=on)
            elif action == "kreditnota":
                entry = domain.register_credit_note(
                    invoice, amount=form.cleaned_data["amount"], on=on
                )
            else:
                entry = domain.write_off(invoice, on=on)
        except domain.SandboxError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                MONEY_DONE[action].format(amount=format_nok(-entry.amount), no=invoice.invoice_no),
            )
            return redirect("pogo_screens:customer", customer_id=customer.pk)
    return _render_card(request, customer, CustomerForm(instance=customer), form, status=400)


# --- Inkasso ------------------------------------------------------------------------------------


def _inkasso_page(request, tab: str, context: dict):
    company = request.go_company
    return render(
        request,
        "pogo_sandbox/inkasso.html",
        {"tab": tab, "counts": _inkasso_counts(company), "company": company, **context},
    )


def _invoices_in(company, status):
    return (
        company.invoices.filter(debt_collection_status=status)
        .select_related("customer")
        .order_by("due_date", "invoice_no")
    )


@company_required
def inkasso_drafts(request):
    company = request.go_company
    today = domain.oslo_today()
    domain.refresh_drafts(company, today=today)
    invoices = list(_invoices_in(company, Status.DRAFT))
    for invoice in invoices:
        invoice.days_overdue = (today - invoice.due_date).days
    return _inkasso_page(request, "utkast", {"invoices": invoices})


@company_required
def inkasso_approved(request):
    invoices = _invoices_in(request.go_company, Status.APPROVED)
    return _inkasso_page(request, "godkjent", {"invoices": invoices})


@company_required
def inkasso_open(request):
    cases = request.go_company.debt_cases.prefetch_related("invoices").order_by(
        "status", "-last_changed"
    )
    return _inkasso_page(request, "apne", {"cases": cases})


def _plural_invoices(n: int) -> str:
    return "1 faktura" if n == 1 else f"{n} fakturaer"


@company_required
@require_POST
def inkasso_approve(request):
    company = request.go_company
    if request.POST.get("alle"):
        approved = domain.approve_drafts(company)
    else:
        invoice_id = request.POST.get("invoice_id", "")
        if not company.invoices.filter(pk=_uuid_or_none(invoice_id)).exists():
            return HttpResponseBadRequest("Ukjent faktura.")
        approved = domain.approve_drafts(company, invoice_ids=[invoice_id])
    if approved:
        messages.success(
            request,
            f"{_plural_invoices(approved).capitalize()} godkjent for overføring til "
            "inkassobyrået. De ligger under Godkjent til inkassobyrået henter dem.",
        )
    else:
        messages.warning(request, "Ingen fakturaer ble godkjent: utkastene er allerede behandlet.")
    return redirect("pogo_screens:inkasso")


@company_required
@require_POST
def inkasso_remove(request):
    company = request.go_company
    invoice = company.invoices.filter(pk=_uuid_or_none(request.POST.get("invoice_id", ""))).first()
    if invoice is None:
        return HttpResponseBadRequest("Ukjent faktura.")
    try:
        domain.remove_draft(company, invoice_id=invoice.pk)
    except domain.SandboxError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Faktura {invoice.invoice_no} er fjernet fra Utkast og sendes ikke til inkasso.",
        )
    return redirect("pogo_screens:inkasso")


def _uuid_or_none(value: str):
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError):
        return None


# --- Bilagsmottak ---------------------------------------------------------------------------------


def _amount(value) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None


def _voucher_accounts(company) -> dict:
    """Account id → its label: general-ledger accounts, and customers' sub-ledgers (Go shows
    those as «Kunde 10012 Navn»)."""
    labels = {
        a.pk: f"{a.account_no} {a.name}"
        for a in GeneralLedgerAccount.objects.filter(company=company)
    }
    for customer in Customer.objects.filter(
        company=company, subledger_account_id__isnull=False
    ).only("subledger_account_id", "number", "name"):
        labels[customer.subledger_account_id] = f"Kunde {customer.number} {customer.name}"
    return labels


def _voucher_rows(voucher: JournalVoucher, accounts: dict) -> list[dict]:
    def account(account_id):
        if account_id in (None, ""):
            return ""
        return accounts.get(account_id) or f"Konto-ID {account_id}"

    rows = []
    for line in domain.voucher_lines(voucher):
        rows.append(
            {
                "debit": account(line.get("DebitAccountId")),
                "credit": account(line.get("CreditAccountId")),
                "account": account(line.get("AccountId")),
                "amount": _amount(line.get("CurrencyAmount")),
                "invoice_no": line.get("InvoiceNo") or "",
                "description": line.get("Description") or "",
            }
        )
    return rows


@company_required
def voucher_inbox(request):
    company = request.go_company
    accounts = _voucher_accounts(company)
    received = (
        company.vouchers.filter(is_posted=False)
        .select_related("application")
        .prefetch_related("pages")
    )
    posted = (
        company.vouchers.filter(is_posted=True)
        .select_related("application")
        .prefetch_related("pages")
    )
    return render(
        request,
        "pogo_sandbox/voucher_inbox.html",
        {
            "received": [
                {"voucher": v, "rows": _voucher_rows(v, accounts)}
                for v in received.order_by("created_at")
            ],
            "posted": [
                {"voucher": v, "rows": _voucher_rows(v, accounts)}
                for v in posted.order_by("-posted_at")[:50]
            ],
        },
    )


@company_required
@require_POST
def voucher_post(request, voucher_id):
    voucher = get_object_or_404(JournalVoucher, pk=voucher_id, company=request.go_company)
    try:
        domain.post_voucher(voucher)
    except domain.SandboxError as error:
        messages.error(request, f"Bilaget ble ikke bokført: {error}")
    else:
        voucher.refresh_from_db()
        messages.success(request, f"Bilaget er bokført som bilag nr. {voucher.voucher_no}.")
    return redirect("pogo_screens:voucher_inbox")


@company_required
def voucher_page(request, voucher_id, page_id):
    """A voucher page (an attached file, e.g. a settlement statement PDF), inline."""
    page = get_object_or_404(
        JournalVoucherPage, pk=page_id, voucher_id=voucher_id, voucher__company=request.go_company
    )
    response = HttpResponse(bytes(page.content), content_type=page.content_type)
    response["Content-Disposition"] = f'inline; filename="{page.filename}"'
    return response
