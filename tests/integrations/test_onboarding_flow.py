""" "Gi tilgang" from a creditor's settings, against the sandbox through real HTTP handling.

The PoGo client talks to the in-process sandbox (``pogo_wsgi``); Go's screens (login, company
pick, consent) are played by the sandbox's own domain function, exactly what its consent page
calls.
"""

import datetime as dt
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import time_machine
from django.contrib.auth.hashers import make_password
from django.db import connection as db_connection
from django.test import Client
from django.urls import reverse

from creditors.models import Creditor, User
from integrations.models import OnboardingAttempt, PowerOfficeConnection
from integrations.poweroffice import errors as pogo_errors
from integrations.services import onboarding as onboarding_service
from pogo_sandbox import domain
from pogo_sandbox.models import (
    Application,
    Company,
    CompanyAccess,
    GeneralLedgerAccount,
    GoUser,
    OnboardingSession,
)
from tests.factories import CreditorFactory, MembershipFactory, UserFactory, valid_org_number

STANDARD_ACCOUNTS = {
    1500: "Kundefordringer",
    1920: "Bankinnskudd",
    2710: "Inngående merverdiavgift",
    7770: "Bank- og kortgebyrer",
    8050: "Annen renteinntekt",
}


def _company(go_user, *, org_number, name, accounts=STANDARD_ACCOUNTS, inactive=(), **fields):
    company = Company.objects.create(
        name=name,
        legal_name=f"{name} AS",
        org_number=org_number,
        email=f"post@{org_number}.example",
        address_line="Storgata 1",
        zip_code="0155",
        city="Oslo",
        **fields,
    )
    CompanyAccess.objects.create(user=go_user, company=company, is_admin=True)
    for account_no, account_name in accounts.items():
        GeneralLedgerAccount.objects.create(
            company=company,
            account_no=account_no,
            name=account_name,
            is_active=account_no not in inactive,
        )
    return company


@pytest.fixture
def go(db, settings, pogo_wsgi):
    """A sandbox PoGo with our application registered and one Go user."""
    application = Application.objects.create(
        name="Kravia Inkasso",
        application_key=settings.POWEROFFICE_APPLICATION_KEY,
        subscription_key=settings.POWEROFFICE_SUBSCRIPTION_KEY,
        redirect_uri_prefix=settings.SITE_URL,
    )
    user = GoUser.objects.create(
        email="regnskap@bedrift.example", name="Regnskap", password=make_password("demo1234")
    )
    return SimpleNamespace(application=application, user=user)


@pytest.fixture
def company(go, creditor):
    # 7830 (tap på fordringer) is missing and 7770 is inactive: the account check flags both.
    return _company(go.user, org_number=creditor.org_number, name=creditor.name, inactive={7770})


def with_query(url, **params):
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in params] + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def start(client, creditor):
    """Press "Gi tilgang"; returns the sandbox's onboarding session the browser is sent to."""
    response = client.post(reverse("creditor_poweroffice_connect", args=[creditor.pk]))
    assert response.status_code == 302, response.content
    token = urlsplit(response["Location"]).path.rstrip("/").rsplit("/", 1)[-1]
    return OnboardingSession.objects.get(temporary_token=token)


def accept(session, go_user, company):
    """What Go's consent page does on "Godta": the URL it redirects the browser to."""
    token = domain.onboarding_accept(session, user=go_user, company=company)
    return with_query(session.redirect_uri, status="Success", token=token)


def callback_path(url):
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def assert_nothing_connected(creditor):
    assert not PowerOfficeConnection.objects.filter(creditor=creditor).exists()


# --- Happy path --------------------------------------------------------------------------------


