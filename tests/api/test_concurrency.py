"""Two identical POSTs with one Idempotency-Key at the same moment: one runs, never both."""

import threading
import time
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from api_access.services import api_key_create
from collections_cases.cases import services as case_services
from collections_cases.models import LedgerEntry
from tests.api.conftest import make_case
from tests.factories import MembershipFactory


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_do_not_both_run():
    if connection.vendor != "postgresql":
        pytest.skip("needs real row locking and concurrent connections (PostgreSQL)")
    creditor = MembershipFactory().creditor
    case = make_case(creditor)
    _key, raw = api_key_create(creditor=creditor, actor=None, name="Parallell")
    url = f"/api/v1/cases/{case.pk}/payments/"
    payload = {"amount": "100.00", "paid_on": timezone.localdate().isoformat()}
    original = case_services.case_register_direct_payment

    def slow_payment(**kwargs):
        time.sleep(0.5)  # the first request is still running when the second arrives
        return original(**kwargs)

    barrier = threading.Barrier(2)
    results = []

    def post():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        barrier.wait()
        response = client.post(url, payload, HTTP_IDEMPOTENCY_KEY="same-payment")
        results.append((response.status_code, response.get("Idempotent-Replayed")))
        connection.close()

    with mock.patch.object(case_services, "case_register_direct_payment", slow_payment):
        threads = [threading.Thread(target=post) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert sorted(status for status, _ in results) in ([201, 409], [201, 201])
    assert LedgerEntry.objects.filter(case=case, kind="direct_payment").count() == 1
