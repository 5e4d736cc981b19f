"""``{% rule_table_warnings_staff as warnings %}``: the admin's warnings that a dated rule
table ends within 30 days (``collections_cases.dashboard.rule_warnings``)."""

from django import template
from django.utils import timezone

from collections_cases.dashboard.rule_warnings import rule_table_warnings

register = template.Library()


@register.simple_tag
def rule_table_warnings_staff():
    return rule_table_warnings(on=timezone.localdate(), staff=True)