def test_gi_tilgang_connects_stores_key_encrypted_and_shows_company_for_review(
    logged_in_client, creditor, company, go
):
    session = start(logged_in_client, creditor)
    assert session.client_org_no == creditor.org_number

    response = logged_in_client.get(callback_path(accept(session, go.user, company)), follow=True)

    assert response.status_code == 200
    connection = PowerOfficeConnection.objects.get(creditor=creditor)
    assert connection.is_connected
    assert connection.connected_at is not None
    assert connection.client_org_number == creditor.org_number
    assert connection.company_info["email_address"] == company.email
    assert "OrganizationSettings_Read" in connection.valid_privileges
    assert connection.chart_of_accounts["1920"] == {"name": "Bankinnskudd", "is_active": True}
    content = response.content.decode()
    assert "er koblet til PowerOffice Go" in content
    assert company.email in content
    assert "Storgata 1" in content
    assert "Finnes ikke" in content  # 7830
    assert "Inaktiv" in content  # 7770
    assert 'data-account="7830" data-status="missing"' in content
    assert 'data-account="1920" data-status="ok"' in content
    assert "Jeg ønsker å godkjenne alle inkassosaker før start" in content
    attempt = OnboardingAttempt.objects.get(creditor=creditor)
    assert attempt.outcome == OnboardingAttempt.Outcome.CONNECTED
    plain_key = company.subscriptions.get().client_key
    settings_page = logged_in_client.get(reverse("creditor_settings", args=[creditor.pk]))
    assert plain_key not in content
    assert plain_key not in settings_page.content.decode()


def test_client_key_is_encrypted_in_the_database_column(logged_in_client, creditor, company, go):
    session = start(logged_in_client, creditor)
    logged_in_client.get(callback_path(accept(session, go.user, company)), follow=True)
    plain_key = company.subscriptions.get().client_key

    with db_connection.cursor() as cursor:
        cursor.execute(
            "SELECT client_key FROM integrations_powerofficeconnection WHERE creditor_id = %s",
            [creditor.pk],
        )
        (raw,) = cursor.fetchone()

    assert PowerOfficeConnection.objects.get(creditor=creditor).client_key == plain_key
    assert raw and raw != plain_key and plain_key not in raw


def test_settings_page_shows_connection_status_and_flagged_accounts(
    logged_in_client, creditor, company, go
):
    session = start(logged_in_client, creditor)
    logged_in_client.get(callback_path(accept(session, go.user, company)), follow=True)

    content = logged_in_client.get(
        reverse("creditor_settings", args=[creditor.pk])
    ).content.decode()

    assert "Tilkoblet siden" in content
    assert "Siste synkronisering" in content
    assert "Disse kontoene finnes ikke eller er inaktive i PowerOffice Go" in content
    assert "7830 – finnes ikke" in content
    assert "7770 – inaktiv" in content
    assert "Koble fra" in content
    assert "Gi tilgang" not in content


def test_settings_page_offers_gi_tilgang_with_org_number_when_not_connected(
    logged_in_client, creditor
):
    content = logged_in_client.get(
        reverse("creditor_settings", args=[creditor.pk])
    ).content.decode()

    assert "Gi tilgang" in content
    assert f'value="{creditor.org_number}" readonly' in content


def test_review_form_saves_the_approval_switches(logged_in_client, creditor, company, go):
    creditor.approve_cases_before_start = True
    creditor.save()
    session = start(logged_in_client, creditor)
    logged_in_client.get(callback_path(accept(session, go.user, company)), follow=True)

    response = logged_in_client.post(
        reverse("creditor_poweroffice", args=[creditor.pk]),
        {"email": "ny@bedrift.example", "bookkeeping_mode": "unposted"},
    )

    assert response.status_code == 302
    creditor.refresh_from_db()
    assert creditor.approve_cases_before_start is False
    assert creditor.email == "ny@bedrift.example"


def test_refresh_reads_the_chart_of_accounts_again(logged_in_client, creditor, company, go):
    session = start(logged_in_client, creditor)
    logged_in_client.get(callback_path(accept(session, go.user, company)), follow=True)
    GeneralLedgerAccount.objects.create(company=company, account_no=7830, name="Tap på fordringer")

    logged_in_client.post(reverse("creditor_poweroffice_refresh", args=[creditor.pk]))

    connection = PowerOfficeConnection.objects.get(creditor=creditor)
    assert connection.chart_of_accounts["7830"]["name"] == "Tap på fordringer"
    assert [row["field"] for row in connection.flagged_accounts] == ["account_collection_cost"]


