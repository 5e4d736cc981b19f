"""Issue 4 end to end in headless Chromium, against a live server over real sockets.

An overdue invoice in (sandbox) PowerOffice Go → released in Go's Inkasso menu → one sync →
the case is in Kundeweb and under *Åpne* in Go with our case number → the dunning run sends
the inkassovarsel → the next sync pushes the status text, which Go's Inkasso menu shows →
the debtor opens Min side with the case number and the access code from the letter and objects → the case
is *omtvistet* in Kundeweb and in Go's Inkasso menu.
"""

import io
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from collections_cases.letters.documents import letter_pdf
from collections_cases.models import CollectionCase, Letter
from pogo_sandbox.models import DebtCollectionCase, OutgoingInvoice
from tests.browser.test_connect_flow import sign_up_and_add_creditor, through_go_to_consent

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_released_invoice_becomes_a_case_moves_on_and_go_shows_its_status(live, browser_page):
    url, company = live
    page = browser_page
    sign_up_and_add_creditor(page, url, company, "inkasso@bedrift.example")
    through_go_to_consent(page, company)
    page.get_by_role("button", name="Godta").click()
    page.wait_for_url(re.compile(r"/poweroffice/$"))

    # In Go (still logged in there from the consent): pick the company, then Inkasso → Utkast.
    page.goto(f"{url}/pogo/velg-selskap/")
    page.get_by_role("button", name=company.name).click()
    page.get_by_role("link", name="Inkasso").first.click()
    drafts = OutgoingInvoice.objects.filter(
        company=company, debt_collection_status=OutgoingInvoice.DebtCollectionStatus.DRAFT
    )
    released = set(drafts.values_list("invoice_no", flat=True))
    assert released, "the demo company has overdue invoices in Utkast"
    page.get_by_role("button", name="Godkjenn alle").click()
    page.wait_for_load_state()

    call_command("poweroffice_sync", creditor=company.org_number, verbosity=0)

    cases = CollectionCase.objects.filter(creditor__org_number=company.org_number)
    assert cases.exists()
    assert set(cases.values_list("invoices__invoice_no", flat=True)) == released
    case = cases.order_by("number").first()
    # Kundeweb shows the case with its amounts and next step.
    page.goto(f"{url}/saker/?q={case.number}")
    page.get_by_role("link", name=case.number).click()
    page.wait_for_url(re.compile(rf"/saker/{case.pk}/$"))
    assert "Inkassovarsel" in page.locator("main").inner_text()
    # Go shows it under Åpne with our case number and a link back to our case page.
    go_case = DebtCollectionCase.objects.get(company=company, code=case.number)
    assert go_case.external_case_url.endswith(f"/saker/{case.pk}/")
    page.goto(f"{url}/pogo/inkasso/apne/")
    assert case.number in page.locator("body").inner_text()

    today = timezone.localdate()
    call_command("dunning_run", date=today.isoformat(), verbosity=0)
    assert Letter.objects.filter(case=case, kind="inkassovarsel").count() == 1
    call_command("poweroffice_sync", creditor=company.org_number, verbosity=0)

    go_case.refresh_from_db()
    assert "Inkassovarsel sendt" in go_case.status_text
    page.goto(f"{url}/pogo/inkasso/apne/")
    row = page.locator("tr", has_text=case.number)
    assert "Inkassovarsel sendt" in row.inner_text()
    page.screenshot(path="/tmp/case-flow-go.png", full_page=True)

    # The debtor opens Min side with the case number and the access code from the letter (the
    # KID is only the payment reference), and objects.
    letter_text = _pdf_text(letter_pdf(Letter.objects.get(case=case, kind="inkassovarsel")))
    assert case.number in letter_text and case.kid in letter_text
    code = re.search(r"tilgangskoden\s+([A-Z0-9]{5}-[A-Z0-9]{5})", letter_text).group(1)
    debtor_page = page.context.browser.new_context(locale="nb-NO").new_page()
    debtor_page.goto(f"{url}/min-side/")
    debtor_page.get_by_label("Saksnummer").fill(case.number)
    debtor_page.get_by_label("Tilgangskode").fill(code)
    debtor_page.get_by_role("button", name="Vis saken").click()
    debtor_page.get_by_text("Jeg er uenig i kravet (innsigelse)").click()
    debtor_page.get_by_label("Hvorfor er du uenig i kravet?").fill(
        "Varen ble aldri levert, og jeg har klaget til selgeren."
    )
    debtor_page.get_by_role("button", name="Send innsigelse").click()
    debtor_page.wait_for_load_state()
    debtor_page.context.close()

    case.refresh_from_db()
    assert case.status == CollectionCase.Status.DISPUTED
    page.goto(f"{url}/saker/{case.pk}/")
    assert "Omtvistet" in page.locator("main").inner_text()
    call_command("poweroffice_sync", creditor=company.org_number, verbosity=0)
    page.goto(f"{url}/pogo/inkasso/apne/")
    assert "Omtvistet" in page.locator("tr", has_text=case.number).inner_text()


def _pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
