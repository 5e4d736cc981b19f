"""The consent page behind ``TemporaryUrl``: login, company, Godta / Avbryt, and every refusal."""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from pogo_sandbox.models import ClientSubscription, OnboardingSession
from pogo_sandbox.screens.access import SESSION_USER
from tests.pogo_sandbox.test_screens_support import GO_PASSWORD, make_company, make_onboarding

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.pogo_sandbox.test_screens_support"]
State = OnboardingSession.State
RETURN = "http://testserver/integrasjon/pogo/tilbake/"


def _text(response) -> str:
    return response.content.decode()


def _returned(response) -> dict:
    """The query Go sent the browser back with (asserting it went to the RedirectUri)."""
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(RETURN + "?")
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def _log_in(client, user):
    session = client.session
    session[SESSION_USER] = user.pk
    session.save()


def test_full_flow_from_login_to_success(client, application, go_user, company, other_company):
    onboarding = make_onboarding(application)
    url = f"/pogo/onboarding/{onboarding.temporary_token}/"

    response = client.get(url)
    assert response.status_code == 302
    login = response["Location"]
    assert login.startswith("/pogo/logg-inn/?next=")

    response = client.post(
        "/pogo/logg-inn/", {"email": go_user.email, "password": GO_PASSWORD, "next": url}
    )
    assert response["Location"] == url

    picker = _text(client.get(url))
    assert "Kravia ber om tilgang til PowerOffice Go" in picker
    assert "Fjordbakst AS" in picker and "Tindesport AS" in picker
    assert f'name="company_id" value="{company.pk}"' in picker

    response = client.post(url, {"company_id": company.pk})
    assert response["Location"] == f"{url}godkjenn/"

    consent = _text(client.get(f"{url}godkjenn/"))
    assert "Kravia ber om tilgang til Fjordbakst AS" in consent
    assert 'name="action" value="accept" class="go-btn">Godta</button>' in consent
    assert 'name="action" value="cancel" class="go-btn secondary">Avbryt</button>' in consent

    query = _returned(client.post(f"{url}godkjenn/", {"action": "accept"}))

    onboarding.refresh_from_db()
    assert query == {"state": "abc123", "status": "Success", "token": onboarding.onboarding_token}
    assert onboarding.state == State.SUCCESS
    assert list(onboarding.companies.all()) == [company]
    assert ClientSubscription.objects.filter(application=application, company=company).exists()
    assert not ClientSubscription.objects.filter(company=other_company).exists()


def test_org_number_limits_the_picker_to_that_company(
    client, application, go_user, company, other_company
):
    onboarding = make_onboarding(application, org_no=company.org_number)
    _log_in(client, go_user)

    html = _text(client.get(f"/pogo/onboarding/{onboarding.temporary_token}/"))

    assert "Fjordbakst AS" in html
    assert "Tindesport AS" not in html


def test_cancel_returns_canceled_without_token(client, application, go_user, company):
    onboarding = make_onboarding(application, org_no=company.org_number)
    url = f"/pogo/onboarding/{onboarding.temporary_token}/"
    _log_in(client, go_user)
    client.post(url, {"company_id": company.pk})

    query = _returned(client.post(f"{url}godkjenn/", {"action": "cancel"}))

    assert query == {"state": "abc123", "status": "Canceled"}
    onboarding.refresh_from_db()
    assert onboarding.state == State.CANCELED
    assert not ClientSubscription.objects.exists()


def test_picking_a_company_outside_the_session_is_refused(
    client, application, go_user, company, other_company
):
    onboarding = make_onboarding(application, org_no=company.org_number)
    _log_in(client, go_user)

    response = client.post(
        f"/pogo/onboarding/{onboarding.temporary_token}/", {"company_id": other_company.pk}
    )

    assert response.status_code == 400


def test_consent_without_a_chosen_company_goes_back_to_the_picker(
    client, application, go_user, company
):
    onboarding = make_onboarding(application)
    url = f"/pogo/onboarding/{onboarding.temporary_token}/"
    _log_in(client, go_user)

    assert client.get(f"{url}godkjenn/")["Location"] == url
    assert client.post(f"{url}godkjenn/", {"action": "accept"})["Location"] == url
    onboarding.refresh_from_db()
    assert onboarding.state == State.PENDING


@pytest.mark.parametrize(
    ("setup", "status"),
    [
        ("unknown_org", "ClientNotFound"),
        ("no_access", "NoClientAccess"),
        ("not_admin", "NoClientAccess"),
        ("blocked", "IntegrationBlocked"),
    ],
)
def test_refusals_redirect_with_their_status(client, application, go_user, setup, status):
    org_no = "310000999"
    if setup == "no_access":
        make_company("Fremmed AS", org_no)
    elif setup == "not_admin":
        make_company("Lesetilgang AS", org_no, go_user, is_admin=False)
    elif setup == "blocked":
        make_company("Sperret AS", org_no, go_user, integration_blocked=True)
    onboarding = make_onboarding(application, org_no=org_no)
    _log_in(client, go_user)

    query = _returned(client.get(f"/pogo/onboarding/{onboarding.temporary_token}/"))

    assert query == {"state": "abc123", "status": status}
    onboarding.refresh_from_db()
    assert onboarding.state == status


def test_expired_link_shows_an_error_page(client, application, go_user, company):
    onboarding = make_onboarding(application, valid_for=-dt.timedelta(seconds=1))
    _log_in(client, go_user)

    response = client.get(f"/pogo/onboarding/{onboarding.temporary_token}/")

    assert response.status_code == 410
    assert "Lenken har utløpt" in _text(response)


def test_used_link_shows_an_error_page(client, application, go_user, company):
    onboarding = make_onboarding(application, state=State.SUCCESS)

    for path in ("", "godkjenn/"):
        response = client.get(f"/pogo/onboarding/{onboarding.temporary_token}/{path}")
        assert response.status_code == 410
        assert "Lenken er allerede brukt" in _text(response)


def test_unknown_link_shows_an_error_page(client):
    response = client.get("/pogo/onboarding/finnes-ikke/")

    assert response.status_code == 404
    assert "Ukjent lenke" in _text(response)


def test_link_cannot_be_accepted_twice(client, application, go_user, company):
    onboarding = make_onboarding(application, org_no=company.org_number)
    url = f"/pogo/onboarding/{onboarding.temporary_token}/"
    _log_in(client, go_user)
    client.post(url, {"company_id": company.pk})
    _returned(client.post(f"{url}godkjenn/", {"action": "accept"}))

    response = client.post(f"{url}godkjenn/", {"action": "accept"})

    assert response.status_code == 410