def test_no_poweroffice_call_runs_inside_a_transaction(transactional_db, client, go, monkeypatch):
    user = UserFactory()
    creditor = MembershipFactory(user=user).creditor
    company = _company(go.user, org_number=creditor.org_number, name=creditor.name)
    client.force_login(user)
    calls = []

    from integrations import clients

    real_client = clients.poweroffice_client

    def watching_client(**kwargs):
        pogo = real_client(**kwargs)
        for name in (
            "onboarding_initiate",
            "onboarding_finalize",
            "organization_settings",
            "client_integration_information",
            "general_ledger_accounts",
        ):
            method = getattr(pogo, name)

            def wrapper(*args, _method=method, _name=name, **kw):
                calls.append((_name, db_connection.in_atomic_block))
                return _method(*args, **kw)

            setattr(pogo, name, wrapper)
        return pogo

    monkeypatch.setattr(onboarding_service, "poweroffice_client", watching_client)
    from integrations.services import connections

    monkeypatch.setattr(connections, "poweroffice_client", watching_client)

    session = start(client, creditor)
    client.get(callback_path(accept(session, go.user, company)), follow=True)

    assert PowerOfficeConnection.objects.get(creditor=creditor).is_connected
    assert [name for name, _ in calls] == [
        "onboarding_initiate",
        "onboarding_finalize",
        "organization_settings",
        "client_integration_information",
        "general_ledger_accounts",
    ]
    assert not any(in_atomic for _, in_atomic in calls)


def test_a_failing_read_after_finalize_keeps_the_key_and_shows_the_error(
    logged_in_client, creditor, company, go
):
    """Finalize already issued the key: losing it would force a new "Gi tilgang"."""
    session = start(logged_in_client, creditor)
    url = callback_path(accept(session, go.user, company))
    company.subscriptions.update(privileges=[])  # every read now answers 403

    response = logged_in_client.get(url, follow=True)

    connection = PowerOfficeConnection.objects.get(creditor=creditor)
    assert connection.is_connected
    assert "nektet tilgang" in connection.last_error
    assert connection.last_sync_at is None
    content = response.content.decode()
    assert "nektet tilgang" in content
    assert 'data-status="unknown"' in content
    settings_page = logged_in_client.get(reverse("creditor_settings", args=[creditor.pk]))
    assert "nektet tilgang" in settings_page.content.decode()


# --- Failure paths: a page that says what happened, and nothing created ----------------------


@pytest.mark.parametrize(
    ("status", "title"),
    [
        ("Canceled", "Tilkoblingen ble avbrutt"),
        ("ClientNotFound", "Fant ikke selskapet i PowerOffice Go"),
        ("NoClientAccess", "Du mangler tilgang i PowerOffice Go"),
        ("IntegrationBlocked", "Integrasjonen er sperret i PowerOffice Go"),
        ("SomethingElse", "Ukjent svar fra PowerOffice Go"),
    ],
)
def test_each_refusal_status_lands_on_an_explaining_page(
    logged_in_client, creditor, company, go, status, title
):
    session = start(logged_in_client, creditor)

    response = logged_in_client.get(
        callback_path(with_query(session.redirect_uri, status=status)), follow=True
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert title in content
    assert "Hva gjør du nå?" in content
    assert reverse("creditor_poweroffice", args=[creditor.pk]) in content
    assert_nothing_connected(creditor)


def test_sandbox_refusals_come_back_through_the_redirect(logged_in_client, creditor, go):
    """The sandbox itself answers ClientNotFound when no company has the org number."""
    session = start(logged_in_client, creditor)
    assert domain.onboarding_status_for(session, go.user) == "ClientNotFound"
    domain.onboarding_reject(session, status="ClientNotFound")

    response = logged_in_client.get(
        callback_path(with_query(session.redirect_uri, status="ClientNotFound")), follow=True
    )

    assert creditor.org_number in response.content.decode()
    assert_nothing_connected(creditor)


def test_a_state_can_be_used_only_once(logged_in_client, creditor, company, go):
    session = start(logged_in_client, creditor)
    url = callback_path(with_query(session.redirect_uri, status="Canceled"))
    logged_in_client.get(url, follow=True)

    response = logged_in_client.get(url, follow=True)

    assert response.status_code == 400
    assert "Lenken er allerede brukt" in response.content.decode()
    assert_nothing_connected(creditor)


def test_replaying_a_successful_callback_changes_nothing(logged_in_client, creditor, company, go):
    session = start(logged_in_client, creditor)
    url = callback_path(accept(session, go.user, company))
    logged_in_client.get(url, follow=True)
    before = PowerOfficeConnection.objects.get(creditor=creditor)

    response = logged_in_client.get(url, follow=True)

    assert "Lenken er allerede brukt" in response.content.decode()
    after = PowerOfficeConnection.objects.get(creditor=creditor)
    assert after.connected_at == before.connected_at
    assert after.events.count() == 1


def test_unknown_state_is_refused(logged_in_client, creditor, company, go):
    start(logged_in_client, creditor)

    response = logged_in_client.get(
        reverse("poweroffice_callback") + "?state=not-ours&status=Success&token=x", follow=True
    )

    assert response.status_code == 400
    assert "Lenken er ugyldig" in response.content.decode()
    assert_nothing_connected(creditor)


def test_expired_state_is_refused(logged_in_client, creditor, company, go):
    session = start(logged_in_client, creditor)
    url = callback_path(accept(session, go.user, company))

    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=31)):
        response = logged_in_client.get(url, follow=True)

    assert response.status_code == 400
    assert "Tilkoblingen tok for lang tid" in response.content.decode()
    assert_nothing_connected(creditor)


