"""Shared by the reliability tests: one of everything for creditor A, a little for B."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from api_access.services import api_key_create
from collections_cases.models import Letter, PaymentPlan, Settlement
from creditors.models import Membership
from integrations.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.collections_cases.factories_pages import open_case
from tests.factories import MembershipFactory

SECRET_NAME = "Aurora Hemmelig-Skyldner"


@pytest.fixture
def world(db, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    owner_a = MembershipFactory(role=Membership.Role.OWNER)
    creditor_a = owner_a.creditor
    colleague_a = MembershipFactory(creditor=creditor_a, role=Membership.Role.MEMBER)
    case_a = open_case(creditor_a)
    case_a.debtor.name = SECRET_NAME
    case_a.debtor.save(update_fields=["name"])
    letter_a = Letter.objects.create(
        case=case_a,
        kind=Letter.Kind.INKASSOVARSEL,
        step="inkassovarsel",
        sent_on=timezone.localdate(),
        deadline=timezone.localdate() + dt.timedelta(days=14),
    )
    plan_a = PaymentPlan.objects.create(
        case=case_a, total=Decimal("1000.00"), requested_by="Skyldner"
    )
    on = timezone.localdate()
    settlement_a = Settlement.objects.create(
        creditor=creditor_a,
        settled_on=on,
        period_start=on - dt.timedelta(days=7),
        period_end=on,
        bookkeeping_mode=creditor_a.bookkeeping_mode,
        vat_registered=True,
        interest_to=creditor_a.interest_to,
        vat_percent=Decimal("25.00"),
        collected=Decimal("1000.00"),
        principal=Decimal("900.00"),
        interest=Decimal("0.00"),
        fees=Decimal("100.00"),
        salaer=Decimal("0.00"),
        interest_to_creditor=Decimal("0.00"),
        commission=Decimal("0.00"),
        vat=Decimal("0.00"),
        payout=Decimal("900.00"),
    )
    from creditors.models import Invitation

    invitation_a = Invitation.objects.create(
        creditor=creditor_a,
        email="ny@a.example",
        role=Membership.Role.MEMBER,
        token_hash="a" * 64,
        invited_by=owner_a.user,
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    key_a, _raw = api_key_create(creditor=creditor_a, actor=owner_a.user, name="A")
    endpoint_a = WebhookEndpoint.objects.create(
        creditor=creditor_a, url="https://a.example/hook", events=["case.changed"]
    )
    delivery_a = WebhookDelivery.objects.create(
        endpoint=endpoint_a, event_type="case.changed", payload={}
    )

    owner_b = MembershipFactory(role=Membership.Role.OWNER)
    creditor_b = owner_b.creditor
    case_b = open_case(creditor_b)
    settlement_b = Settlement.objects.create(
        **{
            f.name: getattr(settlement_a, f.name)
            for f in Settlement._meta.concrete_fields
            if f.name not in {"id", "creditor", "number"}
        }
        | {"creditor": creditor_b}
    )
    return {
        "a": {
            "creditor_id": creditor_a.pk,
            "case_id": case_a.pk,
            "debtor_id": case_a.debtor_id,
            "letter_id": letter_a.pk,
            "plan_id": plan_a.pk,
            "settlement_id": settlement_a.pk,
            "membership_id": colleague_a.pk,
            "invitation_id": invitation_a.pk,
            "api_key_id": key_a.pk,
            "endpoint_id": endpoint_a.pk,
            "delivery_id": delivery_a.pk,
        },
        "b": {
            "creditor_id": creditor_b.pk,
            "case_id": case_b.pk,
            "debtor_id": case_b.debtor_id,
            "settlement_id": settlement_b.pk,
        },
        "slugs": {"action": "pause", "decision": "godta", "uidb64": "MQ", "token": "x-y"},
        "case_a": case_a,
        "user_a": owner_a.user,
        "user_b": owner_b.user,
        "creditor_b": creditor_b,
    }
