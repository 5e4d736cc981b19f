"""Min side with a plan (issue 16, point 4), in headless Chromium against a live server.

The debtor logs in with the case number and the access code, sees the case in plain words
(«Betalingsplan godtatt», not the internal «På vent»), is asked for the next instalment and its
date rather than the full balance, and switches the page to English and back.
"""

import datetime as dt
import re

import pytest
from django.core.cache import cache

from collections_cases.plans.services import payment_plan_accept, payment_plan_request
from collections_cases.portal import access as portal_access
from tests.collections_cases.factories_pages import open_case
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_min_side_with_a_plan(live_server, transactional_db, browser_page):
    cache.clear()
    case = open_case(MembershipFactory().creditor, amounts=("1200.00", "300.00"))
    first_due = dt.date.today() + dt.timedelta(days=10)
    plan = payment_plan_request(case=case, instalment_count=3, first_due=first_due, actor="test")
    payment_plan_accept(plan=plan, actor=None)
    code = portal_access.access_issue(case=case).display
    page = browser_page

    page.goto(f"{live_server.url}/min-side/")
    page.get_by_label("Saksnummer").fill(case.number)
    page.get_by_label("Tilgangskode").fill(code)
    page.get_by_role("button", name="Vis saken").click()
    page.wait_for_url(re.compile(r"/min-side/sak/$"))

    main = page.locator("main")
    assert "Betalingsplan godtatt" in main.inner_text()
    assert "På vent" not in main.inner_text()
    pay_box = page.locator(".pay-box")
    pay_text = " ".join(pay_box.inner_text().split())
    assert "Neste avdrag (nr. 1)" in pay_text
    assert "500,00" in pay_text
    assert first_due.strftime("%d.%m.%Y") in pay_text
    assert "1 500,00" not in pay_text.split("Du har")[0]  # the instalment, not the balance
    page.get_by_text("Jeg er uenig i kravet (innsigelse)").click()
    assert page.get_by_text("Vi sender innsigelsen til kreditor").is_visible()
    page.screenshot(path="/tmp/min-side-plan.png", full_page=True)

    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Payment plan accepted" in page.locator("main").inner_text()
    assert "Next instalment (no. 1)" in page.locator(".pay-box").inner_text()
    page.screenshot(path="/tmp/min-side-plan-en.png", full_page=True)

    page.get_by_role("button", name="Norsk (bokmål)").click()
    page.wait_for_load_state()
    assert "Betalingsplan godtatt" in page.locator("main").inner_text()
