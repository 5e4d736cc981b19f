"""Issue 15, point 3: roles that mean something. Owners alone change the money settings
(payout account, bookkeeping, settlement terms, accounts), connect, disconnect and synchronise
PowerOffice Go, manage the team, API keys and webhooks; members work cases. Checked on the
server (403), not just hidden in the page."""

import pytest
from django.core.exceptions import PermissionDenied
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate

from api_access.api.views import ApiView
from api_access.models import ApiKey
from api_access.services import api_key_create
from creditors import services
from creditors.forms import CreditorSettingsForm
from creditors.models import Creditor, Invitation, Membership
from creditors.permissions import OWNER_FIELDS, IsCreditorOwner
from integrations.models import OnboardingAttempt, PowerOfficeConnection
from integrations.webhooks.models import WebhookEndpoint
from integrations.webhooks.services import webhook_endpoint_create
from tests.factories import CreditorFactory, MembershipFactory

pytestmark = pytest.mark.django_db

NEW_ACCOUNT = "15036123459"


@pytest.fixture
def creditor():
    return CreditorFactory(bank_account="86011117947")


@pytest.fixture
def owner(creditor):
    return MembershipFactory(creditor=creditor, role=Membership.Role.OWNER).user


@pytest.fixture
def member(creditor, owner):
    return MembershipFactory(creditor=creditor, role=Membership.Role.MEMBER).user


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def connected(creditor, owner):
    return PowerOfficeConnection.objects.create(
        creditor=creditor,
        client_key="nøkkel",
        client_name=creditor.name,
        client_org_number=creditor.org_number,
        connected_at=timezone.now(),
        connected_by=owner,
    )


def settings_post(creditor, *, skip=(), **changes):
    """The settings form as the browser posts it (checkboxes only when on), with changes."""
    form = CreditorSettingsForm(instance=creditor)
    values = {**model_to_dict(creditor, fields=list(form.fields)), **changes}
    data = {}
    for name, value in values.items():
        if name in skip:
            continue
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = value
    return data


def settings_url(creditor):
    return reverse("creditor_settings", args=[creditor.pk])


# --- Money settings -------------------------------------------------------------------------------


def test_member_gets_403_changing_the_payout_account(member_client, creditor):
    response = member_client.post(
        settings_url(creditor), settings_post(creditor, bank_account=NEW_ACCOUNT)
    )
    assert response.status_code == 403
    creditor.refresh_from_db()
    assert creditor.bank_account == "86011117947"


def test_member_gets_403_changing_the_bookkeeping_mode(member_client, creditor):
    response = member_client.post(
        settings_url(creditor),
        settings_post(creditor, bookkeeping_mode=Creditor.BookkeepingMode.NONE),
    )
    assert response.status_code == 403
    creditor.refresh_from_db()
    assert creditor.bookkeeping_mode == Creditor.BookkeepingMode.UNPOSTED


def test_member_may_save_the_rest_of_the_page_and_sees_money_fields_disabled(
    member_client, creditor
):
    page = member_client.get(settings_url(creditor)).content.decode()
    assert "Bare eiere av kreditoren kan endre dette." in page
    assert 'name="bank_account"' in page and "disabled" in page

    # What the browser posts: disabled fields are not sent.
    data = settings_post(creditor, skip=OWNER_FIELDS, notify_weekly_summary=False)
    response = member_client.post(settings_url(creditor), data)

    assert response.status_code == 302
    creditor.refresh_from_db()
    assert creditor.notify_weekly_summary is False
    assert creditor.bank_account == "86011117947"


def test_the_service_refuses_a_member_whatever_calls_it(creditor, member):
    with pytest.raises(PermissionDenied):
        services.creditor_update_settings(
            creditor=creditor,
            actor=member,
            cleaned_data={"interest_to": Creditor.InterestTo.CREDITOR},
        )


def test_owner_changes_the_payout_account(client, creditor, owner):
    client.force_login(owner)
    response = client.post(
        settings_url(creditor), settings_post(creditor, bank_account=NEW_ACCOUNT)
    )
    assert response.status_code == 302
    creditor.refresh_from_db()
    assert creditor.bank_account == NEW_ACCOUNT


# --- PowerOffice Go ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "creditor_poweroffice_disconnect",
        "creditor_poweroffice_sync",
        "creditor_poweroffice_refresh",
        "creditor_poweroffice_reconnect",
        "creditor_poweroffice",  # the review form (bookkeeping mode, approvals)
    ],
)
def test_member_gets_403_on_poweroffice_go_actions(member_client, creditor, connected, name):
    response = member_client.post(
        reverse(name, args=[creditor.pk]), {"bookkeeping_mode": "none", "email": "x@y.no"}
    )
    assert response.status_code == 403
    connected.refresh_from_db()
    assert connected.is_connected
    creditor.refresh_from_db()
    assert creditor.bookkeeping_mode == Creditor.BookkeepingMode.UNPOSTED


