"""Read-side helpers for payments (used by the case pages through a template tag)."""

from django.db.models import Prefetch

from collections_cases.models import CollectionCase, Payment, PaymentAllocation


def case_payments_with_allocations(case: CollectionCase) -> list[Payment]:
    """The case's allocated payments, oldest first, each with its split prefetched."""
    return list(
        Payment.objects.filter(
            case=case, status__in=[Payment.Status.ALLOCATED, Payment.Status.REFUNDED]
        )
        .prefetch_related(
            Prefetch("allocations", queryset=PaymentAllocation.objects.order_by("id"))
        )
        .order_by("paid_on", "id")
    )
