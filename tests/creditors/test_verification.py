"""Issue 15, point 2: a creditor is unverified until the PowerOffice Go connection or a case
handler proves it. Until then no letter, e-mail or cost reaches a debtor and no payout is
made; applicants for one org number wait side by side and verification decides."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.admin import helpers
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse

from collections_cases.letters import services as delivery_services
from collections_cases.models import LedgerEntry, Letter, LetterDelivery, Settlement
from collections_cases.payments import services as payments
from collections_cases.settlements import services as settlement_services
from creditors import services
from creditors.models import AuditEntry, Creditor, Membership
from kravia_web.errors import ApplicationError
from tests.collections_cases.delivery_support import DUE, OPENED, fake_renderer
from tests.collections_cases.dunning_support import costs, letters, on_day, open_case, run
from tests.collections_cases.factories import DebtorFactory
from tests.factories import CreditorFactory, MembershipFactory, UserFactory, valid_org_number

pytestmark = pytest.mark.django_db

ORG = valid_org_number(8_800)


def unverified(**fields):
    return CreditorFactory(verified_at=None, verification_method="", **fields)


@pytest.fixture
def case_handler():
    return UserFactory(is_staff=True, is_superuser=True, email="saksbehandler@kravia.example")


def admin_verify(client, handler, creditors, reason="Daglig leder i Brønnøysund, bekreftet"):
    client.force_login(handler)
    return client.post(
        reverse("admin:creditors_creditor_changelist"),
        {
            "action": "verify",
            helpers.ACTION_CHECKBOX_NAME: [c.pk for c in creditors],
            "apply": "1",
            "reason": reason,
        },
        follow=True,
    )


# --- Applicants ---------------------------------------------------------------------------------


def test_two_users_may_apply_for_one_org_number_and_both_wait_unverified():
    first, second = UserFactory(), UserFactory()

    a = services.creditor_create(user=first, org_number=ORG, name="Ekte AS")
    b = services.creditor_create(user=second, org_number=ORG, name="Kanskje Ekte AS")

    assert a.pk != b.pk
    assert not a.is_verified and not b.is_verified
    # The same user cannot apply twice for the number.
    with pytest.raises(ApplicationError, match="allerede lagt til"):
        services.creditor_create(user=first, org_number=ORG, name="Igjen AS")


def test_verifying_one_applicant_leaves_the_other_unverified_and_refuses_a_second(case_handler):
    a = services.creditor_create(user=UserFactory(), org_number=ORG, name="Ekte AS")
    b = services.creditor_create(user=UserFactory(), org_number=ORG, name="Squatter AS")

    services.creditor_verify(
        creditor=a, actor=case_handler, method="case_handler", reason="Sjekket i Brreg"
    )

    a.refresh_from_db()
    b.refresh_from_db()
    assert a.is_verified and not b.is_verified
    with pytest.raises(ApplicationError, match="allerede verifisert for en annen kreditor"):
        services.creditor_verify(
            creditor=b, actor=case_handler, method="case_handler", reason="Feil"
        )
    b.refresh_from_db()
    assert not b.is_verified
    # Once one is verified, nobody new may apply for the number.
    with pytest.raises(ApplicationError, match="verifisert som kreditor"):
        services.creditor_create(user=UserFactory(), org_number=ORG, name="Tredje AS")


def test_the_database_allows_only_one_verified_creditor_per_org_number():
    CreditorFactory(org_number=ORG)
    unverified(org_number=ORG)  # an applicant is fine
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditorFactory(org_number=ORG)


def test_a_case_handler_must_say_why(case_handler):
    creditor = unverified()
    with pytest.raises(ApplicationError):
        services.creditor_verify(creditor=creditor, actor=case_handler, method="case_handler")
    creditor.refresh_from_db()
    assert not creditor.is_verified


# --- The admin ----------------------------------------------------------------------------------


def test_admin_verifies_with_who_when_and_why_in_the_log(client, case_handler):
    creditor = unverified()

    response = admin_verify(client, case_handler, [creditor], reason="Ringt daglig leder")

    assert response.status_code == 200
    creditor.refresh_from_db()
    assert creditor.is_verified
    assert creditor.verification_method == Creditor.VerificationMethod.CASE_HANDLER
    assert creditor.verified_by == case_handler
    entry = AuditEntry.objects.get(creditor=creditor, action=AuditEntry.Action.CREDITOR_VERIFIED)
    assert entry.actor == case_handler
    assert entry.at == creditor.verified_at
    assert entry.data == {
        "method": "case_handler",
        "reason": "Ringt daglig leder",
        "by": case_handler.email,
    }
    assert "Ringt daglig leder" in entry.summary


def test_admin_is_told_when_another_creditor_is_verified_already(client, case_handler):
    CreditorFactory(org_number=ORG, name="Den ekte")
    applicant = unverified(org_number=ORG)

    client.force_login(case_handler)
    # The confirmation page names the other creditor with the number.
    confirm = client.post(
        reverse("admin:creditors_creditor_changelist"),
        {"action": "verify", helpers.ACTION_CHECKBOX_NAME: [applicant.pk]},
    )
    assert "Den ekte" in confirm.content.decode()

    response = admin_verify(client, case_handler, [applicant])

    assert "allerede verifisert for en annen kreditor" in response.content.decode()
    applicant.refresh_from_db()
    assert not applicant.is_verified


def test_admin_lists_unverified_creditors(client, case_handler):
    waiting = unverified(name="Venter AS")
    CreditorFactory(name="Klar AS")
    client.force_login(case_handler)

    response = client.get(reverse("admin:creditors_creditor_changelist"), {"verifisert": "nei"})

    content = response.content.decode()
    assert waiting.name in content
    assert "Klar AS" not in content


# --- No debtor contact, no cost, no payout --------------------------------------------------------


def test_an_unverified_creditors_due_case_gets_no_letter_or_cost_until_verified(
    client, case_handler, monkeypatch, django_capture_on_commit_callbacks
):
    fake_renderer(monkeypatch)
    creditor = unverified()
    case = open_case(opened_on=OPENED, due=DUE, debtor=DebtorFactory(creditor=creditor))
    next_action = (case.next_action, case.next_action_date)

    with django_capture_on_commit_callbacks(execute=True):
        result = run(OPENED)

    assert result.steps == {}
    assert letters(case) == [] and costs(case) == []
    case.refresh_from_db()
    assert (case.next_action, case.next_action_date) == next_action  # still due
    assert mail.outbox == []

    admin_verify(client, case_handler, [creditor])
    with django_capture_on_commit_callbacks(execute=True):
        result = run(OPENED + dt.timedelta(days=1))

    assert result.steps == {"inkassovarsel": 1}
    assert [kind for kind, *_ in letters(case)] == [Letter.Kind.INKASSOVARSEL]
    assert [m.to for m in mail.outbox] == [[case.debtor.email]]


def test_a_letter_of_an_unverified_creditor_is_held_not_failed(monkeypatch):
    """Whatever path recorded a letter (a remainder statement, a re-send), its delivery does
    not leave while the creditor is unverified; it stays queued and goes after verification."""
    fake_renderer(monkeypatch)
    creditor = CreditorFactory()
    case = open_case(opened_on=OPENED, due=DUE, debtor=DebtorFactory(creditor=creditor))
    run(OPENED)  # verified: the inkassovarsel is recorded, its delivery queued
    delivery = LetterDelivery.objects.get(letter__case=case)
    Creditor.objects.filter(pk=creditor.pk).update(verified_at=None)

    with on_day(OPENED + dt.timedelta(days=1)):
        assert delivery_services.delivery_send(delivery_id=delivery.pk) == "skipped"
        assert delivery_services.delivery_sweep() == {}

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (LetterDelivery.Status.QUEUED, 0)
    assert mail.outbox == []

    services.creditor_verify(
        creditor=creditor, actor=None, method="case_handler", reason="Kontrollert"
    )
    with on_day(OPENED + dt.timedelta(days=1)):
        assert delivery_services.delivery_sweep() == {LetterDelivery.Status.SENT: 1}
    assert len(mail.outbox) == 1


def test_no_settlement_for_an_unverified_creditor_and_utbetalinger_says_why(client):
    creditor = unverified(bank_account="15036123459")
    owner = MembershipFactory(creditor=creditor).user
    case = open_case(opened_on=OPENED, due=DUE, debtor=DebtorFactory(creditor=creditor))
    case.debtor.do_not_add_late_payment_interest = True
    case.debtor.save(update_fields=["do_not_add_late_payment_interest"])
    payments.payment_register(
        amount=Decimal("1000.00"), paid_on=dt.date(2025, 12, 5), external_reference="x", case=case
    )

    report = settlement_services.settle(
        on=dt.date(2025, 12, 12), creditor_ids=[creditor.pk], render_statements=False
    )

    assert report.created == []
    assert "ikke verifisert" in report.skipped[creditor.pk]
    assert not Settlement.objects.filter(creditor=creditor).exists()
    client.force_login(owner)
    content = client.get(reverse("settlement_list")).content.decode()
    assert "Kreditoren er ikke verifisert ennå" in content
    assert "gjør ingen utbetalinger" in content


def test_oversikt_says_why_nothing_goes_out_and_what_to_do(client):
    creditor = unverified()
    owner = MembershipFactory(creditor=creditor).user
    client.force_login(owner)

    content = client.get(reverse("dashboard")).content.decode()

    assert "Kreditoren er ikke verifisert ennå" in content
    assert reverse("creditor_poweroffice", args=[creditor.pk]) in content
    assert "kontakt oss" in content


def test_registering_invoices_and_seeing_cases_works_unverified(client):
    creditor = unverified()
    owner = MembershipFactory(creditor=creditor).user
    case = open_case(opened_on=OPENED, due=DUE, debtor=DebtorFactory(creditor=creditor))
    client.force_login(owner)

    assert client.get(reverse("case_detail", args=[case.pk])).status_code == 200
    assert LedgerEntry.objects.filter(case=case).exists()


def test_membership_roles_are_unchanged_by_verification(case_handler):
    creditor = unverified()
    member = MembershipFactory(creditor=creditor, role=Membership.Role.MEMBER)
    services.creditor_verify(
        creditor=creditor, actor=case_handler, method="case_handler", reason="ok"
    )
    member.refresh_from_db()
    assert member.role == Membership.Role.MEMBER


def test_no_remainder_statement_for_an_unverified_creditors_case(settings):
    """A payment that would get a remainder statement (reference § 4b) records none while the
    creditor is unverified (it would only leave, stale, after verification)."""
    from tests.collections_cases.test_letters_truth import case_with_iv, pay

    settings.REMAINDER_STATEMENT_MAX_PRINCIPAL = "5000.00"
    case = case_with_iv()  # verified then: its inkassovarsel is recorded
    Creditor.objects.filter(pk=case.creditor_id).update(verified_at=None)

    pay(case, "2000.00")

    assert not case.letters.filter(kind=Letter.Kind.REMAINDER_STATEMENT).exists()
