""" "Gi tilgang" end to end in headless Chromium, against a live server over real sockets.

sign up → add creditor → Gi tilgang → sandbox Go login → pick company → Godta → back in
Kundeweb, connected, company information and account check shown. And "Avbryt" → the
cancelled page, nothing connected.
"""

import re

import pytest

from creditors.models import Creditor
from integrations.models import PowerOfficeConnection
from tests.browser.conftest import DEMO_EMAIL

pytestmark = [pytest.mark.browser, pytest.mark.live]


DEMO_PASSWORD = "demo1234"
SCREENSHOT = "/tmp/connect-flow.png"


def sign_up_and_add_creditor(page, url, company, email):
    page.goto(f"{url}/registrer/")
    page.get_by_label("E-post").fill(email)
    page.get_by_label("Passord", exact=True).fill("Et-sterkt-passord-91")
    page.get_by_label("Gjenta passord").fill("Et-sterkt-passord-91")
    page.get_by_role("button", name="Opprett bruker").click()
    page.wait_for_url(re.compile(r"/innstillinger/kreditorer/ny/"))
    page.get_by_label("Organisasjonsnummer").fill(company.org_number)
    page.get_by_label("Firmanavn").fill(company.name)
    page.get_by_role("button", name="Legg til kreditor").click()
    page.wait_for_url(re.compile(r"/innstillinger/kreditorer/\d+/$"))


def through_go_to_consent(page, company):
    """Gi tilgang → Go's login → company picker (when shown) → consent page."""
    page.get_by_role("button", name="Gi tilgang").click()
    page.wait_for_url(re.compile(r"/pogo/"))
    page.get_by_label("E-post").fill(DEMO_EMAIL)
    page.get_by_label("Passord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Logg inn").click()
    godta = page.get_by_role("button", name="Godta")
    company_button = page.get_by_role("button", name=company.name)
    godta.or_(company_button).first.wait_for()
    if not godta.is_visible():
        company_button.first.click()
    godta.wait_for()


def test_gi_tilgang_in_the_browser_connects_and_shows_the_review(live, browser_page):
    url, company = live
    page = browser_page

    sign_up_and_add_creditor(page, url, company, "ny.kunde@bedrift.example")
    through_go_to_consent(page, company)
    page.get_by_role("button", name="Godta").click()

    page.wait_for_url(re.compile(r"/innstillinger/kreditorer/\d+/poweroffice/$"))
    body = page.locator("main")
    assert "er koblet til PowerOffice Go" in body.inner_text()
    page.get_by_text("Selskapsinformasjon fra PowerOffice Go").wait_for()
    page.get_by_text("Kontoene dine mot kontoplanen i PowerOffice Go").wait_for()
    assert company.org_number in body.inner_text()
    bank_row = page.locator('tr[data-account="1920"]')
    assert bank_row.get_attribute("data-status") == "ok"
    assert "Finnes" in bank_row.inner_text()
    assert page.get_by_role("button", name="Koble fra").is_visible()
    page.screenshot(path=SCREENSHOT, full_page=True)

    creditor = Creditor.objects.get(org_number=company.org_number)
    connection = PowerOfficeConnection.objects.get(creditor=creditor)
    assert connection.is_connected
    assert connection.chart_of_accounts


def test_avbryt_in_go_lands_on_the_cancelled_page_and_connects_nothing(live, browser_page):
    url, company = live
    page = browser_page

    sign_up_and_add_creditor(page, url, company, "avbryter@bedrift.example")
    through_go_to_consent(page, company)
    page.get_by_role("button", name="Avbryt").click()

    page.get_by_role("heading", name="Tilkoblingen ble avbrutt").wait_for()
    assert "ingenting er koblet til" in page.locator("main").inner_text()
    page.screenshot(path="/tmp/connect-flow-cancelled.png")
    creditor = Creditor.objects.get(org_number=company.org_number)
    assert not PowerOfficeConnection.objects.filter(creditor=creditor).exists()