def test_state_from_another_browser_session_is_refused(
    logged_in_client, user, creditor, company, go
):
    session = start(logged_in_client, creditor)
    url = callback_path(accept(session, go.user, company))
    other_browser = Client()
    other_browser.force_login(user)

    response = other_browser.get(url, follow=True)

    assert response.status_code == 400
    assert "Tilkoblingen ble startet et annet sted" in response.content.decode()
    assert_nothing_connected(creditor)


def test_finalize_with_a_bad_token_lands_on_a_page(logged_in_client, creditor, company, go):
    session = start(logged_in_client, creditor)

    response = logged_in_client.get(
        callback_path(with_query(session.redirect_uri, status="Success", token="forged")),
        follow=True,
    )

    assert "Vi kunne ikke fullføre tilkoblingen" in response.content.decode()
    assert_nothing_connected(creditor)


def test_finalize_with_an_already_used_token_lands_on_a_page(
    logged_in_client, creditor, company, go
):
    first = start(logged_in_client, creditor)
    token = domain.onboarding_accept(first, user=go.user, company=company)
    domain.onboarding_finalize(go.application, token=token)  # someone redeemed it already

    response = logged_in_client.get(
        callback_path(with_query(first.redirect_uri, status="Success", token=token)), follow=True
    )

    assert "Vi kunne ikke fullføre tilkoblingen" in response.content.decode()
    assert_nothing_connected(creditor)


def test_company_with_another_org_number_is_refused_naming_both(logged_in_client, creditor, go):
    other_org = valid_org_number(9001)
    other = _company(go.user, org_number=other_org, name="Annet Selskap")
    session = start(logged_in_client, creditor)
    # Go should never let this happen; if it does, we still refuse.
    OnboardingSession.objects.filter(pk=session.pk).update(client_org_no="")
    session.refresh_from_db()

    response = logged_in_client.get(callback_path(accept(session, go.user, other)), follow=True)

    content = response.content.decode()
    assert "Feil selskap i PowerOffice Go" in content
    assert other_org in content
    assert creditor.org_number in content
    assert_nothing_connected(creditor)


class _Down:
    def __getattr__(self, name):
        def fail(**kwargs):
            raise pogo_errors.Unavailable("connection refused")

        return fail


def test_pogo_unreachable_at_initiate(logged_in_client, creditor, monkeypatch):
    monkeypatch.setattr(onboarding_service, "poweroffice_client", lambda **kw: _Down())

    response = logged_in_client.post(reverse("creditor_poweroffice_connect", args=[creditor.pk]))

    assert response.status_code == 503
    assert "PowerOffice Go svarer ikke" in response.content.decode()
    assert OnboardingAttempt.objects.get().outcome == OnboardingAttempt.Outcome.INITIATE_FAILED
    assert_nothing_connected(creditor)


