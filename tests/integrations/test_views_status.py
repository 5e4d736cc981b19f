"""The integration status page: plain-Norwegian errors, sync per resource, outbox, Synkroniser
nå (queued once, refused while running) and reconnect after a revoked key."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from integrations import status
from integrations.models import OutboxMessage, PowerOfficeConnection, SyncCursor, SyncRun
from integrations.poweroffice import errors as pogo_errors
from integrations.services.connections import error_message
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def connect(creditor, **fields):
    return PowerOfficeConnection.objects.create(
        creditor=creditor,
        client_key="secret-client-key",
        client_org_number=creditor.org_number,
        connected_at=timezone.now(),
        **fields,
    )


def page(client, creditor):
    return client.get(reverse("creditor_poweroffice", args=[creditor.pk])).content.decode()


@pytest.mark.parametrize(
    ("text", "kind", "title"),
    [
        (
            error_message(pogo_errors.Unauthorized("x")),
            "revoked",
            "Tilgangen er trukket tilbake i PowerOffice Go – koble til på nytt",
        ),
        (
            "Token rejected (HTTP 401)",
            "revoked",
            "Tilgangen er trukket tilbake i PowerOffice Go – koble til på nytt",
        ),
        (
            error_message(pogo_errors.RateLimited("x")),
            "rate_limited",
            "PowerOffice Go ba oss vente litt",
        ),
        ("Too many requests (HTTP 429)", "rate_limited", "PowerOffice Go ba oss vente litt"),
        (error_message(pogo_errors.Unavailable("x")), "unavailable", "PowerOffice Go svarte ikke"),
        ("Bad gateway (HTTP 502)", "unavailable", "PowerOffice Go svarte ikke"),
        ("Invalid code (HTTP 400)", "rejected", "PowerOffice Go avviste en forespørsel"),
        (
            error_message(pogo_errors.Forbidden("x")),
            "forbidden",
            "PowerOffice Go nektet tilgang til en del av regnskapet",
        ),
    ],
)
def test_stored_errors_are_explained(text, kind, title):
    explanation = status.explain(text)
    assert (explanation.kind, explanation.title) == (kind, title)
    assert explanation.advice


def test_no_error_no_explanation():
    assert status.explain("") is None


def test_page_shows_last_sync_per_resource_and_outbox(logged_in_client, creditor):
    connection = connect(creditor)
    SyncRun.objects.create(
        connection=connection,
        started_at=timezone.now() - dt.timedelta(minutes=3),
        finished_at=timezone.now(),
        status=SyncRun.Status.PARTIAL,
        counts={"customers": {"fetched": 7, "created": 2}, "invoices": {"fetched": 0}},
        errors=[{"resource": "customers", "record": "Kunde 12", "reason": "Kunden mangler navn."}],
        request_count=5,
    )
    SyncCursor.objects.create(connection=connection, resource="customers", value=timezone.now())
    OutboxMessage.objects.create(
        kind=OutboxMessage.Kind.UPDATE_STATUS,
        creditor=creditor,
        dedupe_key="x1",
        status=OutboxMessage.Status.FAILED,
        attempts=5,
        last_error="Service unavailable (HTTP 503)",
    )
    html = page(logged_in_client, creditor)
    assert 'data-resource="customers"' in html
    assert "hentet 7, nye 2" in html
    assert "Kunden mangler navn." in html
    assert 'data-outbox="failed"' in html
    assert "PowerOffice Go svarte ikke" in html
    assert "Synkroniser nå" in html


def test_revoked_key_offers_reconnect(logged_in_client, creditor):
    connect(
        creditor,
        last_error=error_message(pogo_errors.Unauthorized("x")),
        last_error_at=timezone.now(),
    )
    html = page(logged_in_client, creditor)
    assert 'data-problem="revoked"' in html
    assert reverse("creditor_poweroffice_reconnect", args=[creditor.pk]) in html


def test_reconnect_forgets_the_dead_key_and_starts_gi_tilgang(
    logged_in_client, creditor, monkeypatch
):
    connection = connect(creditor, last_error=error_message(pogo_errors.Unauthorized("x")))
    started = []

    def fake_start(**kwargs):
        started.append(kwargs["creditor"])
        return "https://go.example/onboarding/abc"

    monkeypatch.setattr("integrations.views.onboarding.onboarding_start", fake_start)
    response = logged_in_client.post(reverse("creditor_poweroffice_reconnect", args=[creditor.pk]))
    assert response["Location"] == "https://go.example/onboarding/abc"
    connection.refresh_from_db()
    assert not connection.is_connected
    assert started == [creditor]


def test_sync_now_queues_one_task_and_refuses_a_second_click(
    logged_in_client, creditor, monkeypatch
):
    connection = connect(creditor)
    queued = []
    monkeypatch.setattr("integrations.tasks.sync_connection_task.delay", queued.append)
    url = reverse("creditor_poweroffice_sync", args=[creditor.pk])
    first = logged_in_client.post(url, follow=True).content.decode()
    assert "Synkroniseringen er startet" in first
    second = logged_in_client.post(url, follow=True).content.decode()
    assert "allerede bestilt" in second
    assert queued == [connection.pk]


def test_sync_now_refused_while_a_run_is_going(logged_in_client, creditor, monkeypatch):
    connection = connect(creditor)
    SyncRun.objects.create(connection=connection, status=SyncRun.Status.RUNNING)
    queued = []
    monkeypatch.setattr("integrations.tasks.sync_connection_task.delay", queued.append)
    html = logged_in_client.post(
        reverse("creditor_poweroffice_sync", args=[creditor.pk]), follow=True
    ).content.decode()
    assert "pågår allerede" in html
    assert "disabled" in html
    assert queued == []


def test_sync_now_runs_the_task_and_lets_the_next_click_through(
    logged_in_client, creditor, monkeypatch
):
    connection = connect(creditor)
    ran = []
    monkeypatch.setattr(
        "integrations.tasks.sync_connection",
        lambda connection_id: ran.append(connection_id) or SyncRun(status="ok"),
    )
    url = reverse("creditor_poweroffice_sync", args=[creditor.pk])
    logged_in_client.post(url)  # eager Celery in tests: the task runs here and ends
    logged_in_client.post(url)
    assert ran == [connection.pk, connection.pk]


def test_sync_now_is_post_only_and_scoped(client, creditor, monkeypatch):
    connect(creditor)
    stranger = MembershipFactory()
    client.force_login(stranger.user)
    monkeypatch.setattr(
        "integrations.tasks.sync_connection_task.delay", lambda _id: pytest.fail("queued")
    )
    url = reverse("creditor_poweroffice_sync", args=[creditor.pk])
    assert client.post(url).status_code == 404
    assert client.get(reverse("creditor_poweroffice", args=[creditor.pk])).status_code == 404


def test_sync_now_without_connection_says_so(logged_in_client, creditor):
    html = logged_in_client.post(
        reverse("creditor_poweroffice_sync", args=[creditor.pk]), follow=True
    ).content.decode()
    assert "er ikke koblet til PowerOffice Go" in html


def test_integration_link_goes_to_the_active_creditors_status(logged_in_client, creditor):
    response = logged_in_client.get(reverse("integration_status"))
    assert (
        response["Location"]
        == reverse("creditor_poweroffice", args=[creditor.pk]) + "#synkronisering"
    )


def test_status_page_query_count_is_bounded(
    logged_in_client, creditor, django_assert_max_num_queries
):
    connection = connect(creditor)
    for i in range(8):
        SyncRun.objects.create(
            connection=connection, status="ok", counts={"customers": {"fetched": i}}
        )
        OutboxMessage.objects.create(
            kind="update_status", creditor=creditor, dedupe_key=f"k{i}", last_error="x (HTTP 429)"
        )
    with django_assert_max_num_queries(16):
        page(logged_in_client, creditor)


def test_the_sync_table_speaks_the_users_language(logged_in_client, creditor):
    """The resource labels were built with eager gettext at import, so they stayed Norwegian
    on the English page."""
    connection = connect(creditor)
    SyncRun.objects.create(
        connection=connection,
        finished_at=timezone.now(),
        status=SyncRun.Status.OK,
        counts={"customers": {"fetched": 7}, "released": {"fetched": 1}},
    )
    logged_in_client.post(reverse("set_language"), {"language": "en", "next": "/"})

    html = page(logged_in_client, creditor)

    for english in (
        "Customers",
        "Invoices transferred for debt collection",
        "Payments and credit notes in Go",
        "Cases and statuses sent to Go",
    ):
        assert f">{english}</th>" in html
    assert "Fakturaer overført til inkasso" not in html
