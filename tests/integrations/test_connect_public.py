""" "Koble til PowerOffice Go" without a Kundeweb user: creditor(s) and a user from PoGo."""

# The fixtures are shared with test_onboarding_flow by import; pytest injects them by name.
# ruff: noqa: F811

import re
from urllib.parse import urlsplit

from django.core import mail
from django.test import Client
from django.urls import reverse

from creditors.models import Creditor, Membership, User
from integrations.models import OnboardingAttempt, PowerOfficeConnection
from pogo_sandbox import domain
from pogo_sandbox.models import DEFAULT_PRIVILEGES, ClientSubscription, OnboardingSession
from tests.factories import CreditorFactory, MembershipFactory, UserFactory, valid_org_number
from tests.integrations.test_onboarding_flow import (  # noqa: F401  (fixtures)
    _company,
    accept,
    callback_path,
    go,
    with_query,
)


def start_public(client):
    response = client.post(reverse("poweroffice_connect_public"))
    assert response.status_code == 302, response.content
    token = urlsplit(response["Location"]).path.rstrip("/").rsplit("/", 1)[-1]
    session = OnboardingSession.objects.get(temporary_token=token)
    assert session.client_org_no == ""  # no ClientOrganizationNo: the user picks in Go
    return session


def test_public_page_is_open_without_login(client, db):
    response = client.get(reverse("poweroffice_connect_public"))

    assert response.status_code == 200
    assert "Koble til PowerOffice Go" in response.content.decode()


