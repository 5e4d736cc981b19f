"""Allocation properties: for any sequence of costs, reductions and payments the
allocations add up to the payments, follow the configured order, never push a component
below zero, and the case balance stays the ledger sum — 0 or more, an overpayment held as
a refund due."""

import datetime as dt
from decimal import Decimal

from django.conf import settings as django_settings
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from collections_cases.cases.selectors import case_balance
from collections_cases.models import LedgerEntry, Payment, PaymentAllocation
from collections_cases.payments import services
from tests.collections_cases.factories import CollectionCaseFactory, LedgerEntryFactory

Kind = LedgerEntry.Kind
DAY = dt.date(2026, 11, 5)
ORE = Decimal("0.01")

amounts = st.integers(min_value=1, max_value=500_000).map(lambda ore: Decimal(ore) * ORE)
operations = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["fee", "salaer", "interest"]), amounts),
        st.tuples(st.just("reduction"), amounts),
        st.tuples(st.just("pay"), amounts),
    ),
    max_size=8,
)
orders = st.permutations(["fee", "salaer", "interest", "principal"])


class TestAllocationProperties(HypothesisTestCase):
    @settings(max_examples=30, deadline=None)
    @given(principal=amounts, ops=operations, order=orders)
    def test_payments_allocation_invariants(self, principal, ops, order):
        with self.settings(PAYMENT_ALLOCATION_ORDER=list(order)):
            self._run(principal, ops, list(order))

    def _run(self, principal, ops, order):
        assert django_settings.PAYMENT_ALLOCATION_ORDER == order
        case = CollectionCaseFactory()
        LedgerEntryFactory(case=case, kind=Kind.PRINCIPAL, amount=principal)
        # The model: what is outstanding per component, reduced in the same order.
        model = {"fee": Decimal(0), "salaer": Decimal(0), "interest": Decimal(0)}
        model["principal"] = principal
        paid_total = Decimal(0)
        refund_total = Decimal(0)
        for number, (op, amount) in enumerate(ops):
            case.refresh_from_db()
            if op in ("fee", "salaer", "interest"):
                if not case.is_open:
                    continue
                LedgerEntryFactory(case=case, kind=op, amount=amount)
                model[op] += amount
            elif op == "reduction":
                amount = min(amount, sum(model.values()))
                if amount <= 0:
                    continue
                LedgerEntryFactory(case=case, kind=Kind.REDUCTION, amount=-amount)
                left = amount
                for component in order:
                    take = min(left, model[component])
                    model[component] -= take
                    left -= take
            else:
                payment = Payment.objects.create(
                    source=Payment.Source.MANUAL,
                    external_reference=f"p{number}",
                    amount=amount,
                    paid_on=DAY,
                )
                services.payment_allocate(payment=payment, case=case)
                expected, left = [], amount
                for component in order:
                    take = min(left, model[component])
                    if take > 0:
                        expected.append((component, take))
                        model[component] -= take
                        left -= take
                if left > 0:
                    expected.append(("overpayment", left))
                    refund_total += left
                actual = [(a.component, a.amount) for a in payment.allocations.order_by("id")]
                assert actual == expected  # the order is respected
                paid_total += amount
            self._check(case, model, paid_total, refund_total, paid_now=op == "pay")

    def _check(self, case, model, paid_total, refund_total, paid_now):
        allocations = PaymentAllocation.objects.filter(case=case)
        assert sum((a.amount for a in allocations), Decimal(0)) == paid_total
        assert all(a.amount > 0 for a in allocations)
        assert all(a.ledger_entry.amount == -a.amount for a in allocations)
        outstanding = services.case_outstanding_by_component(case)
        assert outstanding == model
        assert all(value >= 0 for value in outstanding.values())
        ledger_sum = sum((e.amount for e in LedgerEntry.objects.filter(case=case)), Decimal(0))
        assert case_balance(case) == ledger_sum == sum(model.values())
        assert ledger_sum >= 0
        refunds = LedgerEntry.objects.filter(case=case, kind=Kind.REFUND_DUE)
        assert sum((e.amount for e in refunds), Decimal(0)) == refund_total
        case.refresh_from_db()
        if paid_now and ledger_sum == 0:
            assert not case.is_open  # a payment that clears the balance closes the case
