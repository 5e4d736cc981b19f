"""Min side: the login with case number and access code (no enumeration, limits), the case
page bound to one case, objection and payment-plan request. Links, revocation, rotation and
the limits in detail: test_portal_access.py."""

import datetime as dt
import re
import sys
import types
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from collections_cases.cases import services as case_services
from collections_cases.models import CaseEvent, CollectionCase, LedgerEntry, Letter, PaymentPlan
from collections_cases.portal import access as portal_access
from collections_cases.portal import services as portal_services
from tests.collections_cases.dunning_support import on_day, run, snapshot
from tests.collections_cases.dunning_support import open_case as open_dunning_case
from tests.collections_cases.factories import InvoiceFactory
from tests.collections_cases.factories_pages import open_case
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

Status = CollectionCase.Status
LOOKUP = reverse("portal_lookup")
CASE = reverse("portal_case")
#: The CSRF token and the values typed back into the form differ; nothing else may.
VALUES = re.compile(r'value="[^"]*"')
NO_MATCH = "Vi fant ingen sak med dette saksnummeret og denne koden."


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def case(db):
    return open_case(MembershipFactory().creditor, amounts=("1200.00", "300.50"))


def code_for(case) -> str:
    """A new access code for ``case`` (as a letter's render would issue), displayed."""
    return portal_access.access_issue(case=case).display


def _lookup(client, number, code, ip="10.0.0.1"):
    return client.post(LOOKUP, {"number": number, "code": code}, REMOTE_ADDR=ip)


def _logged_in(case, ip="10.0.0.1") -> Client:
    client = Client()
    response = _lookup(client, case.number, code_for(case), ip=ip)
    assert response.status_code == 302
    return client


# --------------------------------------------------------------------------------------------
# Login with case number and code
# --------------------------------------------------------------------------------------------


def test_the_lookup_page_is_public_and_asks_for_the_code_not_the_kid(client):
    response = client.get(LOOKUP)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Saksnummer" in body and "Tilgangskode" in body
    assert 'name="code"' in body and 'name="kid"' not in body
    assert "csrfmiddlewaretoken" in body


def test_number_and_code_open_the_case(client, case):
    code = code_for(case)
    typed = f" {code.lower().replace('-', ' ')} "
    response = _lookup(client, f" {case.number.lower()} ", typed)

    assert response.status_code == 302
    assert response.url == CASE
    page = client.get(CASE)
    assert page.status_code == 200
    body = page.content.decode()
    assert case.number in body
    assert case.creditor.name in body
    assert case.kid in body  # the payment reference is shown once in
    assert "kr 1\u00a0500,50" in body
    for invoice in case.invoices.all():
        assert str(invoice.invoice_no) in body


def test_number_and_kid_open_nothing(client, case):
    code_for(case)  # the case has a code; the KID is still not one

    response = _lookup(client, case.number, case.kid)

    assert response.status_code == 200
    assert NO_MATCH in response.content.decode()
    assert client.get(CASE).status_code == 302


def test_every_wrong_pair_gives_the_same_answer(client, case):
    other = open_case(MembershipFactory().creditor)
    code, other_code = code_for(case), code_for(other)
    wrong_pairs = [
        (case.number, "ABCDE-FGHJK"),  # wrong code
        ("K-2000-999999", code),  # unknown number
        ("K-2000-999999", "123"),  # both wrong
        (case.number, other_code),  # another case's code
        (case.number, case.kid),  # the KID
    ]
    responses = [_lookup(client, number, kid) for number, kid in wrong_pairs]

    assert {r.status_code for r in responses} == {200}
    bodies = {VALUES.sub("", r.content.decode()) for r in responses}
    assert len(bodies) == 1
    assert NO_MATCH in bodies.pop()
    assert client.get(CASE).status_code == 302  # no session came from any of them


