"""The browser steps of docs/demo.md, for the docs test (run by ``manage.py shell``).

The docs test runs every shell command of docs/demo.md; the few steps done in a browser are
marked there with ``<!-- docs-test: NAME -->`` and played here with Django's test client
against the same database, through the same views (Kundeweb's forms and «Gi tilgang») and the
sandbox's own consent function. Kundeweb's calls to PowerOffice Go go over HTTP to the live
server the docs test started on KRAVIA_PORT. tests/browser/ drives the real screens.
"""

from __future__ import annotations

import sys
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.test import Client
from django.urls import reverse

from creditors.models import Creditor, User
from integrations.models import PowerOfficeConnection
from pogo_sandbox import domain
from pogo_sandbox.models import Company, GoUser, OnboardingSession


def _kundeweb() -> Client:
    client = Client()
    client.force_login(User.objects.get(email="demo@kravia.example"))
    return client


def connect(org_number: str, name: str) -> None:
    """Sign in as the demo customer, *Legg til kreditor*, **Gi tilgang**, **Godta** in Go."""
    client = _kundeweb()
    response = client.post(
        reverse("creditor_add"), {"org_number": org_number, "name": name, "email": ""}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    creditor = Creditor.objects.get(org_number=org_number)
    response = client.post(reverse("creditor_poweroffice_connect", args=[creditor.pk]))
    assert response.status_code == 302, response.content.decode()[:2000]
    token = urlsplit(response["Location"]).path.rstrip("/").rsplit("/", 1)[-1]
    session = OnboardingSession.objects.get(temporary_token=token)
    go_user = GoUser.objects.get(email="demo@poweroffice.example")
    company = Company.objects.get(org_number=org_number)
    onboarding_token = domain.onboarding_accept(session, user=go_user, company=company)
    back = urlsplit(session.redirect_uri)
    query = [(k, v) for k, v in parse_qsl(back.query) if k not in {"status", "token"}]
    query += [("status", "Success"), ("token", onboarding_token)]
    response = client.get(urlunsplit(("", "", back.path, urlencode(query), "")), follow=True)
    assert response.status_code == 200
    connection = PowerOfficeConnection.objects.get(creditor=creditor)
    assert connection.is_connected, "Gi tilgang did not connect"
    print(f"connected {name} ({org_number})")


def approve_all(org_number: str) -> None:
    """In the sandbox: *Inkasso → Utkast* → **Godkjenn alle**."""
    company = Company.objects.get(org_number=org_number)
    domain.refresh_drafts(company)
    approved = domain.approve_drafts(company)
    assert approved, "no overdue invoices to approve"
    print(f"approved {approved} invoice(s)")


STEPS = {
    "connect-fjordkaffe": lambda: connect("999100007", "Fjordkaffe Demo AS"),
    "approve-all-fjordkaffe": lambda: approve_all("999100007"),
}


def run(name: str) -> None:
    if name not in STEPS:
        sys.exit(f"unknown docs-test step {name!r}: add it to tests/docs/browser_steps.py")
    STEPS[name]()
