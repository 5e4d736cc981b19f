"""Kundeweb: Innstillinger → API-nøkler and Webhooks."""

import re

import pytest

from api_access.models import ApiKey
from api_access.services import api_key_authenticate, api_key_create
from creditors.models import Membership
from integrations.webhooks.models import WebhookDelivery, WebhookEndpoint
from integrations.webhooks.services import webhook_endpoint_create, webhook_event_emit
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

KEY_RE = re.compile(r"kv_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


def test_settings_index_links(logged_in_client, creditor):
    html = logged_in_client.get("/innstillinger/").content.decode()
    assert "/innstillinger/api-nokler/" in html and "/innstillinger/webhooks/" in html
    assert "/api/v1/docs/" in html


def test_create_key_is_shown_once(logged_in_client, creditor):
    response = logged_in_client.post("/innstillinger/api-nokler/", {"name": "Fiken"})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    [raw] = KEY_RE.findall(response.content.decode())
    api_key = ApiKey.objects.get(creditor=creditor)
    assert api_key_authenticate(raw_key=raw) == api_key
    page = logged_in_client.get("/innstillinger/api-nokler/").content.decode()
    assert api_key.prefix in page and "Fiken" in page
    assert raw not in page and not KEY_RE.search(page)


def test_revoke_key(logged_in_client, creditor, user):
    api_key, raw = api_key_create(creditor=creditor, actor=user, name="Gammel")
    response = logged_in_client.post(f"/innstillinger/api-nokler/{api_key.pk}/trekk-tilbake/")
    assert response.status_code == 302
    assert api_key_authenticate(raw_key=raw) is None


def test_other_creditors_key_cannot_be_revoked(logged_in_client, creditor):
    other = MembershipFactory().creditor
    api_key, raw = api_key_create(creditor=other, actor=None, name="Deres")
    response = logged_in_client.post(f"/innstillinger/api-nokler/{api_key.pk}/trekk-tilbake/")
    assert response.status_code == 404
    assert api_key_authenticate(raw_key=raw) is not None


def test_member_who_is_not_owner_can_look_but_not_create(client, creditor):
    member = UserFactory()
    Membership.objects.create(user=member, creditor=creditor, role=Membership.Role.MEMBER)
    client.force_login(member)
    assert client.get("/innstillinger/api-nokler/").status_code == 200
    assert client.post("/innstillinger/api-nokler/", {"name": "x"}).status_code == 403
    assert (
        client.post("/innstillinger/webhooks/", {"url": "https://a.example.com"}).status_code == 403
    )
    assert not ApiKey.objects.exists()


def test_add_webhook_shows_secret_once(logged_in_client, creditor):
    response = logged_in_client.post(
        "/innstillinger/webhooks/",
        {"url": "http://127.0.0.1:9/hook", "events": ["case.created", "case.closed"]},
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get(creditor=creditor)
    assert endpoint.secret in response.content.decode()
    assert endpoint.events == ["case.closed", "case.created"]
    page = logged_in_client.get("/innstillinger/webhooks/").content.decode()
    assert endpoint.url in page and endpoint.secret not in page
    detail = logged_in_client.get(f"/innstillinger/webhooks/{endpoint.pk}/").content.decode()
    assert endpoint.secret not in detail


def test_add_webhook_without_events_is_refused(logged_in_client, creditor):
    response = logged_in_client.post("/innstillinger/webhooks/", {"url": "https://a.example.com"})
    assert response.status_code == 200
    assert not WebhookEndpoint.objects.exists()


def test_deliveries_listed_and_replayable(logged_in_client, creditor, user):
    endpoint, _ = webhook_endpoint_create(
        creditor=creditor, actor=user, url="http://127.0.0.1:9/hook", events=["case.updated"]
    )
    [delivery] = webhook_event_emit(
        creditor_id=creditor.pk, event_type="case.updated", object_type="case", object_id=1
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", error="HTTP 500")
    page = logged_in_client.get(f"/innstillinger/webhooks/{endpoint.pk}/").content.decode()
    assert str(delivery.event_id) in page and "HTTP 500" in page
    response = logged_in_client.post(
        f"/innstillinger/webhooks/leveringer/{delivery.pk}/send-igjen/"
    )
    assert response.status_code == 302
    replay = WebhookDelivery.objects.get(replay_of=delivery)
    assert replay.event_id == delivery.event_id


def test_other_creditors_delivery_is_404(logged_in_client, creditor):
    other = MembershipFactory().creditor
    webhook_endpoint_create(
        creditor=other, actor=None, url="http://127.0.0.1:9/hook", events=["case.updated"]
    )
    [delivery] = webhook_event_emit(
        creditor_id=other.pk, event_type="case.updated", object_type="case", object_id=1
    )
    response = logged_in_client.post(
        f"/innstillinger/webhooks/leveringer/{delivery.pk}/send-igjen/"
    )
    assert response.status_code == 404
    detail = logged_in_client.get(f"/innstillinger/webhooks/{delivery.endpoint_id}/")
    assert detail.status_code == 404


def test_disable_endpoint(logged_in_client, creditor, user):
    endpoint, _ = webhook_endpoint_create(
        creditor=creditor, actor=user, url="http://127.0.0.1:9/hook", events=["case.updated"]
    )
    logged_in_client.post(f"/innstillinger/webhooks/{endpoint.pk}/deaktiver/")
    endpoint.refresh_from_db()
    assert endpoint.is_active is False
    assert (
        webhook_event_emit(
            creditor_id=creditor.pk, event_type="case.updated", object_type="case", object_id=1
        )
        == []
    )


def test_admin_lists_keys_and_deliveries(client, creditor, user):
    from tests.factories import UserFactory

    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    api_key_create(creditor=creditor, actor=user, name="Admin-synlig")
    webhook_endpoint_create(
        creditor=creditor, actor=user, url="http://127.0.0.1:9/hook", events=["case.updated"]
    )
    webhook_event_emit(
        creditor_id=creditor.pk, event_type="case.updated", object_type="case", object_id=1
    )
    for url in (
        "/admin/api_access/apikey/",
        "/admin/api_access/idempotencyrecord/",
        "/admin/webhooks/webhookendpoint/",
        "/admin/webhooks/webhookdelivery/",
    ):
        assert client.get(url).status_code == 200, url
    endpoint = WebhookEndpoint.objects.get()
    page = client.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert endpoint.secret not in page


def _styled_input_types() -> set[str]:
    """The input types the shared ``.field input[type=…]`` rule in app.css styles."""
    from pathlib import Path

    from django.conf import settings

    css = (Path(settings.BASE_DIR) / "static" / "css" / "app.css").read_text()
    return set(re.findall(r"\.field input\[type=(\w+)\]", css))


UNBOXED = {"hidden", "checkbox", "radio", "submit", "button", "file"}


@pytest.mark.parametrize("path", ["/innstillinger/webhooks/", "creditor_settings"])
def test_every_text_like_field_has_the_shared_input_style(logged_in_client, creditor, path):
    """The webhook form's URL field was unstyled: no input type may miss the shared rule."""
    from django.urls import reverse

    if not path.startswith("/"):
        path = reverse(path, args=[creditor.pk])
    content = logged_in_client.get(path).content.decode()
    types = set(re.findall(r'<input type="(\w+)"', content)) - UNBOXED

    assert types, "the page renders a form"
    assert types <= _styled_input_types()