def test_pogo_unreachable_at_finalize(logged_in_client, creditor, company, go, monkeypatch):
    session = start(logged_in_client, creditor)
    url = callback_path(accept(session, go.user, company))
    monkeypatch.setattr(onboarding_service, "poweroffice_client", lambda **kw: _Down())

    response = logged_in_client.get(url, follow=True)

    assert response.status_code == 503
    assert "PowerOffice Go svarer ikke" in response.content.decode()
    assert_nothing_connected(creditor)


def test_sandbox_unreachable_over_http_at_initiate(logged_in_client, creditor, go, settings):
    settings.POWEROFFICE_V2_BASE_URL = "http://127.0.0.1:9/pogo/v2"  # nothing listens there

    response = logged_in_client.post(reverse("creditor_poweroffice_connect", args=[creditor.pk]))

    assert response.status_code == 503
    assert_nothing_connected(creditor)


# --- Disconnect and scoping ---------------------------------------------------------------------


def test_disconnect_removes_the_key_and_keeps_history(logged_in_client, creditor, company, go):
    session = start(logged_in_client, creditor)
    logged_in_client.get(callback_path(accept(session, go.user, company)), follow=True)

    response = logged_in_client.post(
        reverse("creditor_poweroffice_disconnect", args=[creditor.pk]), follow=True
    )

    connection = PowerOfficeConnection.objects.get(creditor=creditor)
    assert connection.client_key == ""
    assert connection.disconnected_at is not None
    assert connection.connected_at is not None
    assert list(connection.events.values_list("kind", flat=True)) == [
        "disconnected",
        "connected",
    ]
    assert "er koblet fra PowerOffice Go" in response.content.decode()
    assert "Gi tilgang" in response.content.decode()


def test_disconnect_is_post_only(logged_in_client, creditor):
    response = logged_in_client.get(reverse("creditor_poweroffice_disconnect", args=[creditor.pk]))

    assert response.status_code == 405


def test_gi_tilgang_is_post_only(logged_in_client, creditor):
    response = logged_in_client.get(reverse("creditor_poweroffice_connect", args=[creditor.pk]))

    assert response.status_code == 405
    assert not OnboardingAttempt.objects.exists()


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("creditor_poweroffice", "get"),
        ("creditor_poweroffice_connect", "post"),
        ("creditor_poweroffice_refresh", "post"),
        ("creditor_poweroffice_disconnect", "post"),
    ],
)
def test_another_users_creditor_is_404(logged_in_client, creditor, name, method):
    others = CreditorFactory()

    response = getattr(logged_in_client, method)(reverse(name, args=[others.pk]))

    assert response.status_code == 404
    assert not OnboardingAttempt.objects.exists()


def test_callback_requires_login(client, creditor, company, go, user):
    client.force_login(user)
    session = start(client, creditor)
    url = callback_path(accept(session, go.user, company))
    client.logout()

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert_nothing_connected(creditor)


def test_the_callback_of_another_user_is_refused(client, creditor, company, go, user):
    client.force_login(user)
    session = start(client, creditor)
    url = callback_path(accept(session, go.user, company))
    client.force_login(UserFactory())  # same browser session data, another user

    response = client.get(url, follow=True)

    assert response.status_code == 400
    assert_nothing_connected(creditor)
    assert Creditor.objects.count() == 1
    assert User.objects.count() == 2


def test_connect_and_refresh_read_whether_another_agency_holds_the_company(
    logged_in_client, creditor, company, go
):
    """``IsActiveDebtCollection`` is read when the connection is made (Go gives the new agency
    the right to create cases) and again by «Hent på nytt»."""
    from pogo_sandbox.domain.cases import set_other_agency_active

    session = start(logged_in_client, creditor)
    logged_in_client.get(callback_path(accept(session, go.user, company)), follow=True)
    connection = PowerOfficeConnection.objects.get(creditor=creditor)
    assert connection.debt_collection_active is True
    assert connection.debt_collection_checked_at is not None

    set_other_agency_active(company.subscriptions.get())
    logged_in_client.post(reverse("creditor_poweroffice_refresh", args=[creditor.pk]))

    connection.refresh_from_db()
    assert connection.debt_collection_active is False
    page = logged_in_client.get(reverse("creditor_poweroffice", args=[creditor.pk]))
    assert "Et annet inkassobyrå er aktivt for dette selskapet i PowerOffice Go" in (
        page.content.decode()
    )