def test_member_gets_403_on_gi_tilgang(member_client, creditor):
    response = member_client.post(reverse("creditor_poweroffice_connect", args=[creditor.pk]))
    assert response.status_code == 403
    assert not OnboardingAttempt.objects.exists()


def test_member_sees_the_poweroffice_page_with_buttons_disabled_and_why(
    member_client, creditor, connected
):
    page = member_client.get(reverse("creditor_poweroffice", args=[creditor.pk]))
    content = page.content.decode()
    assert page.status_code == 200
    assert "Bare eiere av kreditoren kan koble til, koble fra og synkronisere" in content
    assert 'aria-describedby="owner-only"' in content


def test_owner_may_disconnect(client, creditor, owner, connected):
    client.force_login(owner)
    response = client.post(reverse("creditor_poweroffice_disconnect", args=[creditor.pk]))
    assert response.status_code == 302
    connected.refresh_from_db()
    assert not connected.is_connected


# --- Team, API keys, webhooks ---------------------------------------------------------------------


def test_member_gets_403_on_team_management(member_client, creditor, owner):
    owner_membership = Membership.objects.get(user=owner, creditor=creditor)
    assert (
        member_client.post(
            reverse("team", args=[creditor.pk]), {"email": "ny@example.no", "role": "owner"}
        ).status_code
        == 403
    )
    assert (
        member_client.post(
            reverse("team_member_role", args=[creditor.pk, owner_membership.pk]),
            {"role": "member"},
        ).status_code
        == 403
    )
    assert (
        member_client.post(
            reverse("team_member_remove", args=[creditor.pk, owner_membership.pk])
        ).status_code
        == 403
    )
    assert not Invitation.objects.exists()
    owner_membership.refresh_from_db()
    assert owner_membership.role == Membership.Role.OWNER


def test_member_gets_403_on_api_keys(member_client, creditor, owner):
    api_key, _raw = api_key_create(creditor=creditor, actor=owner, name="Fiken")
    assert member_client.post(reverse("settings_api_keys"), {"name": "x"}).status_code == 403
    assert (
        member_client.post(reverse("settings_api_key_revoke", args=[api_key.pk])).status_code == 403
    )
    assert ApiKey.objects.filter(creditor=creditor).count() == 1
    api_key.refresh_from_db()
    assert api_key.is_active


def test_member_gets_403_on_webhooks(member_client, creditor, owner):
    endpoint, _secret = webhook_endpoint_create(
        creditor=creditor, actor=owner, url="https://hooks.example.com/x", events=["case.updated"]
    )
    assert (
        member_client.post(
            reverse("settings_webhooks"),
            {"url": "https://evil.example.com/", "events": ["case.updated"]},
        ).status_code
        == 403
    )
    assert (
        member_client.post(reverse("settings_webhook_disable", args=[endpoint.pk])).status_code
        == 403
    )
    assert WebhookEndpoint.objects.filter(creditor=creditor).count() == 1
    endpoint.refresh_from_db()
    assert endpoint.is_active


# --- The API ------------------------------------------------------------------------------------


class _OwnerOnlyView(ApiView):
    """What an owner-only API resource looks like (the API has none today: keys, webhooks and
    settings are Kundeweb pages): ``IsCreditorOwner`` in its permission classes."""

    def get_permissions(self):
        return [*super().get_permissions(), IsCreditorOwner()]

    def get(self, request):
        return Response({"creditor": self.creditor.pk})


def _owner_only(user):
    request = APIRequestFactory().get("/owner-only/")
    request.session = {}
    force_authenticate(request, user=user)
    return _OwnerOnlyView.as_view()(request)


def test_api_owner_permission_refuses_a_members_session_in_the_api_error_shape(
    creditor, member, owner
):
    response = _owner_only(member)
    assert response.status_code == 403
    assert response.data["type"] == "permission_denied"

    response = _owner_only(owner)
    assert response.status_code == 200
    assert response.data == {"creditor": creditor.pk}


def test_api_case_work_is_open_to_members(member_client):
    assert member_client.get("/api/v1/cases/").status_code == 200


def test_payout_account_confirmation_is_owner_only(member_client, creditor, owner):
    services.creditor_update_settings(
        creditor=creditor, actor=owner, cleaned_data={"bank_account": NEW_ACCOUNT}
    )
    response = member_client.post(reverse("payout_account_confirm", args=[creditor.pk]))
    assert response.status_code == 403
    creditor.refresh_from_db()
    assert creditor.payout_change_confirmed_at is None
