"""Issue 16: the admin as the case handlers' workbench, in headless Chromium at 1 280 px.

The front page's queue shows a disputed case; the handler follows the link, opens the case,
writes why and clicks «Avklar innsigelsen» on the case page; the case continues and the
queue is empty. Screenshots of the list and the case page at 1280×800 are kept in
``test-results/admin/`` for a person to look at."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from collections_cases.cases import services as case_services
from collections_cases.cases.staff_queue import staff_queue
from collections_cases.dunning import services as dunning
from collections_cases.models import CaseEvent, CollectionCase, PaymentImport
from tests.collections_cases.dunning_support import open_case
from tests.collections_cases.factories import CollectionCaseFactory, InvoiceFactory
from tests.collections_cases.test_admin_queue import waiting  # noqa: F401 (a fixture)
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.live]

SHOTS = Path("test-results/admin")
PASSWORD = "Sterkt-passord-123"


def test_the_admin_queue_and_a_case_handled_from_it(live_server, transactional_db, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 800})
    staff = UserFactory(is_staff=True, is_superuser=True)
    # A real case: opened, the inkassovarsel sent, then disputed by the debtor.
    today = timezone.localdate()
    # Opened yesterday: open_case's clock stands at 10:00 of the day it opens, so a case
    # opened "today" before 10:00 would have its first event in the future (the latest).
    case = open_case(opened_on=today - dt.timedelta(days=1), due=today - dt.timedelta(days=20))
    dunning.dunning_case_step(case=case, on=today)
    case_services.case_mark_disputed(
        case=case, actor=None, reason="Skyldner sier fakturaen er betalt"
    )
    CollectionCaseFactory.create_batch(3)

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("input[name=username]", staff.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/$"))

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "index_1280.png"), full_page=True)
    queue = page.locator("[data-staff-queue]")
    assert "Dagens arbeidskø" in queue.text_content()
    disputes = queue.locator('[data-queue="innsigelser"]')
    assert disputes.locator("[data-queue-count]").inner_text() == "1"

    disputes.get_by_role("link").click()
    page.wait_for_url(re.compile(r"ko=innsigelser"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "case_list_1280.png"))
    table_width, room = page.evaluate(
        "[document.querySelector('#result_list').scrollWidth,"
        " document.querySelector('.results').clientWidth]"
    )
    assert table_width <= room, f"the case list is {table_width}px wide in {room}px"
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1

    rows.get_by_role("link", name=case.number).click()
    page.wait_for_url(re.compile(rf"/collectioncase/{case.pk}/change/"))
    page.screenshot(path=str(SHOTS / "case_page_1280.png"), full_page=True)
    body = page.locator("body").inner_text()
    assert "Omtvistet" in body and "disputed" not in body
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280

    page.fill("#id_case_reason", "Kreditor dokumenterte at fakturaen er ubetalt")
    assert page.get_by_role("button", name="Lagre").count() == 0
    page.get_by_role("button", name="Avklar innsigelsen").click()
    page.wait_for_url(re.compile(rf"/collectioncase/{case.pk}/change/$"))
    assert "Innsigelsen er avklart for 1 sak." in page.locator("body").inner_text()

    case.refresh_from_db()
    assert case.status == CollectionCase.Status.ACTIVE
    event = CaseEvent.objects.filter(case=case).latest("at")
    assert (event.kind, event.actor) == (CaseEvent.Kind.DISPUTE_RESOLVED, staff)
    assert "ubetalt" in event.message
    page.goto(f"{live_server.url}/admin/")
    assert page.locator('[data-queue="innsigelser"] [data-queue-count]').inner_text() == "0"


@pytest.mark.usefixtures("waiting")
def test_every_case_handler_list_fits_1280_px(live_server, transactional_db, browser_page):
    """The queue's lists and every other list of cases, creditors and debtors, with rows."""
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 800})
    staff = UserFactory(is_staff=True, is_superuser=True)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("input[name=username]", staff.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/$"))

    # Lists the queue does not fill: a bank file and an invoice.
    PaymentImport.objects.create(
        file_name="camt054-2026-12-07-innbetalinger-fra-banken.xml",
        format="camt054",
        sha256="0" * 64,
        transactions_count=120,
        created_count=100,
        duplicate_count=10,
        matched_count=95,
        unmatched_count=5,
        ignored_count=10,
        reversal_count=1,
        reversal_unmatched_count=1,
    )
    InvoiceFactory()
    urls = {entry.url for entry in staff_queue(on=timezone.localdate())}
    urls |= {
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
        if model._meta.app_label in ("collections_cases", "creditors")
    }
    too_wide, measured = {}, 0
    for url in sorted(urls):
        page.goto(f"{live_server.url}{url}")
        widths = page.evaluate(
            "(() => { const t = document.querySelector('#result_list');"
            " const r = document.querySelector('.results');"
            " return t && r ? [t.scrollWidth, r.clientWidth] : null; })()"
        )
        if widths is None:  # no rows to show
            continue
        measured += 1
        if widths[0] > widths[1]:
            too_wide[url] = widths
            name = url.strip("/").replace("/", "_").replace("?", "_").replace("=", "_")
            page.screenshot(path=str(SHOTS / f"{name}_1280.png"))
    assert measured >= 14
    assert too_wide == {}
