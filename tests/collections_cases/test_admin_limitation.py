"""Admin: the limitation column and filter, the interruption and close-as-time-barred
actions, and the warnings that a rate table ends (case list and the admin's front page)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from collections_cases.cases import services as case_services
from collections_cases.models import CaseEvent, CollectionCase
from tests.collections_cases.factories import CollectionCaseFactory, InvoiceFactory
from tests.collections_cases.factories_pages import collectable_debtor
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
Status = CollectionCase.Status
CHANGELIST = reverse("admin:collections_cases_collectioncase_changelist")
TODAY = dt.date(2026, 3, 16)


def frozen(day: dt.date):
    return time_machine.travel(dt.datetime.combine(day, dt.time(9), tzinfo=OSLO), tick=False)


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_changelist_flags_and_filters_cases_by_limitation(admin_client):
    soon = CollectionCaseFactory(limitation_date=TODAY + dt.timedelta(days=30))
    passed = CollectionCaseFactory(limitation_date=TODAY, status=Status.PAUSED)
    later = CollectionCaseFactory(limitation_date=TODAY + dt.timedelta(days=61))
    closed = CollectionCaseFactory(limitation_date=TODAY, status=Status.CLOSED)

    with frozen(TODAY):
        page = admin_client.get(CHANGELIST)
        html = page.content.decode()
        assert 'data-limitation="passed"' in html and 'data-limitation="soon"' in html
        assert "15.04.2026 (snart)" in html
        assert "16.03.2026 (foreldet)" in html
        results = {
            value: set(
                admin_client.get(CHANGELIST, {"limitation": value}).context["cl"].result_list
            )
            for value in ("soon", "passed")
        }

    assert results["soon"] == {soon}
    assert results["passed"] == {passed}
    assert later not in results["soon"] and closed not in results["passed"]


def test_no_limitation_flags_when_nothing_is_near(admin_client):
    CollectionCaseFactory(limitation_date=TODAY + dt.timedelta(days=61))
    with frozen(TODAY):
        html = admin_client.get(CHANGELIST).content.decode()
    assert "data-limitation-flags" not in html


def _case_due(due: dt.date):
    creditor = MembershipFactory().creditor
    debtor = collectable_debtor(creditor)
    invoice = InvoiceFactory(
        debtor=debtor, invoice_date=due, due_date=due, total_amount=Decimal("500.00")
    )
    return case_services.case_create(
        creditor=creditor, debtor=debtor, invoices=[invoice], needs_approval=False
    )


def test_a_case_handler_records_an_interruption_with_date_and_reason(admin_client):
    with frozen(TODAY):
        case = _case_due(dt.date(2023, 5, 1))
        form = admin_client.post(
            CHANGELIST,
            {"action": "record_limitation_interruption", "_selected_action": [case.pk]},
        )
        assert form.status_code == 200 and "Avbrudd" in form.content.decode()
        response = admin_client.post(
            CHANGELIST,
            {
                "action": "record_limitation_interruption",
                "_selected_action": [case.pk],
                "apply": "1",
                "reason": "forliksklage",
                "on": "2026-03-02",
            },
            follow=True,
        )

    assert "Avbrudd av foreldelsen er registrert for 1 sak." in messages_of(response)
    case.refresh_from_db()
    assert case.limitation_interrupted_on == dt.date(2026, 3, 2)
    assert case.limitation_date == dt.date(2029, 3, 2)
    event = case.events.get(kind=CaseEvent.Kind.LIMITATION)
    assert "forliksklage" in event.message


def test_an_interruption_in_the_future_is_a_form_error(admin_client):
    with frozen(TODAY):
        case = _case_due(dt.date(2025, 5, 1))
        response = admin_client.post(
            CHANGELIST,
            {
                "action": "record_limitation_interruption",
                "_selected_action": [case.pk],
                "apply": "1",
                "reason": "acknowledgement",
                "on": "2026-03-17",
            },
        )
    assert response.status_code == 200
    assert "frem i tid" in response.content.decode()
    case.refresh_from_db()
    assert case.limitation_interrupted_on is None


def test_a_time_barred_case_is_closed_as_such_and_a_live_one_is_refused(admin_client):
    with frozen(TODAY):
        barred = _case_due(dt.date(2023, 3, 16))
        live = _case_due(dt.date(2025, 5, 1))
        response = admin_client.post(
            CHANGELIST,
            {
                "action": "close_time_barred",
                "_selected_action": [barred.pk, live.pk],
                "apply": "1",
                "note": "Ingen erkjennelse",
            },
            follow=True,
        )

    texts = messages_of(response)
    assert "1 sak er avsluttet som foreldet." in texts
    assert any(live.number in t and "ikke foreldet" in t for t in texts), texts
    barred.refresh_from_db()
    live.refresh_from_db()
    assert (barred.status, barred.close_reason) == (Status.CLOSED, "time_barred")
    assert live.status == Status.ACTIVE


@pytest.mark.parametrize("url", [reverse("admin:index"), CHANGELIST])
def test_the_admin_warns_from_1_december_that_the_rate_tables_end(admin_client, url):
    with frozen(dt.date(2026, 11, 30)):
        html = admin_client.get(url).content.decode()
    assert "data-rule-warnings" not in html

    with frozen(dt.date(2026, 12, 1)):
        html = admin_client.get(url).content.decode()
    assert 'data-rule-table="forsinkelsesrente"' in html
    assert 'data-rule-table="inkassosats"' in html
    assert "collections_cases/rules.py" in html and "31.12.2026" in html
    assert "holdes tilbake" in html
