"""Reads for Min side: what the debtor is told about the case, in the debtor's words.

Kundeweb and the admin speak the agency's language («Venter godkjenning», «Overvåkning»); a
debtor needs to know where the claim stands and what to do. :data:`DEBTOR_STATUS` is the one
place a case status becomes such words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from collections_cases.models import CollectionCase, PaymentPlan

Status = CollectionCase.Status


@dataclass(frozen=True)
class DebtorStatus:
    label: str
    #: The badge colour: "ok", "warn", "danger" or "" (neutral).
    tone: str


#: Case status → what Min side calls it. The dunning stage is left out on purpose: it is the
#: step the case is at *or heading to*, not necessarily a letter the debtor has received (the
#: letter list says what was sent). The paused case with an accepted plan has its own words.
DEBTOR_STATUS: dict[str, DebtorStatus] = {
    Status.AWAITING_APPROVAL: DebtorStatus(_("Under behandling"), ""),
    Status.ACTIVE: DebtorStatus(_("Til betaling"), "warn"),
    Status.PAUSED: DebtorStatus(_("Stanset midlertidig"), ""),
    Status.DISPUTED: DebtorStatus(_("Innsigelsen din behandles"), ""),
    Status.LEGAL: DebtorStatus(_("Sendt til rettslig inndriving"), "danger"),
    Status.MONITORING: DebtorStatus(_("Ubetalt – vi følger opp senere"), "warn"),
    Status.CLOSED: DebtorStatus(_("Avsluttet"), "ok"),
}
ON_PLAN = DebtorStatus(_("Betalingsplan godtatt"), "ok")


def debtor_status(*, case: CollectionCase, plan: PaymentPlan | None = None) -> DebtorStatus:
    """What Min side calls the case's state; ``plan`` is the case's latest payment plan."""
    if (
        plan is not None
        and plan.status == PaymentPlan.Status.ACCEPTED
        and case.status
        in (
            Status.PAUSED,
            Status.ACTIVE,
        )
    ):
        return ON_PLAN
    return DEBTOR_STATUS[case.status]


@dataclass(frozen=True)
class NextInstalment:
    number: int
    due_date: date
    #: What is left to pay of this instalment (a part payment counts).
    amount: Decimal
    #: The instalments still unpaid, this one included.
    left: int


def plan_next_instalment(plan_rows: list[dict]) -> NextInstalment | None:
    """The first instalment not yet paid in full, from ``payment_plan_progress`` rows."""
    unpaid = [row for row in plan_rows if not row["is_paid"]]
    if not unpaid:
        return None
    row = unpaid[0]
    instalment = row["instalment"]
    return NextInstalment(
        number=instalment.number,
        due_date=instalment.due_date,
        amount=instalment.amount - row["paid"],
        left=len(unpaid),
    )
