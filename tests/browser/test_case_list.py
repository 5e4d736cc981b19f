"""The case list in headless Chromium: filter it, sort it by a column header with the keyboard,
and download the CSV export of exactly what is shown."""

import csv
import io
from pathlib import Path

import pytest

from collections_cases.models import CollectionCase
from tests.collections_cases.factories_pages import collectable_debtor, open_case
from tests.conftest import PASSWORD
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.live]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"


def test_filter_sort_and_export_the_case_list(live_server, transactional_db, browser_page):
    page, url = browser_page, live_server.url
    membership = MembershipFactory()
    creditor = membership.creditor
    small = open_case(creditor, debtor=collectable_debtor(creditor, name="Fjord Fisk AS"))
    large = open_case(
        creditor,
        debtor=collectable_debtor(creditor, name="Fjordkaffe AS"),
        amounts=("9000.00", "1234.50"),
    )
    waiting = open_case(creditor, needs_approval=True)
    foreign = open_case(MembershipFactory().creditor)

    page.goto(f"{url}/logg-inn/")
    page.get_by_label("E-post").fill(membership.user.email)
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()
    page.get_by_role("navigation").get_by_role("link", name="Saker").click()

    # Filter: search "fjord", only active cases.
    page.get_by_label("Søk").fill("fjord")
    page.get_by_label("Status").select_option(label="Pågående")
    page.get_by_role("button", name="Vis").click()
    numbers = page.locator("table.list tbody tr td:first-child")
    assert sorted(numbers.all_inner_texts()) == sorted([small.number, large.number])
    assert waiting.number not in page.content()

    # Sort by balance from the column header, with the keyboard; highest first.
    balance = page.get_by_role("columnheader", name="Saldo")
    balance.get_by_role("link").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**sort=-balance**")
    assert page.get_by_role("columnheader", name="Saldo").get_attribute("aria-sort") == (
        "descending"
    )
    assert numbers.all_inner_texts() == [large.number, small.number]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "case-list-filtered-sorted.png"), full_page=True)

    # On a phone the table scrolls sideways inside its region; the page itself does not.
    page.set_viewport_size({"width": 390, "height": 844})
    region = page.get_by_role("region", name="Saker")
    assert region.evaluate("el => el.scrollWidth > el.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(SCREENSHOTS / "case-list-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1200, "height": 900})

    # Export what is shown.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("saker-")
    assert download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_bytes().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert [row["Saksnummer"] for row in rows] == [large.number, small.number]
    assert rows[0]["Saldo"] == "10234,50"
    assert rows[0]["Status"] == CollectionCase.Status.ACTIVE.label
    assert foreign.number not in text
