"""«Last ned» on the case page's letter table stays in view at 1 280 × 800 (issue 16, point 5).

Three letters with large amounts and long delivery errors made the table wider than its card,
and the last column («Forhåndsvis · Last ned») was cut off by the table's scroll box.
"""

from decimal import Decimal

import pytest

from collections_cases.models import Letter, LetterDelivery
from tests.collections_cases.delivery_support import DUE, OPENED, fake_renderer
from tests.collections_cases.dunning_support import open_case, run
from tests.conftest import PASSWORD
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.live]

LONG_ERROR = (
    "SMTP 550 5.1.1 The email account that you tried to reach does not exist. "
    "Please try double-checking the recipient's email address"
)


def wide_letters_case(monkeypatch):
    fake_renderer(monkeypatch)
    case = open_case(opened_on=OPENED, due=DUE)
    run(OPENED)
    letter = Letter.objects.get(case=case)
    for kind in ("betalingsoppfordring", "varsel_rettslig"):
        letter.pk = None
        letter.kind = letter.step = kind
        letter.fee = Decimal("1250.00")
        letter.amounts = {**letter.amounts, "total": "1234567.89"}
        letter.save()  # its delivery is queued (and sent) on save
    assert LetterDelivery.objects.filter(letter__case=case).count() == 3
    LetterDelivery.objects.update(status="failed", last_error=LONG_ERROR)
    return case


def test_last_ned_is_not_clipped_at_1280(live_server, transactional_db, browser_page, monkeypatch):
    case = wide_letters_case(monkeypatch)
    membership = MembershipFactory(creditor=case.creditor)
    page, url = browser_page, live_server.url
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{url}/logg-inn/")
    page.get_by_label("E-post").fill(membership.user.email)
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()

    page.goto(f"{url}/saker/{case.pk}/")

    links = page.get_by_role("link", name="Last ned", exact=True)
    assert links.count() == 3
    box = page.locator(".table-scroll", has=links.first)
    visible = box.bounding_box()
    for index in range(3):
        link = links.nth(index).bounding_box()
        assert link["x"] + link["width"] <= visible["x"] + visible["width"]
    assert box.evaluate("e => e.scrollWidth <= e.clientWidth")
    page.screenshot(path="/tmp/case-letters-1280.png", full_page=True)
