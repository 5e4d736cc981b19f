"""*Trenger deg* in headless Chromium: a debtor's payment-plan request shows there and is
accepted in place; legal steps are approved in bulk (the chosen ones, then all the rest)."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from collections_cases.models import CollectionCase, PaymentPlan
from collections_cases.plans import services as plan_services
from creditors.models import Debtor
from tests.browser.test_dashboard import SCREENSHOTS, log_in
from tests.dashboard.builders import case
from tests.factories import CreditorFactory, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.live]
Status = CollectionCase.Status


def debtor(creditor, name):
    return Debtor.objects.create(
        creditor=creditor,
        name=name,
        address_line="Storgata 1",
        postal_code="0155",
        postal_city="Oslo",
        email="skyldner@example.no",
    )


def test_a_plan_request_shows_in_trenger_deg_and_is_decided_there(
    live_server, transactional_db, browser_page
):
    page, url = browser_page, live_server.url
    membership = MembershipFactory(creditor=CreditorFactory(name="Fjordkaffe AS"))
    creditor = membership.creditor
    wanted = case(creditor, principal="3000.00", debtor=debtor(creditor, "Havblikk AS"))
    declined = case(creditor, principal="900.00", debtor=debtor(creditor, "Solsikke AS"))
    first_due = timezone.localdate() + dt.timedelta(days=14)
    for target in (wanted, declined):  # as the debtor does on Min side
        plan_services.payment_plan_request(
            case=target, instalment_count=3, first_due=first_due, actor="Skyldner (Min side)"
        )

    log_in(page, url, membership.user.email)
    page.wait_for_url(re.compile(r"/oversikt/$"))
    task = page.locator('[data-task="payment_plan_requested"]')
    assert task.get_by_role(
        "heading", name=re.compile("Skyldnere som ønsker betalingsplan")
    ).is_visible()
    row = task.locator("li", has_text="Havblikk AS")
    assert f"3 avdrag fra {first_due:%d.%m.%Y}, til sammen kr 3\xa0000,00" in row.inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "trenger-deg-plan.png"), full_page=True)

    row.get_by_role("button", name=re.compile(r"^Godta")).click()
    page.wait_for_url(re.compile(r"/oversikt/#trenger-deg$"))
    assert page.get_by_text(
        f"{wanted.number}: Betalingsplanen er godtatt, og saken er satt på vent."
    ).is_visible()

    other = page.locator('[data-task="payment_plan_requested"] li', has_text="Solsikke AS")
    other.get_by_label(re.compile("Merknad")).fill("Vi trenger hele beløpet innen to måneder.")
    other.get_by_role("button", name=re.compile("Avslå")).click()
    page.wait_for_url(re.compile(r"/oversikt/#trenger-deg$"))
    assert page.get_by_text(f"{declined.number}: Betalingsplanen er avslått.").is_visible()
    assert page.locator('[data-task="payment_plan_requested"]').count() == 0

    statuses = dict(PaymentPlan.objects.values_list("case_id", "status"))
    assert statuses == {
        wanted.pk: PaymentPlan.Status.ACCEPTED,
        declined.pk: PaymentPlan.Status.DECLINED,
    }
    wanted.refresh_from_db()
    assert wanted.status == Status.PAUSED


def test_bulk_legal_approval(live_server, transactional_db, browser_page):
    page, url = browser_page, live_server.url
    membership = MembershipFactory(creditor=CreditorFactory(name="Fjordkaffe AS"))
    creditor = membership.creditor
    cases = [
        case(
            creditor,
            debtor=debtor(creditor, f"Skyldner {n} AS"),
            status=Status.AWAITING_APPROVAL,
            approval_kind="legal",
            stage="varsel_rettslig",
        )
        for n in range(1, 8)
    ]

    log_in(page, url, membership.user.email)
    page.wait_for_url(re.compile(r"/oversikt/$"))
    task = page.locator('[data-task="approval_legal"]')
    assert task.get_by_role("checkbox").count() == 7
    task.get_by_label(re.compile(f"{cases[0].number} – Skyldner 1 AS")).check()
    task.get_by_label(re.compile(f"{cases[2].number} – Skyldner 3 AS")).check()
    task.get_by_role("button", name="Godkjenn valgte").click()
    page.wait_for_url(re.compile(r"/oversikt/#trenger-deg$"))
    assert page.get_by_text(
        f"Rettslige tiltak er godkjent i 2 saker: {cases[0].number}, {cases[2].number}."
    ).is_visible()
    waiting = set(CollectionCase.objects.filter(approval_kind="legal").values_list("pk", flat=True))
    assert waiting == {c.pk for c in cases} - {cases[0].pk, cases[2].pk}

    page.locator('[data-task="approval_legal"]').get_by_role(
        "button", name="Godkjenn alle (5)"
    ).click()
    page.wait_for_url(re.compile(r"/oversikt/#trenger-deg$"))
    assert page.get_by_text(re.compile("Rettslige tiltak er godkjent i 5 saker")).is_visible()
    assert page.locator('[data-task="approval_legal"]').count() == 0
    assert not CollectionCase.objects.filter(approval_kind="legal").exists()
    assert CollectionCase.objects.filter(legal_approved_at__isnull=False).count() == 7
