"""Kundeweb *Klar for inkasso*: which invoices are listed, and starting cases from them."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from collections_cases.models import CaseEvent, CollectionCase, Invoice
from tests.collections_cases.factories import DebtorFactory, InvoiceFactory
from tests.collections_cases.factories_pages import collectable_debtor, open_case, overdue
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _listed(client):
    response = client.get(reverse("ready_for_collection"))
    assert response.status_code == 200
    return {invoice.pk for invoice in response.context["page"].object_list}


def _start(client, invoices):
    return client.post(reverse("ready_for_collection"), {"invoices": [i.pk for i in invoices]})


def test_only_overdue_unpaid_invoices_of_collectable_debtors_outside_cases_are_listed(
    logged_in_client, creditor
):
    debtor = collectable_debtor(creditor)
    ready = InvoiceFactory(debtor=debtor, due_date=overdue(20))
    InvoiceFactory(debtor=debtor, due_date=timezone.localdate())  # due today: not overdue
    InvoiceFactory(debtor=debtor, due_date=overdue(20), balance=0)  # paid
    InvoiceFactory(debtor=debtor, due_date=overdue(20), currency="SEK")
    open_case(creditor, debtor=debtor)  # its invoice is in a case
    InvoiceFactory(debtor=DebtorFactory(creditor=creditor), due_date=overdue(20))  # no transfer
    InvoiceFactory(
        debtor=collectable_debtor(creditor, collection_opt_out=True), due_date=overdue(20)
    )
    InvoiceFactory(debtor=collectable_debtor(MembershipFactory().creditor), due_date=overdue(20))

    assert _listed(logged_in_client) == {ready.pk}


def test_the_empty_page_explains_what_shows_up_here(logged_in_client, creditor):
    response = logged_in_client.get(reverse("ready_for_collection"))

    assert "Ingen fakturaer er klare for inkasso" in response.content.decode()


def test_start_opens_one_case_per_debtor_merging_its_invoices(logged_in_client, creditor, user):
    first, second = collectable_debtor(creditor), collectable_debtor(creditor)
    a1 = InvoiceFactory(debtor=first, due_date=overdue(40))
    a2 = InvoiceFactory(debtor=first, due_date=overdue(20))
    b1 = InvoiceFactory(debtor=second, due_date=overdue(20))
    untouched = InvoiceFactory(debtor=second, due_date=overdue(20))

    response = _start(logged_in_client, [a1, a2, b1])

    assert response["Location"] == reverse("ready_for_collection")
    cases = CollectionCase.objects.filter(creditor=creditor)
    assert cases.count() == 2
    first_case = cases.get(debtor=first)
    assert set(first_case.invoices.values_list("pk", flat=True)) == {a1.pk, a2.pk}
    assert first_case.status == CollectionCase.Status.ACTIVE
    assert set(cases.get(debtor=second).invoices.values_list("pk", flat=True)) == {b1.pk}
    assert Invoice.objects.get(pk=untouched.pk).case is None
    created = CaseEvent.objects.get(case=first_case, kind=CaseEvent.Kind.CREATED)
    assert created.actor == user
    assert _listed(logged_in_client) == {untouched.pk}


def test_start_honours_approve_cases_before_start(logged_in_client, creditor):
    creditor.approve_cases_before_start = True
    creditor.save()
    invoice = InvoiceFactory(debtor=collectable_debtor(creditor), due_date=overdue(20))

    _start(logged_in_client, [invoice])

    case = CollectionCase.objects.get()
    assert case.status == CollectionCase.Status.AWAITING_APPROVAL


def test_start_skips_opted_out_debtors_and_says_so(logged_in_client, creditor):
    allowed = InvoiceFactory(debtor=collectable_debtor(creditor), due_date=overdue(20))
    opted_out = InvoiceFactory(
        debtor=collectable_debtor(creditor, collection_opt_out=True), due_date=overdue(20)
    )

    response = _start(logged_in_client, [allowed, opted_out])
    page = logged_in_client.get(response["Location"]).content.decode()

    assert CollectionCase.objects.get().debtor == allowed.debtor
    assert Invoice.objects.get(pk=opted_out.pk).case is None
    assert str(opted_out.invoice_no) in page
    assert "ble ikke sendt til inkasso" in page


def test_start_without_a_selection_changes_nothing(logged_in_client, creditor):
    InvoiceFactory(debtor=collectable_debtor(creditor), due_date=overdue(20))

    response = logged_in_client.post(reverse("ready_for_collection"), {})

    assert response.status_code == 200
    assert "Velg minst én faktura" in response.content.decode()
    assert not CollectionCase.objects.exists()


def test_starting_another_creditors_invoice_is_a_404(logged_in_client, creditor):
    foreign = InvoiceFactory(
        debtor=collectable_debtor(MembershipFactory().creditor), due_date=overdue(20)
    )

    response = _start(logged_in_client, [foreign])

    assert response.status_code == 404
    assert not CollectionCase.objects.exists()


@pytest.mark.parametrize("count", [5, 60])
def test_the_page_runs_a_constant_number_of_queries(
    logged_in_client, creditor, django_assert_max_num_queries, count
):
    for _ in range(count):
        InvoiceFactory(debtor=collectable_debtor(creditor), due_date=overdue(10))

    with django_assert_max_num_queries(10):
        listed = _listed(logged_in_client)

    assert len(listed) == count


def test_the_due_date_is_compared_with_today_in_oslo(client, user, creditor):
    # 23:30 UTC on 31 Dec is already 1 Jan in Oslo: an invoice due 31 Dec is overdue there.
    invoice = InvoiceFactory(debtor=collectable_debtor(creditor), due_date=dt.date(2026, 12, 31))
    with time_machine.travel(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC), tick=False):
        client.force_login(user)
        assert _listed(client) == {invoice.pk}


def test_invoices_join_the_debtors_case_still_at_the_inkassovarsel(logged_in_client, creditor):
    debtor = collectable_debtor(creditor)
    case = open_case(creditor, debtor=debtor)
    later = InvoiceFactory(debtor=debtor, due_date=overdue(3))

    _start(logged_in_client, [later])

    assert CollectionCase.objects.filter(debtor=debtor).count() == 1
    assert Invoice.objects.get(pk=later.pk).case_id == case.pk
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.INVOICES_ADDED).count() == 1


def test_a_debtor_whose_case_is_past_the_inkassovarsel_gets_a_new_case(logged_in_client, creditor):
    debtor = collectable_debtor(creditor)
    case = open_case(creditor, debtor=debtor)
    CollectionCase.objects.filter(pk=case.pk).update(
        stage=CollectionCase.Stage.BETALINGSOPPFORDRING
    )
    later = InvoiceFactory(debtor=debtor, due_date=overdue(3))

    _start(logged_in_client, [later])

    new_case = Invoice.objects.get(pk=later.pk).case
    assert new_case is not None
    assert new_case.pk != case.pk
