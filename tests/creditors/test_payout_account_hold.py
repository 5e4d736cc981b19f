"""Issue 15, point 3: a payout account change e-mails every owner and holds the next payout
``PAYOUT_ACCOUNT_HOLD_DAYS`` days (default 3) unless a second owner confirms it; shown on
*Utbetalinger*."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from collections_cases.models import Settlement
from collections_cases.payments import services as payments
from collections_cases.settlements import services as settlement_services
from creditors import services
from creditors.models import AuditEntry, Membership
from kravia_web.errors import ApplicationError
from tests.collections_cases.dunning_support import on_day, open_case
from tests.collections_cases.factories import DebtorFactory
from tests.factories import CreditorFactory, MembershipFactory

pytestmark = pytest.mark.django_db

OLD, NEW = "86011117947", "15036123459"
CHANGED = dt.date(2026, 11, 23)  # Monday
OPENED, DUE = dt.date(2026, 11, 2), dt.date(2026, 10, 15)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def creditor():
    creditor = CreditorFactory(
        bank_account=OLD, settlement_frequency="daily", email="firma@example.no"
    )
    case = open_case(opened_on=OPENED, due=DUE, debtor=DebtorFactory(creditor=creditor))
    case.debtor.do_not_add_late_payment_interest = True
    case.debtor.save(update_fields=["do_not_add_late_payment_interest"])
    payments.payment_register(
        amount=Decimal("1000.00"), paid_on=OPENED, external_reference="p1", case=case
    )
    return creditor


@pytest.fixture
def owners(creditor):
    return [MembershipFactory(creditor=creditor, role=Membership.Role.OWNER).user for _ in range(2)]


def change_account(creditor, actor, account=NEW, day=CHANGED, capture=None):
    with on_day(day, hour=12):
        if capture is None:
            return services.creditor_update_settings(
                creditor=creditor, actor=actor, cleaned_data={"bank_account": account}
            )
        with capture(execute=True):
            return services.creditor_update_settings(
                creditor=creditor, actor=actor, cleaned_data={"bank_account": account}
            )


def settle(creditor, day):
    with on_day(day, hour=7):
        return settlement_services.settle(
            on=day, creditor_ids=[creditor.pk], render_statements=False
        )


def test_every_owner_is_e_mailed_and_the_change_is_logged(
    creditor, owners, django_capture_on_commit_callbacks
):
    MembershipFactory(creditor=creditor, role=Membership.Role.MEMBER)  # not an owner: no mail

    change_account(creditor, owners[0], capture=django_capture_on_commit_callbacks)

    assert sorted(m.to[0] for m in mail.outbox) == sorted(o.email for o in owners)
    body = mail.outbox[0].body
    assert owners[0].email in body  # who changed it
    assert "•••• •• 17947" in body and "•••• •• 23459" in body  # old and new, masked
    assert NEW not in body
    assert "26. november 2026" in body  # held through Monday + 3 days
    entry = AuditEntry.objects.get(
        creditor=creditor, action=AuditEntry.Action.PAYOUT_ACCOUNT_CHANGED
    )
    assert entry.actor == owners[0]
    assert entry.data["hold_until"] == "2026-11-26"


def test_the_next_payout_waits_three_days_then_goes_to_the_new_account(creditor, owners):
    change_account(creditor, owners[0])
    creditor.refresh_from_db()
    assert creditor.payout_hold_until == CHANGED + dt.timedelta(days=3)

    for day in (CHANGED, dt.date(2026, 11, 24), dt.date(2026, 11, 26)):
        report = settle(creditor, day)
        assert report.created == []
        assert "holdes tilbake til og med 26.11.2026" in report.skipped[creditor.pk]
    assert not Settlement.objects.filter(creditor=creditor).exists()

    report = settle(creditor, dt.date(2026, 11, 27))

    [settlement] = Settlement.objects.filter(pk__in=report.created)
    assert settlement.payout_account == NEW


def test_a_second_owner_confirms_and_the_payout_goes_at_once(client, creditor, owners):
    change_account(creditor, owners[0])
    client.force_login(owners[1])
    next_day = dt.date(2026, 11, 24)

    with on_day(next_day, hour=9):
        page = client.get(reverse("settlement_list")).content.decode()
        assert "Utbetalinger holdes tilbake" in page
        assert reverse("payout_account_confirm", args=[creditor.pk]) in page

        response = client.post(reverse("payout_account_confirm", args=[creditor.pk]))
        assert response.status_code == 302

    creditor.refresh_from_db()
    assert creditor.payout_change_confirmed_by == owners[1]
    assert AuditEntry.objects.filter(
        creditor=creditor, action=AuditEntry.Action.PAYOUT_ACCOUNT_CONFIRMED, actor=owners[1]
    ).exists()
    report = settle(creditor, next_day)
    [settlement] = Settlement.objects.filter(pk__in=report.created)
    assert settlement.payout_account == NEW
    with on_day(next_day, hour=9):
        page = client.get(reverse("settlement_list")).content.decode()
    assert "Utbetalinger holdes tilbake" not in page


def test_the_owner_who_changed_it_cannot_confirm_it(client, creditor, owners):
    change_account(creditor, owners[0])
    client.force_login(owners[0])
    with on_day(CHANGED, hour=13):
        with pytest.raises(ApplicationError, match="En annen eier"):
            services.payout_account_confirm(creditor=creditor, actor=owners[0])
        page = client.get(reverse("settlement_list")).content.decode()
    assert "Utbetalinger holdes tilbake" in page
    assert reverse("payout_account_confirm", args=[creditor.pk]) not in page


def test_hold_days_is_a_setting(creditor, owners, settings):
    settings.PAYOUT_ACCOUNT_HOLD_DAYS = 5
    change_account(creditor, owners[0])
    creditor.refresh_from_db()
    assert creditor.payout_hold_until == CHANGED + dt.timedelta(days=5)
    assert settle(creditor, dt.date(2026, 11, 27)).created == []


def test_a_first_account_holds_nothing_but_owners_are_told(
    owners, creditor, django_capture_on_commit_callbacks
):
    creditor.bank_account = ""
    creditor.save(update_fields=["bank_account"])

    change_account(creditor, owners[0], capture=django_capture_on_commit_callbacks)

    creditor.refresh_from_db()
    assert creditor.payout_hold_until is None
    assert len(mail.outbox) == 2
    assert settle(creditor, CHANGED).created
