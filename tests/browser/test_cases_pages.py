"""The case pages in headless Chromium: start a case from Klar for inkasso, find it under
Saker, pause it with a reason and a date, and see the pause on the case page."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from collections_cases.models import CollectionCase
from tests.collections_cases.factories import InvoiceFactory
from tests.collections_cases.factories_pages import collectable_debtor, overdue
from tests.conftest import PASSWORD
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.live]

SCREENSHOT = "/tmp/case-pages.png"


def test_start_find_and_pause_a_case(live_server, transactional_db, browser_page):
    page, url = browser_page, live_server.url
    membership = MembershipFactory()
    debtor = collectable_debtor(membership.creditor, name="Fjordkaffe Kunde AS")
    first = InvoiceFactory(debtor=debtor, due_date=overdue(30))
    second = InvoiceFactory(debtor=debtor, due_date=overdue(10))

    page.goto(f"{url}/logg-inn/")
    page.get_by_label("E-post").fill(membership.user.email)
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()

    page.get_by_role("navigation").get_by_role("link", name="Klar for inkasso").click()
    page.get_by_label(str(first.invoice_no)).check()
    page.get_by_label(str(second.invoice_no)).check()
    page.get_by_role("button", name="Start inkasso").click()
    case = CollectionCase.objects.get()
    assert page.get_by_text(f"1 sak er startet: {case.number}.").is_visible()

    page.get_by_role("navigation").get_by_role("link", name="Saker").click()
    page.get_by_label("Søk").fill("fjordkaffe")
    page.get_by_role("button", name="Vis").click()
    page.get_by_role("link", name=case.number).click()
    page.wait_for_url(re.compile(rf"/saker/{case.pk}/$"))

    until = timezone.localdate() + dt.timedelta(days=14)
    pause = page.locator("form[action$='/pause/']")
    pause.get_by_label("Årsak").fill("Betalingsavtale")
    pause.get_by_label("Gjenoppta automatisk").fill(until.strftime("%d.%m.%Y"))
    pause.get_by_role("button", name="Sett på vent").click()

    assert page.get_by_text("Saken er satt på vent.").is_visible()
    assert page.locator(".headline .badge").inner_text() == "På vent"
    page.screenshot(path=SCREENSHOT, full_page=True)
    case.refresh_from_db()
    assert case.status == CollectionCase.Status.PAUSED
    assert case.paused_until == until
