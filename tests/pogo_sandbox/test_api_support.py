"""Builders shared by the sandbox API, domain and seed tests (no tests of its own)."""

import datetime as dt
from decimal import Decimal

from django.contrib.auth.hashers import make_password

from pogo_sandbox import domain
from pogo_sandbox.models import (
    DEFAULT_PRIVILEGES,
    Application,
    ClientSubscription,
    Company,
    CompanyAccess,
    GoUser,
)

APP_KEY = "5b0c6c1e-3f7d-4d7e-9f1a-0a1b2c3d4e01"  # PowerOffice application keys are guids
SUB_KEY = "sub-key-0001"


def make_company(org_number="999999999", name="Testfirma AS", **fields) -> Company:
    return Company.objects.create(name=name, org_number=org_number, **fields)


def make_user(email="go@example.com", password="hemmelig", companies=(), is_admin=True) -> GoUser:
    user = GoUser.objects.create(email=email, name="Go Bruker", password=make_password(password))
    for company in companies:
        CompanyAccess.objects.create(user=user, company=company, is_admin=is_admin)
    return user


def make_application(**fields) -> Application:
    fields.setdefault("application_key", APP_KEY)
    fields.setdefault("subscription_key", SUB_KEY)
    fields.setdefault("redirect_uri_prefix", "https://kundeweb.example/integrasjon/")
    return Application.objects.create(name="Inkasso AS", **fields)


def make_subscription(company, application, privileges=None) -> ClientSubscription:
    return ClientSubscription.objects.create(
        company=company,
        application=application,
        privileges=list(DEFAULT_PRIVILEGES if privileges is None else privileges),
    )


def make_customer(company, number=10001, name="Ola Nordmann", **fields):
    fields.setdefault("email_address", f"kunde{number}@example.com")
    return domain.create_customer(company, number=number, name=name, **fields)


def make_invoice(customer, invoice_no=1, due=dt.date(2026, 1, 15), amount="1000.00", **kw):
    return domain.create_invoice(
        customer,
        invoice_no=invoice_no,
        voucher_date=due - dt.timedelta(days=14),
        due_date=due,
        total_amount=Decimal(amount),
        **kw,
    )


def basic(application_key: str, client_key: str) -> str:
    import base64

    raw = f"{application_key}:{client_key}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def issue_token(client, subscription, *, api="v2") -> str:
    path = "/pogo/OAuth/Token" if api == "v2" else "/pogo/v1/OAuth/Token"
    response = client.post(
        path,
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(subscription.application.application_key, subscription.client_key),
        HTTP_OCP_APIM_SUBSCRIPTION_KEY=subscription.application.subscription_key,
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


class Api:
    """Calls the sandbox through Django's test client with the right headers."""

    def __init__(self, client, subscription, *, api="v2"):
        self.client = client
        self.subscription = subscription
        self.api = api
        self.token = issue_token(client, subscription, api=api)

    def headers(self):
        return {
            "HTTP_AUTHORIZATION": f"Bearer {self.token}",
            "HTTP_OCP_APIM_SUBSCRIPTION_KEY": self.subscription.application.subscription_key,
        }

    def get(self, path, params=None):
        return self.client.get(f"/pogo/{self.api}/{path}", params or {}, **self.headers())

    def post(self, path, body, content_type="application/json"):
        return self.client.post(
            f"/pogo/{self.api}/{path}", body, content_type=content_type, **self.headers()
        )

    def patch(self, path, body, content_type="application/json-patch+json"):
        import json

        return self.client.patch(
            f"/pogo/{self.api}/{path}",
            json.dumps(body),
            content_type=content_type,
            **self.headers(),
        )

    def delete(self, path):
        return self.client.delete(f"/pogo/{self.api}/{path}", **self.headers())
