"""Every model of the case app, importable from one place.

The models live with their subdomain (``collections_cases/<subdomain>/models.py``); this package
imports them all, so ``from collections_cases.models import CollectionCase`` keeps working for
the rest of the project and the migrations. The app label (``collections_cases``) and the
tables are unchanged: a model moving between modules of one app needs no migration.
"""

from collections_cases.cases.models import (
    LEDGER_TOTAL_FIELDS,
    TRIGGER_KEPT_FIELDS,
    CaseCount,
    CaseEvent,
    CaseNumberSequence,
    CaseQuerySet,
    CollectionCase,
    InOre,
    Invoice,
)
from collections_cases.ledger.models import (
    LEDGER_COST_KINDS,
    LEDGER_CREDIT_KINDS,
    LEDGER_DEBIT_KINDS,
    LedgerEntry,
    LedgerKind,
)
from collections_cases.letters.models import Letter, LetterDelivery, PrintQueueItem
from collections_cases.models.base import (
    ZERO,
    AppendOnlyError,
    AppendOnlyModel,
    AppendOnlyQuerySet,
    money_field,
)
from collections_cases.notifications.models import CreditorNotification
from collections_cases.payments.models import (
    Payment,
    PaymentAllocation,
    PaymentImport,
    PaymentReversal,
)
from collections_cases.plans.models import (
    PaymentPlan,
    PaymentPlanInstalment,
    PaymentPlanQuerySet,
)
from collections_cases.portal.models import PortalAccess, PortalAccessQuerySet
from collections_cases.settlements.models import (
    Settlement,
    SettlementAmounts,
    SettlementClaim,
    SettlementInvoicePart,
    SettlementLine,
)

__all__ = [
    "LEDGER_COST_KINDS",
    "LEDGER_CREDIT_KINDS",
    "LEDGER_DEBIT_KINDS",
    "LEDGER_TOTAL_FIELDS",
    "TRIGGER_KEPT_FIELDS",
    "ZERO",
    "AppendOnlyError",
    "CaseCount",
    "AppendOnlyModel",
    "AppendOnlyQuerySet",
    "CaseEvent",
    "CaseNumberSequence",
    "CaseQuerySet",
    "CollectionCase",
    "CreditorNotification",
    "InOre",
    "Invoice",
    "LedgerEntry",
    "LedgerKind",
    "Letter",
    "LetterDelivery",
    "Payment",
    "PaymentAllocation",
    "PaymentImport",
    "PaymentPlan",
    "PaymentPlanInstalment",
    "PaymentPlanQuerySet",
    "PaymentReversal",
    "PortalAccess",
    "PortalAccessQuerySet",
    "PrintQueueItem",
    "Settlement",
    "SettlementAmounts",
    "SettlementClaim",
    "SettlementInvoicePart",
    "SettlementLine",
    "money_field",
]
