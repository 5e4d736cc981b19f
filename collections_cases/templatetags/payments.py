"""``{% case_payments_with_allocations case as payments %}`` for the case pages."""

from django import template

from collections_cases.payments.selectors import case_payments_with_allocations as _select

register = template.Library()


@register.simple_tag
def case_payments_with_allocations(case):
    # A case from ``page_selectors.case_page_detail`` says whether it has any (``has_payments``,
    # read with the case): most have none, and then the section costs no query.
    if case is None or not case.pk or getattr(case, "has_payments", True) is False:
        return []
    return _select(case)
