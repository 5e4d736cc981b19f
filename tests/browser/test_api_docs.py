"""The API in a real browser: an owner creates an API key in Kundeweb (shown once), the key
works against /api/v1/, and the interactive docs render from this server's own static files
(no request leaves for another host). Screenshots go to ``test-results/screenshots/``."""

import re
from pathlib import Path

import pytest

from api_access.models import ApiKey
from tests.collections_cases.factories_pages import collectable_debtor, open_case
from tests.conftest import PASSWORD
from tests.factories import CreditorFactory, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.live]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"


def test_create_key_call_api_and_read_docs(live_server, transactional_db, browser_page):
    page, url = browser_page, live_server.url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    membership = MembershipFactory(creditor=CreditorFactory(name="Fjordkaffe AS"))
    case = open_case(
        membership.creditor,
        debtor=collectable_debtor(membership.creditor, name="Havblikk AS"),
        amounts=("3450.00",),
        needs_approval=False,
    )
    hosts = set()
    page.on("request", lambda request: hosts.add(re.sub(r"^(\w+://[^/]+).*", r"\1", request.url)))

    page.goto(f"{url}/logg-inn/")
    page.get_by_label("E-post").fill(membership.user.email)
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_load_state()

    page.goto(f"{url}/innstillinger/")
    page.get_by_role("link", name="API-nøkler").click()
    page.get_by_label("Navn på nøkkelen").fill("Regnskapssystem")
    page.get_by_role("button", name="Lag API-nøkkel").click()
    key = page.get_by_label("API-nøkkel", exact=True).input_value()
    assert key.startswith(ApiKey.objects.get().prefix + "_")
    page.screenshot(path=str(SCREENSHOTS / "api-key-created.png"), full_page=True)

    response = page.request.get(f"{url}/api/v1/cases/", headers={"Authorization": f"Bearer {key}"})
    assert response.status == 200
    assert [row["number"] for row in response.json()["results"]] == [case.number]

    # Shown once: a fresh load of the page has only the prefix.
    page.goto(f"{url}/innstillinger/api-nokler/")
    assert key not in page.content()

    page.goto(f"{url}/api/v1/docs/")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "Kravia Kundeweb API" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator("#operations-cases-cases_list").wait_for()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SCREENSHOTS / "api-docs.png"), full_page=True)
    assert hosts == {url}, hosts