def test_an_address_is_refused_after_ten_failures(client, case):
    code = code_for(case)
    for n in range(portal_services.ADDRESS_FAILURES):
        assert _lookup(client, f"K-2000-{n:06d}", "ABCDE-FGHJK").status_code == 200

    locked = _lookup(client, case.number, code)

    assert locked.status_code == 429
    assert "For mange feil forsøk" in locked.content.decode()
    assert client.get(CASE).status_code == 302
    # another address is not affected
    assert _lookup(Client(), case.number, code, ip="10.0.0.2").status_code == 302


def test_the_refusal_ends_after_the_window(client, case, settings):
    # The failures are counted in cache keys that expire after the window. The local-memory
    # cache reads its expiry from time.time(), so the moved clock expires them through the
    # real mechanism (a Redis cache, as with REDIS_URL, would expire in Redis's own time).
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "test-portal-window",
        }
    }
    code = code_for(case)
    with time_machine.travel(dt.datetime.now(tz=dt.UTC), tick=False) as clock:
        for _n in range(portal_services.ADDRESS_FAILURES):
            _lookup(client, case.number, "ABCDE-FGHJK")
        assert _lookup(client, case.number, code).status_code == 429

        clock.shift(dt.timedelta(seconds=portal_services.WINDOW_SECONDS - 1))
        assert _lookup(client, case.number, code).status_code == 429  # not over yet

        clock.shift(dt.timedelta(seconds=2))
        assert _lookup(client, case.number, code).status_code == 302


def test_lookup_form_is_csrf_protected(case):
    client = Client(enforce_csrf_checks=True)
    response = client.post(LOOKUP, {"number": case.number, "code": code_for(case)})
    assert response.status_code == 403


# --------------------------------------------------------------------------------------------
# One case per session
# --------------------------------------------------------------------------------------------


def test_the_case_page_needs_a_portal_session(client, case):
    response = client.get(CASE)
    assert response.status_code == 302
    assert response.url == LOOKUP


def test_a_kundeweb_login_does_not_open_min_side(logged_in_client, creditor):
    mine = open_case(creditor)
    assert logged_in_client.get(CASE).status_code == 302
    assert mine.number not in logged_in_client.get(LOOKUP).content.decode()


def test_the_session_shows_only_its_own_case(case):
    other = open_case(MembershipFactory().creditor)
    client = _logged_in(case)

    body = client.get(CASE).content.decode()

    assert case.number in body
    assert other.number not in body
    assert other.kid not in body


