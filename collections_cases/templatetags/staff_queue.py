"""``{% staff_queue_today as queue %}``: the admin front page's queue
(``collections_cases.cases.staff_queue``)."""

from django import template
from django.utils import timezone

from collections_cases.cases.staff_queue import staff_queue

register = template.Library()


@register.simple_tag
def staff_queue_today():
    return staff_queue(on=timezone.localdate())
