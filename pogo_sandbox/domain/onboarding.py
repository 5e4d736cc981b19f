"""Onboarding ("Gi tilgang"): who may activate the integration for which company, accept, reject,
and the single-use onboarding token."""

import secrets

from django.db import transaction
from django.utils import timezone

from pogo_sandbox.models import (
    DEFAULT_PRIVILEGES,
    Application,
    ClientSubscription,
    Company,
    Customer,
    GoUser,
    OnboardingSession,
)

from .common import SandboxError


def _admin_companies(user: GoUser):
    return Company.objects.filter(companyaccess__user=user, companyaccess__is_admin=True).order_by(
        "name"
    )


def onboarding_status_for(session: OnboardingSession, user: GoUser) -> str | None:
    """Why ``user`` cannot onboard in this session (an onboarding status), or None if they can."""
    State = OnboardingSession.State
    if session.client_org_no:
        company = Company.objects.filter(org_number=session.client_org_no).first()
        if company is None:
            return State.CLIENT_NOT_FOUND
        if not _admin_companies(user).filter(pk=company.pk).exists():
            return State.NO_CLIENT_ACCESS
        if company.integration_blocked:
            return State.INTEGRATION_BLOCKED
        return None
    companies = _admin_companies(user)
    if not companies.exists():
        return State.NO_CLIENT_ACCESS
    if not companies.filter(integration_blocked=False).exists():
        return State.INTEGRATION_BLOCKED
    return None


def onboarding_companies_for(session: OnboardingSession, user: GoUser) -> list[Company]:
    """Companies ``user`` may activate the integration for in this session."""
    companies = _admin_companies(user).filter(integration_blocked=False)
    if session.client_org_no:
        companies = companies.filter(org_number=session.client_org_no)
    return list(companies)


def _check_open(session: OnboardingSession) -> None:
    if session.state != OnboardingSession.State.PENDING:
        raise SandboxError("Denne tilkoblingen er allerede fullført eller avbrutt.")
    if session.valid_until <= timezone.now():
        raise SandboxError("Lenken har utløpt. Start tilkoblingen på nytt fra integrasjonen.")


def onboarding_accept(session: OnboardingSession, *, user: GoUser, company: Company) -> str:
    """The user accepts: activate the integration for ``company``; returns the onboarding token."""
    with transaction.atomic():
        session = OnboardingSession.objects.select_for_update().get(pk=session.pk)
        _check_open(session)
        if company not in onboarding_companies_for(session, user):
            raise SandboxError("Du har ikke tilgang til å koble denne virksomheten til.")
        subscription, created = ClientSubscription.objects.get_or_create(
            application=session.application,
            company=company,
            defaults={"privileges": list(DEFAULT_PRIVILEGES)},
        )
        if not created:
            subscription.is_active = True
            subscription.privileges = list(DEFAULT_PRIVILEGES)
        if session.application.is_debt_collection_agency:
            # Only one agency at a time may create new cases.
            ClientSubscription.objects.filter(
                company=company, application__is_debt_collection_agency=True
            ).exclude(pk=subscription.pk).update(can_create_cases=False)
            subscription.can_create_cases = True
            Customer.objects.filter(company=company).update(
                transfer_to_debt_collection_agency=True, last_changed=timezone.now()
            )
        subscription.save()
        session.user = user
        session.state = OnboardingSession.State.SUCCESS
        session.onboarding_token = secrets.token_urlsafe(32)
        session.save(update_fields=["user", "state", "onboarding_token"])
        session.companies.add(company)
    return session.onboarding_token


def onboarding_reject(session: OnboardingSession, *, status: str) -> None:
    """The user cancels, or Go refuses (ClientNotFound, NoClientAccess, IntegrationBlocked)."""
    if status not in OnboardingSession.State.values or status == OnboardingSession.State.PENDING:
        raise SandboxError(f"Ukjent status: {status}")
    with transaction.atomic():
        session = OnboardingSession.objects.select_for_update().get(pk=session.pk)
        _check_open(session)
        session.state = status
        session.save(update_fields=["state"])


def onboarding_finalize(application: Application, *, token: str) -> OnboardingSession:
    """Redeem a single-use onboarding token (``Onboarding/Finalize``)."""
    with transaction.atomic():
        session = (
            OnboardingSession.objects.select_for_update()
            .filter(application=application, onboarding_token=token)
            .exclude(onboarding_token="")
            .first()
        )
        if session is None:
            raise LookupError("Unknown onboarding token.")
        if session.finalized_at is not None:
            raise SandboxError("The onboarding token has already been used.")
        session.finalized_at = timezone.now()
        session.save(update_fields=["finalized_at"])
    return session
