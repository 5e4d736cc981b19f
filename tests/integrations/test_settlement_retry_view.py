"""«Send bilaget på nytt» on the settlement page."""

import pytest
from django.urls import reverse
from django.utils import timezone

from collections_cases.models import Settlement
from integrations.models import OutboxMessage, PowerOfficeConnection
from integrations.tasks import deliver_outbox_task
from tests.collections_cases.test_settlement_pages import settled
from tests.factories import CreditorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_retry_requeues_a_blocked_voucher(logged_in_client, creditor, monkeypatch):
    PowerOfficeConnection.objects.create(
        creditor=creditor, client_key="key", connected_at=timezone.now()
    )
    delivered = []
    monkeypatch.setattr(deliver_outbox_task, "delay", lambda: delivered.append(True))
    settlement, _ = settled(creditor)
    Settlement.objects.filter(pk=settlement.pk).update(
        voucher_status="blocked", voucher_error="Konto 7770 mangler."
    )

    response = logged_in_client.post(
        reverse("settlement_voucher_retry", args=[settlement.pk]), follow=True
    )

    settlement.refresh_from_db()
    assert "Bilaget sendes til PowerOffice Go på nytt." in response.content.decode()
    assert settlement.voucher_error == ""
    assert OutboxMessage.objects.filter(settlement=settlement, status="pending").count() == 1
    assert delivered == [True]


def test_retry_without_a_connection_says_what_to_do(logged_in_client, creditor):
    settlement, _ = settled(creditor)
    Settlement.objects.filter(pk=settlement.pk).update(voucher_status="blocked")

    response = logged_in_client.post(
        reverse("settlement_voucher_retry", args=[settlement.pk]), follow=True
    )

    assert "Koble til PowerOffice Go" in response.content.decode()


def test_retry_of_a_manual_settlement_says_why_not(logged_in_client, creditor):
    creditor.bookkeeping_mode = "none"
    creditor.save()
    settlement, _ = settled(creditor)

    response = logged_in_client.post(
        reverse("settlement_voucher_retry", args=[settlement.pk]), follow=True
    )

    assert response.status_code == 200
    assert "allerede sendt" in response.content.decode() or "manuelt" in response.content.decode()
    assert not OutboxMessage.objects.filter(settlement=settlement).exists()


def test_retry_of_another_creditors_settlement_is_404(logged_in_client, creditor):
    other, _ = settled(CreditorFactory())
    response = logged_in_client.post(reverse("settlement_voucher_retry", args=[other.pk]))
    assert response.status_code == 404
    assert (
        logged_in_client.get(reverse("settlement_voucher_retry", args=[other.pk])).status_code
        == 405
    )
