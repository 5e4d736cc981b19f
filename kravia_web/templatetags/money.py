from django import template
from django.utils.translation import get_language

from kravia_web.money import format_nok

register = template.Library()


@register.filter
def nok(value):
    """Render an amount the way the current language writes money: ``kr 1 234,50``."""
    return format_nok(value, get_language() or "nb")
