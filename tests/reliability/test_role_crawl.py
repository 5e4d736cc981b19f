"""Roles and verification, by crawling every URL pattern (issue 15).

A *member* of creditor A (not an owner) sends a POST to every Kundeweb pattern (A's ids where
there are ids) and to every API pattern (a session without the CSRF step), each with a body
full of money fields (payout account, bookkeeping, roles, webhook URLs): afterwards A's money
settings, PowerOffice Go connection, team, API keys and webhooks are exactly as before, and
every owner-only pattern answered 403. Every settings pattern (``innstillinger/``) must be
named below as owner-only or as a member's: a new one fails the test until someone decides.

Then an *unverified* creditor with a due case, a queued letter and money waiting goes through
the dunning run, the delivery sweep and the settlement run: no letter, e-mail, cost or payout.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from rest_framework.test import APIClient

from api_access.models import ApiKey
from collections_cases.dunning.services import dunning_run
from collections_cases.letters.services import delivery_sweep
from collections_cases.models import LedgerEntry, Letter, LetterDelivery, Settlement
from collections_cases.payments import services as payments
from collections_cases.settlements.services import settle
from creditors.models import Creditor, Invitation, Membership
from creditors.permissions import OWNER_FIELDS
from integrations.models import OnboardingAttempt, PowerOfficeConnection
from integrations.webhooks.models import WebhookEndpoint
from tests.collections_cases.dunning_support import on_day, open_case
from tests.collections_cases.factories import DebtorFactory
from tests.factories import CreditorFactory
from tests.reliability.test_tenant_crawl import classify, fill, walk

pytestmark = pytest.mark.reliability

#: Patterns whose POST only an owner may make (issue 15, docs/kundeweb.md roles table).
OWNER_ONLY = {
    "creditor_settings": "money fields (the rest of the page is a member's; 403 when sent)",
    "creditor_poweroffice": "the review form: bookkeeping mode, approvals",
    "creditor_poweroffice_connect": "Gi tilgang",
    "creditor_poweroffice_reconnect": "Koble til på nytt",
    "creditor_poweroffice_refresh": "Hent på nytt fra PowerOffice Go",
    "creditor_poweroffice_disconnect": "Koble fra",
    "creditor_poweroffice_sync": "Synkroniser nå",
    "team": "invite",
    "team_member_role": "change a role",
    "team_member_remove": "remove access",
    "team_invitation_revoke": "withdraw an invitation",
    "settings_api_keys": "create an API key",
    "settings_api_key_revoke": "revoke an API key",
    "settings_webhooks": "add a webhook receiver",
    "settings_webhook_disable": "disable a receiver",
    "settings_webhook_delivery_replay": "send an event again",
    "payout_account_confirm": "confirm a new payout account (a second owner)",
}
#: Settings patterns a member may use.
MEMBER_SETTINGS = {
    "settings_index": "the list of the user's creditors",
    "creditor_add": "applies for a new creditor of their own (unverified)",
    "audit_log": "read-only",
    "settings_webhook_detail": "read-only",
}

ATTACK = {
    "bank_account": "15036123459",
    "bookkeeping_mode": "none",
    "settlement_frequency": "daily",
    "interest_to": "creditor",
    "vat_registered": "",
    "account_bank": "1900",
    "role": "owner",
    "email": "angriper@example.com",
    "name": "Angriper",
    "url": "https://angriper.example.com/hook",
    "events": ["case.changed"],
}


def money_state(creditor_id: int):
    creditor = Creditor.objects.get(pk=creditor_id)
    return (
        {name: getattr(creditor, name) for name in sorted(OWNER_FIELDS)},
        sorted(Membership.objects.filter(creditor=creditor).values_list("user_id", "role")),
        sorted(Invitation.objects.filter(creditor=creditor).values_list("pk", "revoked_at")),
        sorted(ApiKey.objects.filter(creditor=creditor).values_list("pk", "revoked_at")),
        sorted(
            WebhookEndpoint.objects.filter(creditor=creditor).values_list("pk", "url", "is_active")
        ),
        list(PowerOfficeConnection.objects.filter(creditor=creditor).values_list("pk")),
        OnboardingAttempt.objects.filter(creditor=creditor).count(),
        creditor.payout_change_confirmed_at,
    )


def test_a_member_crawling_every_pattern_changes_no_money_setting(client, world):
    creditor_id = world["a"]["creditor_id"]
    member = Membership.objects.get(creditor_id=creditor_id, role=Membership.Role.MEMBER).user
    client.force_login(member)
    client.post("/kreditor/velg/", {"creditor_id": creditor_id})
    api = APIClient()
    api.force_authenticate(member)  # the session API without its CSRF step
    before = money_state(creditor_id)
    answers, unclassified = {}, []

    for route, pattern in walk():
        kind = classify(route, pattern)
        if kind in ("admin", "sandbox", "portal", "public") or "^" in route:
            continue
        if route.startswith("innstillinger/") and pattern.name not in {
            *OWNER_ONLY,
            *MEMBER_SETTINGS,
        }:
            unclassified.append(pattern.name)
        url = fill(route, world["a"], world["slugs"])
        agent = api if route.startswith("api/") else client
        response = agent.post(url, ATTACK, **({"format": "json"} if agent is api else {}))
        answers[pattern.name] = response.status_code

    assert unclassified == []
    refused = {name: answers.get(name) for name in OWNER_ONLY if answers.get(name) != 403}
    assert refused == {}
    assert money_state(creditor_id) == before
    print(f"\n[reliability] role crawl: {len(answers)} patterns, {len(OWNER_ONLY)} owner-only")


def test_an_unverified_creditor_reaches_no_debtor_and_gets_no_payout(
    db, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    from tests.collections_cases.delivery_support import fake_renderer

    settings.MEDIA_ROOT = tmp_path
    fake_renderer(monkeypatch)
    opened, due = dt.date(2026, 3, 2), dt.date(2026, 2, 13)
    creditor = CreditorFactory(settlement_frequency="daily")
    # A letter from while it was verified, still queued; then it turns out unverified.
    sent_case = open_case(opened_on=opened, due=due, debtor=DebtorFactory(creditor=creditor))
    with on_day(opened):
        dunning_run(on=opened)
    due_case = open_case(
        opened_on=opened + dt.timedelta(days=1),
        due=due,
        debtor=DebtorFactory(creditor=creditor, do_not_add_late_payment_interest=True),
    )
    Creditor.objects.filter(pk=creditor.pk).update(verified_at=None)
    payments.payment_register(
        amount=Decimal("500.00"), paid_on=opened, external_reference="r1", case=due_case
    )
    letters_before = Letter.objects.count()
    costs_before = LedgerEntry.objects.exclude(kind=LedgerEntry.Kind.PRINCIPAL).count()

    for day in range(2, 30, 3):
        on = opened + dt.timedelta(days=day)
        with on_day(on), django_capture_on_commit_callbacks(execute=True):
            dunning_run(on=on)
            delivery_sweep()
            settle(on=on, render_statements=False)

    assert mail.outbox == []
    assert Letter.objects.count() == letters_before
    assert LedgerEntry.objects.exclude(kind=LedgerEntry.Kind.PRINCIPAL).count() == costs_before
    assert not Settlement.objects.filter(creditor=creditor).exists()
    assert set(
        LetterDelivery.objects.filter(letter__case=sent_case).values_list("status", flat=True)
    ) == {LetterDelivery.Status.QUEUED}
