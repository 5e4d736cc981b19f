"""Reads for the REST API, always scoped to the one creditor the request acts for. Lists are
a fixed number of queries whatever their length (annotations and ``select_related``)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from collections_cases.cases.page_selectors import debtor_page_list
from collections_cases.models import CollectionCase, Invoice, LedgerEntry
from creditors.models import Creditor, Debtor


def case_api_list(
    *,
    creditor: Creditor,
    status: str = "",
    stage: str = "",
    debtor_id: int | None = None,
    search: str = "",
    updated_since: dt.datetime | None = None,
) -> QuerySet[CollectionCase]:
    qs = CollectionCase.objects.filter(creditor=creditor).select_related("debtor").with_balance()
    if status:
        qs = qs.filter(status=status)
    if stage:
        qs = qs.filter(stage=stage)
    if debtor_id is not None:
        qs = qs.filter(debtor_id=debtor_id)
    if updated_since is not None:
        qs = qs.filter(updated_at__gte=updated_since)
    search = search.strip()
    if search:
        match = Q(number__icontains=search) | Q(kid=search) | Q(debtor__name__icontains=search)
        if search.isdigit():
            match |= Q(
                pk__in=Invoice.objects.filter(
                    creditor=creditor, invoice_no=int(search), case__isnull=False
                ).values("case_id")
            )
        qs = qs.filter(match)
    return qs


def case_api_get(*, creditor: Creditor, case_id) -> CollectionCase:
    """The creditor's case with its balance; Http404 for anyone else's."""
    try:
        return case_api_list(creditor=creditor).get(pk=int(case_id))
    except (CollectionCase.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def case_ledger(case: CollectionCase) -> QuerySet[LedgerEntry]:
    return case.ledger_entries.select_related("invoice").order_by("booked_on", "id")


def debtor_api_list(*, creditor: Creditor, search: str = "") -> QuerySet[Debtor]:
    """The creditor's debtors with ``open_cases`` and ``outstanding`` (the open cases'
    balance), searched by name, e-mail, organisation or customer number."""
    qs = debtor_page_list(creditor=creditor).select_related("creditor")
    search = search.strip()
    if search:
        match = (
            Q(name__icontains=search)
            | Q(email__icontains=search)
            | Q(org_number__icontains=search.replace(" ", ""))
        )
        if search.isdigit():
            match |= Q(customer_number=int(search))
        qs = qs.filter(match)
    return qs


def debtor_api_get(*, creditor: Creditor, debtor_id) -> Debtor:
    try:
        return (
            debtor_api_list(creditor=creditor)
            .prefetch_related(
                Prefetch(
                    "cases",
                    queryset=CollectionCase.objects.order_by("-created_at", "-pk"),
                    to_attr="case_list",
                )
            )
            .get(pk=int(debtor_id))
        )
    except (Debtor.DoesNotExist, TypeError, ValueError):
        raise Http404 from None
