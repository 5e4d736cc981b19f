import pytest
from django.http import Http404

from collections_cases.cases.selectors import case_get_for_user, case_list_for_user
from collections_cases.models import CollectionCase
from tests.collections_cases.factories import (
    CollectionCaseFactory,
    DebtorFactory,
    InvoiceFactory,
    LedgerEntryFactory,
)
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_user_sees_only_cases_of_their_creditors(user, creditor):
    mine = CollectionCaseFactory(debtor__creditor=creditor)
    LedgerEntryFactory(case=mine)
    theirs = CollectionCaseFactory()

    assert list(case_list_for_user(user=user)) == [mine]
    assert case_get_for_user(user=user, case_id=mine.pk).balance == 1000
    with pytest.raises(Http404):
        case_get_for_user(user=user, case_id=theirs.pk)


def test_user_with_two_creditors_sees_both_once(user, creditor):
    other = MembershipFactory(user=user).creditor
    MembershipFactory(creditor=creditor)  # a colleague does not duplicate rows
    a = CollectionCaseFactory(debtor__creditor=creditor)
    b = CollectionCaseFactory(debtor__creditor=other)

    assert set(case_list_for_user(user=user)) == {a, b}
    assert case_list_for_user(user=user).count() == 2
    assert list(case_list_for_user(user=user, creditor=other)) == [b]


def test_list_filters_by_status_and_searches(user, creditor):
    debtor = DebtorFactory(creditor=creditor, name="Hansen Rør AS")
    active = CollectionCaseFactory(debtor=debtor)
    paused = CollectionCaseFactory(debtor__creditor=creditor, status=CollectionCase.Status.PAUSED)
    invoice = InvoiceFactory(debtor=paused.debtor, invoice_no=77123, case=paused)

    assert list(case_list_for_user(user=user, status="paused")) == [paused]
    assert list(case_list_for_user(user=user, search="hansen")) == [active]
    assert list(case_list_for_user(user=user, search=active.number)) == [active]
    assert list(case_list_for_user(user=user, search=paused.kid)) == [paused]
    assert list(case_list_for_user(user=user, search=str(invoice.invoice_no))) == [paused]
    assert list(case_list_for_user(user=user, search="ingen treff")) == []
