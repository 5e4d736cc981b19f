"""The admin pages for the sandbox: fault rules can be edited there."""

import pytest
from django.contrib.auth import get_user_model

from pogo_sandbox import domain
from pogo_sandbox.models import FaultRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = get_user_model().objects.create_superuser(email="admin@example.com", password="x")
    client.force_login(admin)
    return client


def test_sandbox_admin_pages_load(admin_client):
    domain.set_fault_rule("/pogo/v2/", error_rate=0.5, faults=["503"])
    for name in ("faultrule", "requestcount", "company", "outgoinginvoice", "ledgerentry"):
        response = admin_client.get(f"/admin/pogo_sandbox/{name}/")
        assert response.status_code == 200, name


def test_fault_rule_is_created_from_the_admin(admin_client):
    response = admin_client.post(
        "/admin/pogo_sandbox/faultrule/add/",
        {
            "path_prefix": "/pogo/v2/Customers",
            "error_rate": "1",
            "faults": '["500"]',
            "latency_ms": "0",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    assert FaultRule.objects.get().faults == ["500"]


def test_admin_refuses_an_unknown_fault(admin_client):
    response = admin_client.post(
        "/admin/pogo_sandbox/faultrule/add/",
        {"path_prefix": "/pogo/", "error_rate": "1", "faults": '["teapot"]', "latency_ms": "0"},
    )

    assert response.status_code == 200
    assert not FaultRule.objects.exists()
