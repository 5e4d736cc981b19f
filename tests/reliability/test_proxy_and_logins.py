"""Behind the documented proxy, every per-address limit counts the visitor, not the proxy.

``TRUSTED_PROXY_COUNT`` proxies append to ``X-Forwarded-For``; the visitor is that many entries
from the right (kravia_web.client_address). django-axes, the per-address login limit and Min
side's lookup limit all use that one helper, and production refuses to start without Redis,
where those counters are shared by every worker.
"""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse

from collections_cases.portal import services as portal_services
from kravia_web.client_address import client_ip
from tests.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.reliability

PROXY = "10.0.0.1"  # the reverse proxy, as gunicorn sees it (REMOTE_ADDR)


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


def _request(xff: str | None, remote: str = PROXY):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    ("count", "xff", "expected"),
    [
        # No trusted proxy: the header is the visitor's own words and is ignored.
        (0, "1.2.3.4", PROXY),
        (0, "1.2.3.4, 10.0.0.1", PROXY),
        # One proxy appends the address it saw; anything left of it was sent by the visitor.
        (1, "1.2.3.4", "1.2.3.4"),
        (1, "6.6.6.6, 1.2.3.4", "1.2.3.4"),
        (1, "1.2.3.4, 10.0.0.1", "10.0.0.1"),
        # Two proxies (a load balancer, then nginx): nginx appended the balancer's address.
        (2, "1.2.3.4, 10.0.0.1", "1.2.3.4"),
        (2, "6.6.6.6, 1.2.3.4, 10.0.0.1", "1.2.3.4"),
        # Fewer entries than proxies: the outermost entry a trusted proxy wrote.
        (2, "1.2.3.4", "1.2.3.4"),
        # Missing or garbage header: the connection's address.
        (1, None, PROXY),
        (1, "", PROXY),
        (1, "6.6.6.6, not-an-address", PROXY),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip_follows_the_trusted_proxy_count(settings, count, xff, expected):
    settings.TRUSTED_PROXY_COUNT = count

    assert client_ip(_request(xff)) == expected


def _login(client, email, password, visitor, *, forged=None):
    xff = f"{forged}, {visitor}" if forged else visitor
    return client.post(
        reverse("login"),
        {"username": email, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=xff,
    )


def test_axes_locks_the_real_address_not_the_proxy(db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    user = UserFactory()
    attacker, colleague = "198.51.100.7", "203.0.113.9"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        # A forged X-Forwarded-For changes nothing: the proxy's entry is the one that counts.
        _login(Client(), user.email, "wrong", attacker, forged="6.6.6.6")

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {attacker}
    assert _login(Client(), user.email, PASSWORD, attacker).status_code == 429
    # The same account from another visitor behind the same proxy still logs in.
    colleague_client = Client()
    assert _login(colleague_client, user.email, PASSWORD, colleague).status_code == 302
    assert colleague_client.session["_auth_user_id"] == str(user.pk)


def test_e_mail_case_does_not_reset_the_account_lockout(db, settings):
    user = UserFactory(email="ola@example.no")
    for variant in [
        "ola@example.no",
        "Ola@Example.no",
        "OLA@EXAMPLE.NO",
        "ola@EXAMPLE.no",
        "oLa@example.no",
    ]:
        _login(Client(), variant, "wrong", "198.51.100.7")

    assert _login(Client(), user.email, PASSWORD, "198.51.100.7").status_code == 429


def test_password_spraying_from_one_address_is_limited(db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_FAILURES_PER_ADDRESS = 8
    sprayer, office = "198.51.100.7", "203.0.113.9"
    victims = [UserFactory() for _ in range(settings.LOGIN_FAILURES_PER_ADDRESS)]
    # One wrong password per account: never near axes' per-account limit of 5.
    for victim in victims:
        assert _login(Client(), victim.email, "Sommer2026!", sprayer).status_code == 200

    # Now even a right password from that address is refused, with axes' lockout page.
    response = _login(Client(), victims[0].email, PASSWORD, sprayer)
    assert response.status_code == 429
    assert "For mange mislykkede innlogginger" in response.content.decode()
    # Admin login goes through the same authenticate(): refused too.
    admin = Client().post(
        reverse("admin:login"),
        {"username": victims[1].email, "password": PASSWORD},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=sprayer,
    )
    assert admin.status_code == 429
    # Another visitor behind the same proxy is not affected.
    assert _login(Client(), victims[0].email, PASSWORD, office).status_code == 302


def test_min_side_counts_the_real_address_behind_the_proxy(db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    lookup = reverse("portal_lookup")

    def try_lookup(visitor, number):
        return Client().post(
            lookup,
            {"number": number, "code": "ABCDE-FGHJK"},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"6.6.6.{number[-1]}, {visitor}",
        )

    for attempt in range(portal_services.ADDRESS_FAILURES):
        assert try_lookup("198.51.100.7", f"K-{attempt}").status_code == 200
    assert try_lookup("198.51.100.7", "K-new").status_code == 429
    # Everyone else behind the proxy still gets to log in (before: all were the proxy).
    assert try_lookup("203.0.113.9", "K-other").status_code == 200