def test_another_cases_letter_is_a_404(case, monkeypatch):
    monkeypatch.setitem(
        sys.modules,
        "collections_cases.letters.documents",
        types.SimpleNamespace(letter_pdf=lambda letter: b"%PDF-" + letter.case.number.encode()),
    )
    other = open_case(MembershipFactory().creditor)
    mine = Letter.objects.create(
        case=case,
        kind="inkassovarsel",
        step="inkassovarsel",
        sent_on=dt.date(2026, 11, 1),
        deadline=dt.date(2026, 11, 16),
    )
    theirs = Letter.objects.create(
        case=other,
        kind="inkassovarsel",
        step="inkassovarsel",
        sent_on=dt.date(2026, 11, 1),
        deadline=dt.date(2026, 11, 16),
    )
    client = _logged_in(case)

    page = client.get(CASE).content.decode()
    assert reverse("portal_letter_pdf", args=[mine.pk]) in page
    response = client.get(reverse("portal_letter_pdf", args=[mine.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content == b"%PDF-" + case.number.encode()
    assert client.get(reverse("portal_letter_pdf", args=[theirs.pk])).status_code == 404
    assert Client().get(reverse("portal_letter_pdf", args=[mine.pk])).status_code == 302


def test_letters_without_the_documents_module_have_no_pdf_link(case, monkeypatch):
    monkeypatch.setitem(sys.modules, "collections_cases.letters.documents", None)  # import fails
    letter = Letter.objects.create(
        case=case,
        kind="inkassovarsel",
        step="inkassovarsel",
        sent_on=dt.date(2026, 11, 1),
        deadline=dt.date(2026, 11, 16),
    )
    client = _logged_in(case)

    page = client.get(CASE).content.decode()

    assert "Inkassovarsel" in page
    assert reverse("portal_letter_pdf", args=[letter.pk]) not in page
    assert client.get(reverse("portal_letter_pdf", args=[letter.pk])).status_code == 404


def test_a_tampered_session_case_id_is_not_trusted(case):
    other = open_case(MembershipFactory().creditor, amounts=("777.00",))
    client = _logged_in(case)
    assert client.get(CASE).status_code == 200
    session = client.session
    data = session[portal_services.SESSION_KEY]
    assert data["expires"] > portal_services.time.time()  # a live session: only the id changes
    session[portal_services.SESSION_KEY] = {**data, "case_id": other.pk}
    session.save()

    response = client.get(CASE)

    assert response.status_code == 302
    assert other.number not in response.content.decode()
    assert portal_services.SESSION_KEY not in client.session


def test_the_portal_session_expires(case):
    client = _logged_in(case)
    session = client.session
    data = session[portal_services.SESSION_KEY]
    data["expires"] = 1.0
    session[portal_services.SESSION_KEY] = data
    session.save()

    assert client.get(CASE).status_code == 302


def test_logout_ends_the_portal_session(case):
    client = _logged_in(case)
    client.post(reverse("portal_logout"))
    assert client.get(CASE).status_code == 302


# --------------------------------------------------------------------------------------------
# Objection
# --------------------------------------------------------------------------------------------

REASON = "Varen ble aldri levert, og jeg har klaget til selgeren."


def test_objection_marks_the_case_disputed_with_an_event(case):
    client = _logged_in(case)

    response = client.post(reverse("portal_object"), {"objection-reason": REASON}, follow=True)

    case.refresh_from_db()
    assert case.status == Status.DISPUTED
    assert case.dispute_reason == REASON
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert event.kind == CaseEvent.Kind.DISPUTED
    assert event.actor_label == "Skyldner (Min side)"
    body = response.content.decode()
    assert "Innsigelsen er registrert" in body
    assert "Innsigelsen din behandles" in body  # the debtor's words, not «Omtvistet»


def test_objection_needs_a_reason_of_some_length(case):
    client = _logged_in(case)

    response = client.post(reverse("portal_object"), {"objection-reason": "Nei"})

    assert response.status_code == 200
    assert _status(case) == Status.ACTIVE


def _status(case):
    return CollectionCase.objects.get(pk=case.pk).status


def test_no_costs_after_the_objection():
    day = dt.date(2026, 10, 1)
    case = open_dunning_case(opened_on=day, due=dt.date(2026, 9, 1))
    with on_day(day, hour=9):
        client = _logged_in(case)
        client.post(reverse("portal_object"), {"objection-reason": REASON})
    before = snapshot(case)

    run(dt.date(2026, 10, 1))
    run(dt.date(2026, 12, 1))

    assert snapshot(case) == before
    assert not LedgerEntry.objects.filter(case=case, kind__in=LedgerEntry.COST_KINDS).exists()


@pytest.mark.parametrize("end", ["closed", "disputed"])
def test_objection_on_a_closed_or_disputed_case_is_refused(case, end):
    client = _logged_in(case)
    if end == "closed":
        case_services.case_withdraw(case=case, actor=None, reason="Feil")
    else:
        case_services.case_mark_disputed(case=case, actor=None, reason="Første")
    events = CaseEvent.objects.filter(case=case).count()

    response = client.post(reverse("portal_object"), {"objection-reason": REASON}, follow=True)

    assert CaseEvent.objects.filter(case=case).count() == events
    body = response.content.decode()
    assert ("avsluttet" if end == "closed" else "allerede omtvistet") in body
    assert 'action="/min-side/sak/innsigelse/"' not in body


# --------------------------------------------------------------------------------------------
# Payment plan
# --------------------------------------------------------------------------------------------


def _plan_data(count=3, first_due=None):
    first_due = first_due or dt.date.today() + dt.timedelta(days=10)
    return {"plan-instalment_count": str(count), "plan-first_due": first_due.isoformat()}


def test_the_debtor_asks_for_a_payment_plan(case):
    client = _logged_in(case)

    response = client.post(reverse("portal_payment_plan"), _plan_data(count=4), follow=True)

    plan = PaymentPlan.objects.get(case=case)
    assert plan.status == PaymentPlan.Status.REQUESTED
    assert plan.instalments.count() == 4
    assert sum(i.amount for i in plan.instalments.all()) == Decimal("1500.50")
    body = response.content.decode()
    assert "Ønsket om betalingsplan er sendt" in body
    assert "375,14" in body  # 1500.50 / 4 → 375.12 × 3 + 375.14
    assert 'action="/min-side/sak/betalingsplan/"' not in body  # one open plan


@pytest.mark.parametrize("count", ["1", "13", "x"])
def test_a_payment_plan_with_a_bad_count_is_refused(case, count):
    client = _logged_in(case)
    response = client.post(
        reverse("portal_payment_plan"), _plan_data() | {"plan-instalment_count": count}
    )
    assert response.status_code == 200
    assert not PaymentPlan.objects.exists()


def test_a_payment_plan_starting_too_late_shows_the_error(case):
    client = _logged_in(case)
    response = client.post(
        reverse("portal_payment_plan"),
        _plan_data(first_due=dt.date.today() + dt.timedelta(days=60)),
    )
    assert response.status_code == 200
    assert "innen 31 dager" in response.content.decode()
    assert not PaymentPlan.objects.exists()


def test_the_debtor_sees_the_decision(case):
    from collections_cases.plans.services import payment_plan_decline

    client = _logged_in(case)
    client.post(reverse("portal_payment_plan"), _plan_data())
    payment_plan_decline(
        plan=PaymentPlan.objects.get(case=case), actor=None, note="Betal innen fristen"
    )

    body = client.get(CASE).content.decode()

    assert "Avslått" in body
    assert "Betal innen fristen" in body


def test_portal_post_without_session_changes_nothing(client, case):
    response = client.post(reverse("portal_object"), {"objection-reason": REASON})
    assert response.status_code == 302
    assert _status(case) == Status.ACTIVE
    assert InvoiceFactory._meta.model.objects.filter(case=case).exists()


def _fake_documents(monkeypatch, calls):
    def document_payment_plan_pdf(*, case, instalments, agreed_on):
        calls.append((case.pk, instalments, agreed_on))
        return b"%PDF-plan"

    monkeypatch.setitem(
        sys.modules,
        "collections_cases.letters.documents",
        types.SimpleNamespace(
            letter_pdf=lambda letter: b"%PDF-", document_payment_plan_pdf=document_payment_plan_pdf
        ),
    )


def test_the_confirmation_of_an_accepted_plan_is_offered(case, monkeypatch):
    from collections_cases.plans.services import payment_plan_accept

    calls = []
    _fake_documents(monkeypatch, calls)
    client = _logged_in(case)
    client.post(reverse("portal_payment_plan"), _plan_data(count=2))
    plan = PaymentPlan.objects.get(case=case)
    url = reverse("portal_payment_plan_pdf")
    assert client.get(url).status_code == 404  # not accepted yet

    payment_plan_accept(plan=plan, actor=None)

    assert url in client.get(CASE).content.decode()
    response = client.get(url)
    assert response.status_code == 200
    assert response.content == b"%PDF-plan"
    case_id, instalments, _agreed_on = calls[0]
    assert case_id == case.pk
    assert sum(amount for _due, amount in instalments) == Decimal("1500.50")
