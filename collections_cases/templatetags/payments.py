"""``{% case_payments_with_allocations case as payments %}`` for the case pages."""

from django import template

from collections_cases.payments.selectors import case_payments_with_allocations as _select

register = template.Library()


@register.simple_tag
def case_payments_with_allocations(case):
    return _select(case) if case is not None and case.pk else []
