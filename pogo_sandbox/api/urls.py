"""The sandbox's HTTP APIs, relative to its mount (``/pogo/``).

Routes match case-insensitively and with or without a trailing slash, as the real Go does.
"""

from django.urls import re_path

from . import (
    customers,
    debt_collection,
    fallback,
    invoices,
    ledger,
    oauth,
    onboarding,
    organization,
    vouchers,
)

GUID = r"[0-9A-Fa-f-]{36}"


def _case_insensitive(pattern: str) -> str:
    """``Customers`` → ``[Cc][Uu]...`` outside groups and classes.

    An inline ``(?i)`` flag would do the same, but Django cannot reverse a pattern holding one,
    and one such pattern breaks ``reverse()`` for every URL of the site.
    """
    out, depth = [], 0
    for char in pattern:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if depth == 0 and char.isalpha() and char.lower() != char.upper():
            out.append(f"[{char.upper()}{char.lower()}]")
        else:
            out.append(char)
    return "".join(out)


def route(pattern: str, view, name: str):
    return re_path(rf"^{_case_insensitive(pattern)}/?$", view, name=name)


urlpatterns = [
    route("OAuth/Token", oauth.token_v2, "pogo-api-token-v2"),
    route("v1/OAuth/Token", oauth.token_v1, "pogo-api-token-v1"),
    # v2
    route("v2/Onboarding/Initiate", onboarding.initiate, "pogo-api-onboarding-initiate"),
    route("v2/Onboarding/Finalize", onboarding.finalize, "pogo-api-onboarding-finalize"),
    route(
        "v2/OrganizationSettings",
        organization.organization_settings,
        "pogo-api-organization-settings",
    ),
    route(
        "v2/ClientIntegrationInformation",
        organization.client_integration_information,
        "pogo-api-client-integration-information",
    ),
    route("v2/Customers", customers.customer_list, "pogo-api-customers"),
    route(r"v2/Customers/(?P<customer_id>\d+)", customers.customer_detail, "pogo-api-customer"),
    route("v2/OutgoingInvoices", invoices.invoice_list, "pogo-api-invoices"),
    route(
        rf"v2/OutgoingInvoices/(?P<invoice_id>{GUID})", invoices.invoice_detail, "pogo-api-invoice"
    ),
    route("v2/Customerledger/OpenItems", ledger.open_items, "pogo-api-open-items"),
    route("v2/Customerledger/Statement", ledger.statement, "pogo-api-statement"),
    route(
        "v2/Customerledger/EntriesByMatchId",
        ledger.entries_by_match_id,
        "pogo-api-entries-by-match-id",
    ),
    route("v2/GeneralLedgerAccounts", ledger.general_ledger_accounts, "pogo-api-accounts"),
    route("v2/VatCodes", ledger.vat_codes, "pogo-api-vat-codes"),
    route("v2/JournalEntryVouchers", vouchers.journal_entry_vouchers, "pogo-api-proposals"),
    route(
        "v2/JournalEntryVouchers/BankJournals",
        vouchers.bank_journal_proposal,
        "pogo-api-proposal-bank",
    ),
    route(
        rf"v2/JournalEntryVouchers/BankJournals/(?P<voucher_id>{GUID})",
        vouchers.bank_journal_proposal_detail,
        "pogo-api-proposal-bank-detail",
    ),
    route(
        rf"v2/JournalEntryVouchers/(?P<voucher_id>{GUID})/VoucherPages",
        vouchers.voucher_pages,
        "pogo-api-voucher-pages",
    ),
    route(
        "v2/JournalEntryVouchers/ManualJournals",
        vouchers.manual_journal_proposal,
        "pogo-api-proposal-manual",
    ),
    route("v2/Vouchers/BankJournals", vouchers.posted_bank_journal, "pogo-api-bank-journals"),
    route(
        "v2/VoucherDocumentation/Download",
        vouchers.voucher_documentation_download,
        "pogo-api-voucher-documentation-download",
    ),
    route(
        "v2/VoucherDocumentation",
        vouchers.voucher_documentation,
        "pogo-api-voucher-documentation",
    ),
    # v1 DebtCollection
    route(
        "v1/DebtCollection/IsActiveDebtCollection",
        debt_collection.is_active,
        "pogo-api-v1-is-active",
    ),
    route(
        "v1/DebtCollection/Invoices/AvailableInvoices",
        debt_collection.available_invoices,
        "pogo-api-v1-available-invoices",
    ),
    route(
        "v1/DebtCollection/AddInvoicesToCase",
        debt_collection.add_invoices_to_case,
        "pogo-api-v1-add-invoices",
    ),
    route("v1/DebtCollection/UpdateStatus", debt_collection.update_status, "pogo-api-v1-status"),
    route("v1/DebtCollection/MergeCases", debt_collection.merge_cases, "pogo-api-v1-merge"),
    route(
        "v1/DebtCollection/GetAllMatchedItems",
        debt_collection.matched_items,
        "pogo-api-v1-matched-items",
    ),
    route(
        rf"v1/DebtCollection/GetInvoicePdf/(?P<invoice_id>{GUID})",
        debt_collection.invoice_pdf_view,
        "pogo-api-v1-invoice-pdf",
    ),
    route(
        rf"v1/DebtCollection/(?P<case_id>{GUID})", debt_collection.case_detail, "pogo-api-v1-case"
    ),
    route("v1/DebtCollection", debt_collection.cases, "pogo-api-v1-cases"),
    # Anything else under the API prefixes: the API's own 404, not an HTML page.
    re_path(r"^[Vv]2/.*$", fallback.v2_not_found, name="pogo-api-v2-not-found"),
    re_path(r"^[Vv]1/.*$", fallback.v1_not_found, name="pogo-api-v1-not-found"),
]
