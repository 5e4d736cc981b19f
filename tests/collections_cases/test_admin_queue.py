"""The admin's front page: today's queue for case handlers. Each count equals the rows its
link shows, and the link shows exactly the queue's items."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from collections_cases.cases.staff_queue import BY_KEY, QUEUES, staff_queue
from collections_cases.models import (
    CollectionCase,
    Letter,
    LetterDelivery,
    Payment,
    PaymentPlan,
    Settlement,
)
from collections_cases.settlements import services as settlement_services
from tests.collections_cases.factories import CollectionCaseFactory
from tests.factories import CreditorFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = CollectionCase.Status


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def delivery(case, step, **fields):
    today = timezone.localdate()
    letter = Letter.objects.create(
        case=case, kind=Letter.Kind.INKASSOVARSEL, step=step, sent_on=today, deadline=today
    )
    # Registering a letter may queue its first delivery already: that row becomes this one.
    LetterDelivery.objects.filter(letter=letter).delete()
    return LetterDelivery.objects.create(letter=letter, recipient="x@example.no", **fields)


def settlement(creditor, voucher_status, days_ago):
    today = timezone.localdate() - dt.timedelta(days=days_ago)
    return Settlement.objects.create(
        creditor=creditor,
        settled_on=today,
        period_start=today,
        period_end=today,
        bookkeeping_mode="none",
        vat_registered=False,
        interest_to="agency",
        vat_percent=Decimal("25"),
        voucher_status=voucher_status,
        **{name: Decimal("1.00") for name in settlement_services.MONEY_FIELDS},
    )


@pytest.fixture
def waiting():
    """Two items in every queue, and one look-alike that is not in it."""
    today = timezone.localdate()
    for _ in range(2):
        CollectionCaseFactory(status=Status.DISPUTED)
        CollectionCaseFactory(next_action=CollectionCase.NextAction.START_LEGAL)
        CollectionCaseFactory(limitation_date=today - dt.timedelta(days=1))
        CollectionCaseFactory(limitation_date=today + dt.timedelta(days=10))
        PaymentPlan.objects.create(case=CollectionCaseFactory(), total=Decimal("100.00"))
        CreditorFactory(verified_at=None)
    CollectionCaseFactory(status=Status.CLOSED, limitation_date=today - dt.timedelta(days=1))
    CollectionCaseFactory(status=Status.CLOSED, next_action=CollectionCase.NextAction.START_LEGAL)
    CollectionCaseFactory(limitation_date=today + dt.timedelta(days=200))
    PaymentPlan.objects.create(
        case=CollectionCaseFactory(), total=Decimal("1.00"), status=PaymentPlan.Status.DECLINED
    )
    for n, status in enumerate(["unmatched", "ambiguous", "allocated"]):
        Payment.objects.create(
            source="manual",
            external_reference=f"ref-{n}",
            amount="10.00",
            paid_on=today,
            status=status,
        )
    case = CollectionCaseFactory()
    delivery(case, "a", channel="email", status="failed")
    delivery(case, "b", channel="email", status="bounced")
    delivery(case, "c", channel="email", status="sent")
    delivery(case, "d", channel="post", status="print_queued")
    delivery(case, "e", channel="post", status="print_queued")
    delivery(case, "f", channel="post", status="posted")
    settlement(case.creditor, "blocked", 0)
    settlement(case.creditor, "failed", 1)
    settlement(case.creditor, "posted", 2)


def test_every_queue_counts_what_its_link_shows(admin_client, waiting):
    entries = staff_queue(on=timezone.localdate())

    assert [e.key for e in entries] == [q.key for q in QUEUES]
    for entry in entries:
        response = admin_client.get(entry.url)
        assert response.status_code == 200, entry.key
        cl = response.context["cl"]
        assert (entry.key, entry.count) == (entry.key, 2), entry.key
        assert cl.result_count == entry.count, entry.key
        expected = set(BY_KEY[entry.key].items(timezone.localdate()).values_list("pk", flat=True))
        assert {obj.pk for obj in cl.result_list} == expected, entry.key


def test_the_front_page_lists_the_queue_with_counts_and_links(admin_client, waiting):
    response = admin_client.get(reverse("admin:index"))

    text = response.content.decode()
    assert "Dagens arbeidskø" in text
    for entry in staff_queue(on=timezone.localdate()):
        assert f'data-queue="{entry.key}"' in text
        assert f'href="{entry.url}"' in text.replace("&amp;", "&")
    assert text.count("<strong>2</strong>") >= len(QUEUES)


def test_the_queue_filter_shows_only_the_items_of_that_queue(admin_client, waiting):
    changelist = reverse("admin:collections_cases_collectioncase_changelist")

    response = admin_client.get(changelist, {"ko": "innsigelser"})

    assert {c.status for c in response.context["cl"].result_list} == {Status.DISPUTED}
    assert "Innsigelser å avklare" in response.content.decode()


def test_the_front_page_names_the_third_party_apps_in_norwegian(admin_client):
    text = admin_client.get(reverse("admin:index")).content.decode()

    for norwegian in ["Innloggingsforsøk", "Planlagte oppgaver"]:
        assert norwegian in text, norwegian
    for english in ["Access attempts", "Periodic tasks", "Periodic Tasks"]:
        assert english not in text, english
