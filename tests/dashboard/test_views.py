"""The Oversikt pages: landing, tasks with their links, charts, scoping and the query bound."""

import datetime as dt

import pytest
from django.urls import reverse

from collections_cases.models import CollectionCase, Letter
from collections_cases.models import PaymentAllocation as Alloc
from tests.dashboard.builders import case, close, letter, payment
from tests.factories import CreditorFactory, MembershipFactory

pytestmark = pytest.mark.django_db
Status = CollectionCase.Status


def test_home_lands_on_the_dashboard(logged_in_client, creditor):
    assert logged_in_client.get(reverse("home"))["Location"] == reverse("dashboard")


def test_dashboard_without_creditor_sends_to_add(logged_in_client):
    assert logged_in_client.get(reverse("dashboard"))["Location"] == reverse("creditor_add")


def test_empty_dashboard_says_what_to_do(logged_in_client, creditor):
    html = logged_in_client.get(reverse("dashboard")).content.decode()
    assert "Du har ingen saker ennå" in html
    assert "Ingen innbetalinger de siste 12 månedene" in html
    assert "<svg" not in html
    assert 'data-task="connection_missing"' in html  # the only task: connect PowerOffice Go


def test_dashboard_shows_tasks_totals_and_charts(logged_in_client, creditor):
    waiting = case(
        creditor, principal="2000.00", status=Status.AWAITING_APPROVAL, approval_kind="start"
    )
    paid = case(creditor, principal="500.00", created=dt.date.today() - dt.timedelta(days=12))
    payment(paid, paid_on=dt.date.today(), parts={Alloc.Component.PRINCIPAL: "500.00"})
    letter(paid, Letter.Kind.INKASSOVARSEL)
    close(paid, reason=CollectionCase.CloseReason.PAID, on=dt.date.today())
    response = logged_in_client.get(reverse("dashboard"))
    html = response.content.decode()
    assert reverse("case_detail", args=[waiting.pk]) + "#handlinger" in html
    assert 'data-stat="open_cases">1<' in html
    assert 'data-stat="outstanding">kr 2\xa0000,00<' in html
    assert 'data-stat="collected_month">kr 500,00<' in html
    for chart in ("chart-collected", "chart-status", "chart-days", "chart-recovery"):
        assert f'<svg class="chart chart-wide" id="{chart}"' in html
        assert f'<svg class="chart chart-narrow" id="{chart}-phone"' in html
        assert f'<title id="{chart}-title">' in html
    assert "<table" in html  # the figures as a table for screen readers
    assert 'aria-current="page">Oversikt' in html


def test_a_user_of_creditor_b_never_sees_a(client):
    a = MembershipFactory().creditor
    case(a, principal="7777.00", status=Status.DISPUTED)
    b = MembershipFactory()
    case(b.creditor, principal="100.00")
    client.force_login(b.user)
    # Trying to make A active is a 404 and changes nothing.
    assert client.post(reverse("creditor_switch"), {"creditor_id": a.pk}).status_code == 404
    html = client.get(reverse("dashboard")).content.decode()
    assert "7\xa0777" not in html
    assert 'data-task="disputed"' not in html
    html = client.get(reverse("dashboard_all")).content.decode()
    assert a.name not in html


def test_accountant_sees_all_creditors_side_by_side_and_switches(client):
    accountant = MembershipFactory()
    user = accountant.user
    second = MembershipFactory(user=user, creditor=CreditorFactory(name="Zeta Regnskap AS"))
    case(second.creditor, principal="1234.00")
    client.force_login(user)
    html = client.get(reverse("dashboard_all")).content.decode()
    assert accountant.creditor.name in html and "Zeta Regnskap AS" in html
    assert "kr 1\xa0234,00" in html
    response = client.post(
        reverse("creditor_switch"),
        {"creditor_id": second.creditor.pk, "next": reverse("dashboard")},
    )
    assert response["Location"] == reverse("dashboard")
    html = client.get(reverse("dashboard")).content.decode()
    assert "Zeta Regnskap AS · " in html
    assert reverse("dashboard_all") in html


def _grow(creditor, n):
    for i in range(n):
        c = case(
            creditor,
            principal="100.00",
            status=[Status.ACTIVE, Status.DISPUTED, Status.AWAITING_APPROVAL][i % 3],
            approval_kind="start" if i % 3 == 2 else "",
        )
        payment(c, paid_on=dt.date.today(), parts={Alloc.Component.PRINCIPAL: "50.00"})
        if i % 4 == 0:
            close(c, reason=CollectionCase.CloseReason.PAID, on=dt.date.today())


@pytest.mark.parametrize("size", [3, 30])
def test_dashboard_query_count_does_not_grow(client, django_assert_max_num_queries, size):
    membership = MembershipFactory()
    _grow(membership.creditor, size)
    client.force_login(membership.user)
    # 22: the limitation flags' count is one query (their items only when there are some).
    with django_assert_max_num_queries(22):
        assert client.get(reverse("dashboard")).status_code == 200


@pytest.mark.parametrize("creditors", [1, 6])
def test_all_creditors_query_count_does_not_grow(client, django_assert_max_num_queries, creditors):
    membership = MembershipFactory()
    for i in range(creditors):
        extra = MembershipFactory(user=membership.user)
        _grow(extra.creditor, 2 + i)
    client.force_login(membership.user)
    with django_assert_max_num_queries(11):
        assert client.get(reverse("dashboard_all")).status_code == 200


def test_blocked_settlement_task_links_to_the_settlement_and_the_account_check(
    logged_in_client, creditor
):
    from collections_cases.models import Settlement
    from tests.dashboard.builders import settlement

    blocked = settlement(
        creditor,
        on=dt.date.today(),
        payout="120.00",
        voucher_status=Settlement.VoucherStatus.BLOCKED,
        voucher_error="Konto 7770 finnes ikke i PowerOffice Go.",
    )
    html = logged_in_client.get(reverse("dashboard")).content.decode()
    assert "Konto 7770 finnes ikke i PowerOffice Go." in html
    assert f'href="/utbetalinger/{blocked.pk}/">Se oppgjøret' in html
    assert reverse("creditor_poweroffice", args=[creditor.pk]) + "#kontosjekk" in html
