"""Headless Chromium (Debian's ``/usr/bin/chromium``) driven by Playwright against a live server.

Skipped with a reason when Chromium is missing, except in CI (``CI`` set), where a missing
browser is a failure: the connect flow must be proven in a real browser there.
"""

import os
import shutil

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pogo_sandbox.models import Application, Company, GoUser

DEMO_EMAIL = "demo@poweroffice.example"

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium_path():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; the browser tests must run in CI.")
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's chromium package.")
    return CHROMIUM


@pytest.fixture
def browser_page(chromium_path, monkeypatch):
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls
    # (arranging and asserting) are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(locale="nb-NO", viewport={"width": 1200, "height": 900})
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()


@pytest.fixture
def live(live_server, settings, transactional_db):
    """Point Kundeweb, the PoGo client and the sandbox at this live server."""
    url = live_server.url
    settings.SITE_URL = url
    settings.POWEROFFICE_V2_BASE_URL = f"{url}/pogo/v2"
    settings.POWEROFFICE_V2_TOKEN_URL = f"{url}/pogo/OAuth/Token"
    settings.POWEROFFICE_V1_BASE_URL = f"{url}/pogo/v1"
    settings.POWEROFFICE_V1_TOKEN_URL = f"{url}/pogo/v1/OAuth/Token"
    try:
        call_command("pogo_seed", verbosity=0)
    except CommandError as exc:  # pragma: no cover - the seed command is part of the sandbox
        pytest.fail(f"pogo_seed is needed for the browser test: {exc}")
    Application.objects.filter(application_key=settings.POWEROFFICE_APPLICATION_KEY).update(
        redirect_uri_prefix=url
    )
    demo = GoUser.objects.get(email=DEMO_EMAIL)
    company = Company.objects.filter(companyaccess__user=demo).order_by("name").first()
    return url, company
