"""Oversikt in headless Chromium: log in, land on the dashboard with its four charts, open a
task's action (approve a case), and see it on a phone. Screenshots (desktop and a 390-px
phone) go to ``test-results/screenshots/``."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone

from collections_cases.models import CollectionCase, Letter
from collections_cases.models import PaymentAllocation as Alloc
from integrations.models import OutboxMessage, PowerOfficeConnection, SyncRun
from integrations.poweroffice import errors as pogo_errors
from integrations.services.connections import error_message
from tests.collections_cases.factories_pages import collectable_debtor, open_case
from tests.conftest import PASSWORD
from tests.dashboard.builders import case, close, letter, payment, settlement
from tests.factories import CreditorFactory, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.live]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"


def months_ago(n: int, day: int = 10) -> dt.date:
    today = timezone.localdate()
    year, month = today.year, today.month - n
    while month <= 0:
        year, month = year - 1, month + 12
    return dt.date(year, month, day)


def a_year_of_collection(creditor):
    """Payments over the last months, paid and unpaid closed cases at both entry steps."""
    for n, amount in enumerate(["4200.00", "3100.00", "5600.00", "2300.00", "6100.00", "3900.00"]):
        paid_case = case(creditor, principal=amount, created=months_ago(n, 1))
        payment(paid_case, paid_on=months_ago(n, 20), parts={Alloc.Component.PRINCIPAL: amount})
        if n % 2:
            letter(paid_case, Letter.Kind.INKASSOVARSEL)
        else:
            CollectionCase.objects.filter(pk=paid_case.pk).update(stage="betalingsoppfordring")
        close(paid_case, reason=CollectionCase.CloseReason.PAID, on=months_ago(n, 20))
    lost = case(creditor, principal="900.00", stage="betalingsoppfordring")
    close(lost, reason=CollectionCase.CloseReason.WRITTEN_OFF, on=months_ago(2))
    case(creditor, principal="1500.00", status=CollectionCase.Status.DISPUTED)
    for _i in range(3):
        case(creditor, principal="2750.00")
    settlement(creditor, on=months_ago(1, 5), payout="8000.00")


def revoked(creditor):
    connection = PowerOfficeConnection.objects.create(
        creditor=creditor,
        client_key="revoked-key",
        client_name=creditor.name,
        client_org_number=creditor.org_number,
        connected_at=timezone.now() - dt.timedelta(days=40),
        last_error=error_message(pogo_errors.Unauthorized("x")),
        last_error_at=timezone.now(),
        last_sync_at=timezone.now() - dt.timedelta(hours=2),
    )
    SyncRun.objects.create(
        connection=connection,
        started_at=timezone.now() - dt.timedelta(hours=2),
        finished_at=timezone.now() - dt.timedelta(hours=2),
        duration=dt.timedelta(seconds=3.2),
        status=SyncRun.Status.OK,
        request_count=6,
        counts={
            "customers": {"fetched": 12, "updated": 2},
            "invoices": {"fetched": 30, "created": 4},
        },
    )
    SyncRun.objects.create(
        connection=connection,
        status=SyncRun.Status.FAILED,
        finished_at=timezone.now(),
        request_count=1,
        errors=[{"resource": "sync", "record": "", "reason": connection.last_error}],
    )
    OutboxMessage.objects.create(
        kind=OutboxMessage.Kind.UPDATE_STATUS,
        creditor=creditor,
        dedupe_key="status-1",
        attempts=2,
        last_error="Unauthorized (HTTP 401)",
    )


def log_in(page, url, email):
    page.goto(f"{url}/logg-inn/")
    page.get_by_label("E-post").fill(email)
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()


def test_dashboard_with_charts_task_action_and_phone(live_server, transactional_db, browser_page):
    page, url = browser_page, live_server.url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    membership = MembershipFactory(creditor=CreditorFactory(name="Fjordkaffe AS"))
    MembershipFactory(user=membership.user, creditor=CreditorFactory(name="Østlandet Bakeri AS"))
    creditor = membership.creditor
    a_year_of_collection(creditor)
    waiting = open_case(
        creditor,
        debtor=collectable_debtor(creditor, name="Havblikk Restaurant AS"),
        amounts=("3450.00",),
        needs_approval=True,
    )

    log_in(page, url, membership.user.email)
    page.wait_for_url(re.compile(r"/oversikt/$"))
    assert page.get_by_role("heading", name="Oversikt", level=1).is_visible()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-desktop.png"), full_page=True)
    nav = page.get_by_role("navigation", name="Hovedmeny")
    assert nav.get_by_role("link", name="Oversikt").get_attribute("aria-current") == "page"
    for title in (
        "Innbetalt per måned, siste 12 måneder",
        "Saker etter status",
        "Gjennomsnittlig antall dager fra saken startet til den var betalt, per måned",
        "Andel avsluttede saker som ble betalt, etter første steg",
    ):
        assert page.get_by_role("img", name=title).is_visible()
    assert page.locator("[data-stat=open_cases]").inner_text() == "5"
    page.screenshot(path=str(SCREENSHOTS / "dashboard-desktop.png"), full_page=True)

    # The figures behind a chart, as a table.
    page.locator("#chart-collected-heading ~ details summary").click()
    assert page.locator("#chart-collected-heading ~ details table").is_visible()

    # The task's action: approve the waiting case.
    task = page.locator("[data-task=approval_start]")
    task.get_by_role("link", name=re.compile(f"Godkjenn.*{waiting.number}")).click()
    page.wait_for_url(re.compile(rf"/saker/{waiting.pk}/#handlinger$"))
    page.locator("form[action$='/approve/']").get_by_role("button").click()
    assert page.get_by_text("Saken er godkjent og startet.").is_visible()
    waiting.refresh_from_db()
    assert waiting.status == CollectionCase.Status.ACTIVE

    # Back on Oversikt the task is gone.
    page.get_by_role("navigation", name="Hovedmeny").get_by_role("link", name="Oversikt").click()
    assert page.locator("[data-task=approval_start]").count() == 0

    # Accountant view: both creditors side by side.
    page.get_by_role("link", name="Alle 2 kreditorer").click()
    assert page.get_by_role("rowheader", name=re.compile("Østlandet Bakeri AS")).is_visible()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-all-creditors.png"), full_page=True)

    # The PowerOffice Go key was revoked: Oversikt says so and the status page explains it.
    revoked(creditor)
    page.goto(f"{url}/oversikt/")
    page.locator("[data-task=connection_error]").get_by_role("link").click()
    assert page.get_by_role("button", name="Koble til på nytt").is_visible()
    assert page.get_by_role(
        "heading", name="Tilgangen er trukket tilbake i PowerOffice Go – koble til på nytt"
    ).is_visible()
    page.screenshot(path=str(SCREENSHOTS / "integration-status.png"), full_page=True)
    page.goto(f"{url}/innstillinger/kreditorer/{creditor.pk}/team/")
    page.screenshot(path=str(SCREENSHOTS / "team.png"), full_page=True)

    # A phone: the menu folds away behind a button, the charts fit the width.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{url}/oversikt/")
    menu = page.get_by_role("button", name="Meny")
    assert menu.is_visible()
    assert not page.get_by_role("navigation", name="Hovedmeny").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    page.screenshot(path=str(SCREENSHOTS / "dashboard-phone.png"), full_page=True)
    menu.click()
    assert menu.get_attribute("aria-expanded") == "true"
    assert (
        page.get_by_role("navigation", name="Hovedmeny")
        .get_by_role("link", name="Saker")
        .is_visible()
    )
    page.screenshot(path=str(SCREENSHOTS / "dashboard-phone-menu.png"))
