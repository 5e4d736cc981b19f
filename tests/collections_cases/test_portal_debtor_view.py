"""Min side speaks to the debtor (issue 16, point 4): debtor-facing status words, the next
instalment of an accepted plan instead of the full amount, a language switch, and forms that
say what happens next."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from collections_cases.models import CollectionCase, PaymentPlan
from collections_cases.plans.services import payment_plan_accept, payment_plan_request
from collections_cases.portal import access as portal_access
from collections_cases.portal.selectors import DEBTOR_STATUS, debtor_status
from tests.collections_cases.factories_pages import open_case
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

Status = CollectionCase.Status
CASE = reverse("portal_case")


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def case(db):
    return open_case(MembershipFactory().creditor, amounts=("1200.00", "300.00"))


def logged_in(case) -> Client:
    client = Client()
    code = portal_access.access_issue(case=case).display
    response = client.post(reverse("portal_lookup"), {"number": case.number, "code": code})
    assert response.status_code == 302
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_every_status_has_debtor_words_and_none_is_the_internal_label():
    assert set(DEBTOR_STATUS) == set(Status.values)
    for status in Status:
        assert str(DEBTOR_STATUS[status].label) != status.label or status == Status.CLOSED


def test_a_case_awaiting_approval_is_under_behandling_not_venter_godkjenning(case):
    CollectionCase.objects.filter(pk=case.pk).update(status=Status.AWAITING_APPROVAL)

    body = text(logged_in(case).get(CASE))

    assert "Under behandling" in body
    assert "Venter godkjenning" not in body


def test_with_an_accepted_plan_the_next_instalment_and_its_date_are_asked_for(case):
    first_due = dt.date.today() + dt.timedelta(days=10)
    client = logged_in(case)
    plan = payment_plan_request(case=case, instalment_count=3, first_due=first_due, actor="t")
    plan = payment_plan_accept(plan=plan, actor=None)

    body = text(client.get(CASE))

    assert debtor_status(case=case, plan=plan).label == "Betalingsplan godtatt"
    assert "Betalingsplan godtatt" in body
    assert "Neste avdrag (nr. 1) 500,00" in body.replace("kr ", "").replace(" kr", "")
    assert f"Betales innen {first_due:%d.%m.%Y}" in body
    assert "Å betale" not in body  # not the full amount while the plan runs
    assert "Du har 3 avdrag igjen" in body


def test_a_requested_plan_still_asks_for_the_full_amount(case):
    client = logged_in(case)
    payment_plan_request(
        case=case,
        instalment_count=3,
        first_due=dt.date.today() + dt.timedelta(days=10),
        actor="t",
    )
    assert PaymentPlan.objects.get(case=case).status == PaymentPlan.Status.REQUESTED

    body = text(client.get(CASE))

    assert "Å betale" in body
    assert "Neste avdrag" not in body


def test_the_forms_say_what_happens_next(case):
    body = text(logged_in(case).get(CASE))

    assert body.count("Hva skjer etterpå?") == 2
    assert "Kreditor får ønsket ditt og godtar eller avslår det." in body
    assert "Vi sender innsigelsen til kreditor" in body


def test_the_debtor_switches_to_english_without_a_kundeweb_login(case):
    client = logged_in(case)
    page = client.get(CASE).content.decode()
    assert f'action="{reverse("set_language")}"' in page

    response = client.post(reverse("set_language"), {"language": "en", "next": CASE})

    assert response.status_code == 302
    assert response["Location"] == CASE
    body = text(client.get(CASE))
    assert "How to pay" in body
    assert "Slik betaler du" not in body
    assert '<html lang="en">' in client.get(CASE).content.decode()


def test_the_lookup_page_has_the_switch_too(client):
    page = client.get(reverse("portal_lookup")).content.decode()
    assert 'name="language" value="en"' in page
    response = client.post(reverse("set_language"), {"language": "en", "next": "/min-side/"})
    assert response["Location"] == "/min-side/"
    assert client.cookies["django_language"].value == "en"
