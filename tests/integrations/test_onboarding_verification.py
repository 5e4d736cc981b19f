"""Issue 15: «Gi tilgang» verifies the creditor when PowerOffice Go answers for its org number,
and only owners connect."""

# The fixtures are shared with test_onboarding_flow by import; pytest injects them by name.
# ruff: noqa: F811

from django.urls import reverse

from creditors.models import AuditEntry, Creditor, Membership
from integrations.models import OnboardingAttempt, PowerOfficeConnection
from pogo_sandbox.models import OnboardingSession
from tests.factories import CreditorFactory, MembershipFactory, valid_org_number
from tests.integrations.test_onboarding_flow import (  # noqa: F401  (fixtures)
    _company,
    accept,
    callback_path,
    go,
    start,
)


def _unverified(user):
    creditor = CreditorFactory(verified_at=None, verification_method="")
    MembershipFactory(user=user, creditor=creditor)
    return creditor


def test_matching_org_number_verifies_the_creditor(logged_in_client, user, go):
    creditor = _unverified(user)
    company = _company(go.user, org_number=creditor.org_number, name=creditor.name)

    session = start(logged_in_client, creditor)
    logged_in_client.get(callback_path(accept(session, go.user, company)), follow=True)

    creditor.refresh_from_db()
    assert PowerOfficeConnection.objects.get(creditor=creditor).is_connected
    assert creditor.is_verified
    assert creditor.verification_method == Creditor.VerificationMethod.POWEROFFICE
    assert creditor.verified_by == user
    entry = AuditEntry.objects.get(creditor=creditor, action=AuditEntry.Action.CREDITOR_VERIFIED)
    assert entry.actor == user
    assert entry.data["method"] == "poweroffice"


def test_another_companys_org_number_does_not_verify(logged_in_client, user, go):
    creditor = _unverified(user)
    other = _company(go.user, org_number=valid_org_number(9_100), name="Annet Selskap")

    session = start(logged_in_client, creditor)
    # Go would only offer the asked-for number; a Go that lets the user pick another company
    # (or is lied to) is what the check is for.
    OnboardingSession.objects.filter(pk=session.pk).update(client_org_no="")
    session.refresh_from_db()
    response = logged_in_client.get(callback_path(accept(session, go.user, other)), follow=True)

    assert "Feil selskap i PowerOffice Go" in response.content.decode()
    creditor.refresh_from_db()
    assert not creditor.is_verified
    assert not PowerOfficeConnection.objects.filter(creditor=creditor).exists()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.CREDITOR_VERIFIED).exists()


def test_an_applicant_cannot_connect_a_number_verified_for_another_creditor(
    logged_in_client, user, go
):
    verified = CreditorFactory()
    applicant = CreditorFactory.build(org_number=verified.org_number, verified_at=None)
    applicant.verification_method = ""
    applicant.save()
    MembershipFactory(user=user, creditor=applicant)
    company = _company(go.user, org_number=verified.org_number, name=verified.name)

    session = start(logged_in_client, applicant)
    response = logged_in_client.get(callback_path(accept(session, go.user, company)), follow=True)

    assert "allerede registrert og verifisert" in response.content.decode()
    applicant.refresh_from_db()
    assert not applicant.is_verified
    assert not PowerOfficeConnection.objects.filter(creditor=applicant).exists()
    assert OnboardingAttempt.objects.get(creditor=applicant).outcome == "finalize_failed"


def test_a_member_cannot_start_gi_tilgang(client, go):
    creditor = CreditorFactory(verified_at=None, verification_method="")
    MembershipFactory(creditor=creditor)
    member = MembershipFactory(creditor=creditor, role=Membership.Role.MEMBER).user
    client.force_login(member)

    response = client.post(reverse("creditor_poweroffice_connect", args=[creditor.pk]))

    assert response.status_code == 403
    assert not OnboardingAttempt.objects.exists()
