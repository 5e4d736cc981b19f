"""Reads of settlements, always scoped: to one creditor (the API key's, or the page's active
creditor) or to the creditors a user is a member of."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from collections_cases.models import Settlement, SettlementInvoicePart, SettlementLine
from creditors.models import Creditor


def settlement_list_for_creditor(*, creditor: Creditor) -> QuerySet[Settlement]:
    """The creditor's settlements, newest first, with ``cases_count``."""
    return (
        Settlement.objects.filter(creditor=creditor)
        .select_related("creditor")
        .annotate(cases_count=Count("lines"))
        .order_by("-settled_on", "-pk")
    )


def settlement_get_for_creditor(*, creditor: Creditor, settlement_id) -> Settlement:
    """One of the creditor's settlements with its lines (case and debtor); Http404 otherwise."""
    lines = SettlementLine.objects.select_related("case", "case__debtor").order_by("case__number")
    return get_object_or_404(
        Settlement.objects.filter(creditor=creditor)
        .select_related("creditor")
        .prefetch_related(Prefetch("lines", queryset=lines)),
        pk=settlement_id,
    )


def settlement_list_for_user(*, user) -> QuerySet[Settlement]:
    return Settlement.objects.filter(
        creditor__in=Creditor.objects.filter(memberships__user=user).values("pk")
    )


def settlement_go_posting(*, settlement: Settlement):
    """The first matched item PowerOffice Go reported for this settlement's voucher (its
    ``voucher_no`` is Go's voucher number), or None while Go has not reported it posted.

    ``settlement`` must come from :func:`settlement_get_for_creditor`."""
    part = (
        SettlementInvoicePart.objects.filter(
            line__settlement=settlement, pogo_matched_item__isnull=False
        )
        .select_related("pogo_matched_item")
        .order_by("pk")
        .first()
    )
    return part.pogo_matched_item if part else None