def test_creates_creditor_user_and_sends_set_password_email(
    client, go, django_capture_on_commit_callbacks
):
    company = _company(go.user, org_number=valid_org_number(501), name="Fjordkraft Demo")
    session = start_public(client)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(callback_path(accept(session, go.user, company)), follow=True)

    content = response.content.decode()
    assert "Sjekk e-posten din" in content
    assert go.user.email in content
    creditor = Creditor.objects.get(org_number=company.org_number)
    assert creditor.name == "Fjordkraft Demo"
    assert creditor.email == company.email
    assert creditor.address_line == "Storgata 1"
    user = User.objects.get(email=go.user.email)
    assert not user.has_usable_password()
    assert Membership.objects.get(user=user, creditor=creditor).role == Membership.Role.OWNER
    connection = PowerOfficeConnection.objects.get(creditor=creditor)
    assert connection.is_connected
    assert connection.connected_by == user
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [go.user.email]
    link = re.search(r"https?://\S+/passord/nytt/\S+/\S+/", message.body).group(0)

    # The link in the e-mail sets the password.
    browser = Client()
    page = browser.get(urlsplit(link).path, follow=True)
    assert page.status_code == 200
    form_url = page.redirect_chain[-1][0]
    done = browser.post(
        form_url, {"new_password1": "Et-nytt-passord-42", "new_password2": "Et-nytt-passord-42"}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Et-nytt-passord-42")


def test_existing_user_is_reused_and_keeps_their_password(
    client, go, django_capture_on_commit_callbacks
):
    existing = UserFactory(email=go.user.email)
    old_hash = existing.password
    company = _company(go.user, org_number=valid_org_number(502), name="Kystbygg Demo")
    session = start_public(client)

    with django_capture_on_commit_callbacks(execute=True):
        client.get(callback_path(accept(session, go.user, company)), follow=True)

    existing.refresh_from_db()
    assert existing.password == old_hash
    assert User.objects.count() == 1
    creditor = Creditor.objects.get(org_number=company.org_number)
    assert Membership.objects.filter(user=existing, creditor=creditor).exists()
    assert len(mail.outbox) == 1
    assert "passord/nytt" not in mail.outbox[0].body


def test_someone_elses_verified_creditor_is_never_attached(client, go):
    """Issue 15: the public flow attaches an existing creditor only for its logged-in owner.
    A verified, unconnected creditor of someone else is left alone: nothing is connected,
    nobody gets access, the page says to log in as owner or ask for an invitation."""
    creditor = CreditorFactory()  # verified
    owner = MembershipFactory(creditor=creditor).user
    company = _company(go.user, org_number=creditor.org_number, name=creditor.name)
    session = start_public(client)

    response = client.get(callback_path(accept(session, go.user, company)), follow=True)

    assert Creditor.objects.filter(org_number=creditor.org_number).count() == 1
    assert not PowerOfficeConnection.objects.filter(creditor=creditor).exists()
    assert list(creditor.members.all()) == [owner]
    assert not User.objects.filter(email=go.user.email).exists()
    content = response.content.decode()
    assert "Ingen selskaper ble koblet til" in content
    assert "logg inn som eier" in content


def test_a_squatters_unverified_claim_does_not_lock_the_company_out(client, go):
    """Someone claimed the org number first (unverified). The real company's Go connection
    makes a creditor of its own, verified by the connection; the squatter's stays unverified,
    unconnected and without the Go user."""
    squatted = CreditorFactory(verified_at=None, verification_method="")
    squatter = MembershipFactory(creditor=squatted).user
    company = _company(go.user, org_number=squatted.org_number, name="Ekte Bedrift")
    session = start_public(client)

    client.get(callback_path(accept(session, go.user, company)), follow=True)

    real = Creditor.objects.exclude(pk=squatted.pk).get(org_number=squatted.org_number)
    assert real.is_verified and real.verification_method == "poweroffice"
    assert PowerOfficeConnection.objects.get(creditor=real).is_connected
    assert list(real.members.values_list("email", flat=True)) == [go.user.email]
    squatted.refresh_from_db()
    assert not squatted.is_verified
    assert not PowerOfficeConnection.objects.filter(creditor=squatted).exists()
    assert list(squatted.members.all()) == [squatter]


def test_logged_in_owner_attaches_their_own_unverified_creditor_and_it_is_verified(client, go):
    mine = CreditorFactory(verified_at=None, verification_method="")
    me = MembershipFactory(creditor=mine).user
    company = _company(go.user, org_number=mine.org_number, name=mine.name)
    client.force_login(me)
    session = start_public(client)

    client.get(callback_path(accept(session, go.user, company)), follow=True)

    assert Creditor.objects.filter(org_number=mine.org_number).count() == 1
    mine.refresh_from_db()
    assert PowerOfficeConnection.objects.get(creditor=mine).is_connected
    assert mine.is_verified and mine.verification_method == "poweroffice"


def test_logged_in_member_does_not_attach_a_creditor_they_only_belong_to(client, go):
    creditor = CreditorFactory(verified_at=None, verification_method="")
    MembershipFactory(creditor=creditor)
    member = MembershipFactory(creditor=creditor, role=Membership.Role.MEMBER).user
    company = _company(go.user, org_number=creditor.org_number, name=creditor.name)
    client.force_login(member)
    session = start_public(client)

    client.get(callback_path(accept(session, go.user, company)), follow=True)

    assert not PowerOfficeConnection.objects.filter(creditor=creditor).exists()
    creditor.refresh_from_db()
    assert not creditor.is_verified


def test_already_connected_creditor_is_explained_and_nothing_created(
    client, go, creditor, logged_in_client, django_capture_on_commit_callbacks
):
    company = _company(go.user, org_number=creditor.org_number, name=creditor.name)
    # The owner connected it already through "Gi tilgang".
    owner_session = logged_in_client.post(
        reverse("creditor_poweroffice_connect", args=[creditor.pk])
    )
    token = urlsplit(owner_session["Location"]).path.rstrip("/").rsplit("/", 1)[-1]
    logged_in_client.get(
        callback_path(
            accept(OnboardingSession.objects.get(temporary_token=token), go.user, company)
        ),
        follow=True,
    )
    before = PowerOfficeConnection.objects.get(creditor=creditor)
    users_before = User.objects.count()

    anonymous = Client()
    session = start_public(anonymous)
    with django_capture_on_commit_callbacks(execute=True):
        response = anonymous.get(callback_path(accept(session, go.user, company)), follow=True)

    content = response.content.decode()
    assert "Ingen selskaper ble koblet til" in content
    assert "allerede kreditor hos oss og koblet til" in content
    assert User.objects.count() == users_before
    assert PowerOfficeConnection.objects.get(creditor=creditor).connected_at == before.connected_at
    assert len(mail.outbox) == 0


def test_several_companies_become_several_creditors(client, go, django_capture_on_commit_callbacks):
    first = _company(go.user, org_number=valid_org_number(503), name="Alfa Demo")
    second = _company(go.user, org_number=valid_org_number(504), name="Beta Demo")
    session = start_public(client)
    token = domain.onboarding_accept(session, user=go.user, company=first)
    session.refresh_from_db()
    session.companies.add(second)  # Go lets the user activate several companies at once
    ClientSubscription.objects.create(
        application=go.application, company=second, privileges=list(DEFAULT_PRIVILEGES)
    )

    with django_capture_on_commit_callbacks(execute=True):
        client.get(
            callback_path(with_query(session.redirect_uri, status="Success", token=token)),
            follow=True,
        )

    user = User.objects.get(email=go.user.email)
    assert set(user.creditors.values_list("org_number", flat=True)) == {
        first.org_number,
        second.org_number,
    }
    assert PowerOfficeConnection.objects.filter(client_key__gt="").count() == 2
    assert len(mail.outbox) == 1


def test_public_cancel_creates_nothing(client, go):
    _company(go.user, org_number=valid_org_number(505), name="Gamma Demo")
    session = start_public(client)

    response = client.get(
        callback_path(with_query(session.redirect_uri, status="Canceled")), follow=True
    )

    assert "Tilkoblingen ble avbrutt" in response.content.decode()
    assert not Creditor.objects.exists()
    assert not User.objects.exists()
    assert len(mail.outbox) == 0
    assert OnboardingAttempt.objects.get().outcome == OnboardingAttempt.Outcome.CANCELED


def test_public_state_from_another_browser_creates_nothing(client, go):
    company = _company(go.user, org_number=valid_org_number(506), name="Delta Demo")
    session = start_public(client)

    response = Client().get(callback_path(accept(session, go.user, company)), follow=True)

    assert response.status_code == 400
    assert not Creditor.objects.exists()
    assert not User.objects.exists()


def test_public_state_cannot_finish_the_creditor_flow(client, go, logged_in_client):
    company = _company(go.user, org_number=valid_org_number(507), name="Epsilon Demo")
    session = start_public(client)
    url = accept(session, go.user, company)
    creditor_callback = reverse("poweroffice_callback") + "?" + urlsplit(url).query

    response = client.get(creditor_callback)

    assert response.status_code in (302, 400)  # login required, or refused
    assert not Creditor.objects.exists()
