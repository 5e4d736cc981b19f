"""The sandbox's business logic: what PowerOffice Go itself does behind its screens and API.

Screens, API views and management commands call these functions and nothing else writes.
Every change bumps ``last_changed`` (and ``balance_last_changed`` when money moves) so the
API's exclusive incremental filters see it, exactly as polling the real Go would.

Rules picked where the sources are silent (keep them here, easy to change):

* Dunning letters from Go (purring / inkassovarsel) are "sent" ``LETTER_DAYS_AFTER_DUE`` days
  after the due date (a purring fee may not be charged earlier); an inkassovarsel following a
  purring goes out the day after the purring's deadline. Each letter's deadline is
  ``company.reminder_deadline_days``. Sending one only records ``last_reminder_*`` on the
  invoice (no fee is posted).
* "Fjern" in Inkasso → Utkast sets the invoice ON_HOLD: it leaves Utkast and ``refresh_drafts``
  (which only looks at status NONE) never brings it back.
* An invoice paid in full while in Utkast or Godkjent goes back to NONE: there is nothing to
  collect.

Parts: ``drafts`` (Inkasso → Utkast), ``ledger`` (customers, invoices, payments, credit notes,
write-offs), ``vouchers`` (inbox and posting), ``cases`` (v1 debt collection), ``onboarding``,
``operations`` (fault rules, request counter). Callers import from ``pogo_sandbox.domain``.
"""

from .cases import (
    add_invoices_to_case,
    available_invoices,
    create_case,
    debt_collection_active,
    matched_items_since,
    merge_cases,
    reject_case,
    update_case_status,
)
from .common import (
    OSLO,
    SandboxError,
    Status,
    oslo_today,
)
from .drafts import (
    FEE_FREE_REMINDER_DAYS,
    INKASSOVARSEL,
    LETTER_DAYS_AFTER_DUE,
    NO_REMINDER_DAYS,
    PURRING,
    approve_drafts,
    draft_date,
    dunning_letters,
    refresh_drafts,
    remove_draft,
)
from .ledger import (
    create_customer,
    create_invoice,
    register_credit_note,
    register_payment,
    write_off,
)
from .onboarding import (
    onboarding_accept,
    onboarding_companies_for,
    onboarding_finalize,
    onboarding_reject,
    onboarding_status_for,
)
from .operations import (
    COUNT_ATTEMPTS,
    clear_faults,
    count_request,
    prune_request_counts,
    request_counts,
    seed_faults,
    set_fault_rule,
)
from .vouchers import (
    RECEIVABLE_ACCOUNT_NO,
    DuplicateReference,
    VoucherPosted,
    account_ids,
    add_voucher_page,
    post_voucher,
    receive_voucher,
    voucher_balance,
    voucher_lines,
)

__all__ = [
    "COUNT_ATTEMPTS",
    "DuplicateReference",
    "FEE_FREE_REMINDER_DAYS",
    "INKASSOVARSEL",
    "LETTER_DAYS_AFTER_DUE",
    "NO_REMINDER_DAYS",
    "OSLO",
    "PURRING",
    "RECEIVABLE_ACCOUNT_NO",
    "SandboxError",
    "Status",
    "VoucherPosted",
    "account_ids",
    "add_voucher_page",
    "add_invoices_to_case",
    "approve_drafts",
    "available_invoices",
    "clear_faults",
    "count_request",
    "create_case",
    "create_customer",
    "create_invoice",
    "debt_collection_active",
    "draft_date",
    "dunning_letters",
    "matched_items_since",
    "merge_cases",
    "onboarding_accept",
    "onboarding_companies_for",
    "onboarding_finalize",
    "onboarding_reject",
    "onboarding_status_for",
    "oslo_today",
    "post_voucher",
    "prune_request_counts",
    "receive_voucher",
    "refresh_drafts",
    "register_credit_note",
    "register_payment",
    "reject_case",
    "remove_draft",
    "request_counts",
    "seed_faults",
    "set_fault_rule",
    "update_case_status",
    "voucher_balance",
    "voucher_lines",
    "write_off",
]
