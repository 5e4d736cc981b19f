"""The real client against the real sandbox, through real HTTP handling (``pogo_wsgi``), and
once over a socket (``live_server``). Rows are seeded straight into the sandbox's models."""

import datetime as dt
import time
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings

from integrations.clients import poweroffice_client
from integrations.poweroffice import (
    Conflict,
    Forbidden,
    NotFound,
    PowerOfficeClient,
    PowerOfficeConfig,
    Unauthorized,
    Unavailable,
    ValidationError,
)
from integrations.poweroffice.auth import TokenCache
from integrations.poweroffice.ratelimit import LocalRateLimiter
from pogo_sandbox.models import (
    DEFAULT_PRIVILEGES,
    AccessToken,
    Application,
    ClientSubscription,
    Company,
    Customer,
    FaultRule,
    OutgoingInvoice,
    RequestCount,
)

CLIENT_KEY = "6a0d7c1e-3b2f-4e8a-9c5d-0f1e2d3c4b5a"
START = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
CUSTOMERS = "/pogo/v2/Customers"


def _seed(*, privileges=DEFAULT_PRIVILEGES, customers=5, org_number="999888777"):
    application = Application.objects.create(
        name="Kravia Inkasso",
        application_key=settings.POWEROFFICE_APPLICATION_KEY,
        subscription_key=settings.POWEROFFICE_SUBSCRIPTION_KEY,
        redirect_uri_prefix=f"{settings.SITE_URL}/integrasjon/",
    )
    company = Company.objects.create(name="Fjordbakst AS", org_number=org_number, city="Bergen")
    ClientSubscription.objects.create(
        application=application, company=company, client_key=CLIENT_KEY, privileges=list(privileges)
    )
    for i in range(1, customers + 1):
        Customer.objects.create(
            company=company,
            number=10000 + i,
            name=f"Testkunde {i}",
            is_person=i % 2 == 0,
            last_changed=START + dt.timedelta(minutes=i),
        )
    return company


def _invoice(company, customer, invoice_no, *, total="1234.10", balance=None, **fields):
    return OutgoingInvoice.objects.create(
        company=company,
        customer=customer,
        invoice_no=invoice_no,
        voucher_date=dt.date(2026, 9, 1),
        due_date=dt.date(2026, 9, 15),
        net_amount=Decimal(total),
        total_amount=Decimal(total),
        balance=Decimal(balance if balance is not None else total),
        cid=f"{invoice_no:08d}5",
        **fields,
    )


@pytest.fixture
def company(pogo_wsgi):
    return _seed()


@pytest.fixture
def client(company):
    return poweroffice_client(client_key=CLIENT_KEY)


def test_lists_customers_page_by_page(client, pogo_wsgi):
    customers = list(client.customers(page_size=2))

    assert [c.number for c in customers] == [10001, 10002, 10003, 10004, 10005]
    assert pogo_wsgi.statuses(CUSTOMERS) == [200, 200, 200]  # 2 + 2 + 1: the short page ends it


def test_a_full_last_page_ends_at_204(company, pogo_wsgi):
    Customer.objects.filter(number=10005).delete()
    client = poweroffice_client(client_key=CLIENT_KEY)

    assert len(list(client.customers(page_size=2))) == 4
    assert pogo_wsgi.statuses(CUSTOMERS) == [200, 200, 204]


def test_an_empty_list_is_204(client, pogo_wsgi):
    assert list(client.outgoing_invoices()) == []
    assert pogo_wsgi.statuses("/pogo/v2/OutgoingInvoices") == [204]


def test_changed_since_is_exclusive(client):
    changed = list(client.customers(changed_since=START + dt.timedelta(minutes=3)))

    assert [c.number for c in changed] == [10004, 10005]


def test_invoices_come_back_typed_with_exact_amounts(company, client):
    customer = Customer.objects.get(number=10001)
    paid = _invoice(company, customer, 501, total="1234.10", balance="0")
    _invoice(company, customer, 502, total="99.95")

    invoices = {i.invoice_no: i for i in client.outgoing_invoices()}
    unpaid = list(client.outgoing_invoices(only_unpaid=True))

    assert invoices[501].total_amount == Decimal("1234.10")
    assert isinstance(invoices[501].total_amount, Decimal)
    assert invoices[501].balance == 0
    assert invoices[502].due_date == dt.date(2026, 9, 15)
    assert invoices[502].customer_no == 10001
    assert [i.invoice_no for i in unpaid] == [502]
    assert client.outgoing_invoice(paid.id).id == paid.id


def test_json_patch_updates_the_customer(client):
    customer = Customer.objects.get(number=10002)

    updated = client.patch_customer(customer.pk, {"TransferToDebtCollectionAgency": False})

    assert updated.transfer_to_debt_collection_agency is False
    customer.refresh_from_db()
    assert customer.transfer_to_debt_collection_agency is False


def test_an_invalid_patch_is_a_validation_error_with_problem_details(client):
    customer = Customer.objects.get(number=10002)

    with pytest.raises(ValidationError) as caught:
        client.patch_customer(customer.pk, [{"op": "replace", "path": "/Number", "value": 1}])

    assert caught.value.status_code == 400
    assert caught.value.problem["Status"] == 400
    assert "Number" in caught.value.problem["Detail"]


def test_unknown_customer_is_not_found(client):
    with pytest.raises(NotFound) as caught:
        client.customer(987654321)

    assert caught.value.status_code == 404


def test_a_missing_privilege_is_forbidden(pogo_wsgi):
    _seed(privileges=["Customer_Read"])
    client = poweroffice_client(client_key=CLIENT_KEY)

    with pytest.raises(Forbidden):
        client.patch_customer(
            Customer.objects.get(number=10001).pk, {"SendPaymentReminders": False}
        )
    info = client.client_integration_information()
    assert "Customer_Read" in info.valid_privileges


def test_token_is_renewed_before_it_expires(company, pogo_wsgi):
    with time_machine.travel(START, tick=False) as traveller:
        client = poweroffice_client(client_key=CLIENT_KEY)
        client.tokens = TokenCache()  # reads the travelled time.time
        client.organization_settings()

        traveller.shift(1200 - 30)  # inside the last minute: renew without waiting for a 401
        client.organization_settings()

    assert AccessToken.objects.filter(api="v2").count() == 2
    assert pogo_wsgi.statuses("/pogo/v2/OrganizationSettings") == [200, 200]


def test_an_expired_token_gets_one_renewal_on_401(company, pogo_wsgi):
    with time_machine.travel(START, tick=False) as traveller:
        client = poweroffice_client(client_key=CLIENT_KEY)
        client.tokens = TokenCache(clock=lambda: 0.0)  # the client never notices expiry itself
        client.organization_settings()

        traveller.shift(1201)  # the sandbox has expired the token
        settings_ = client.organization_settings()

    assert settings_.name == "Fjordbakst AS"
    assert pogo_wsgi.statuses("/pogo/v2/OrganizationSettings") == [200, 401, 200]
    assert AccessToken.objects.filter(api="v2").count() == 2


def test_revoked_access_ends_in_unauthorized(company, client, pogo_wsgi):
    client.organization_settings()
    ClientSubscription.objects.filter(client_key=CLIENT_KEY).update(is_active=False)

    with pytest.raises(Unauthorized):
        client.organization_settings()

    assert pogo_wsgi.statuses("/pogo/v2/OrganizationSettings") == [200, 401]
    assert pogo_wsgi.statuses("/pogo/OAuth/Token") == [200, 401]


def test_a_wrong_client_key_is_unauthorized(company):
    client = poweroffice_client(client_key=str(uuid.uuid4()))

    with pytest.raises(Unauthorized, match="invalid_client"):
        client.organization_settings()


def test_429_is_waited_out_and_retried(company, pogo_wsgi):
    with time_machine.travel(START, tick=False) as traveller:
        slept = []

        def sleep(seconds):
            slept.append(seconds)
            traveller.shift(seconds)

        # Our own limiter is opened up so the sandbox's 10/s limit is what bites.
        client = PowerOfficeClient(
            PowerOfficeConfig.from_settings(settings),
            client_key=CLIENT_KEY,
            session=pogo_wsgi.session(),
            sleep=sleep,
            rate_limiter=LocalRateLimiter(1000),
            token_cache=TokenCache(),
        )
        for _ in range(11):  # the token request and nine calls fill the second
            client.organization_settings()

    statuses = pogo_wsgi.statuses("/pogo/v2/OrganizationSettings")
    assert statuses == [200] * 9 + [429, 200, 200]
    assert slept == [1.0]  # the sandbox's Retry-After: 1


def test_the_global_limiter_keeps_us_under_pogos_limit(company, pogo_wsgi):
    with time_machine.travel(START, tick=False) as traveller:

        def sleep(seconds):
            traveller.shift(seconds)

        limiter = LocalRateLimiter(10, clock=lambda: time.time(), sleep=sleep)
        client = PowerOfficeClient(
            PowerOfficeConfig.from_settings(settings),
            client_key=CLIENT_KEY,
            session=pogo_wsgi.session(),
            sleep=sleep,
            rate_limiter=limiter,
            token_cache=TokenCache(),
        )
        for _ in range(25):
            client.organization_settings()

    assert 429 not in pogo_wsgi.statuses("/pogo/v2/OrganizationSettings")
    counts = RequestCount.objects.filter(subscription_key=settings.POWEROFFICE_SUBSCRIPTION_KEY)
    assert sum(c.count for c in counts) == 26
    assert max(c.count for c in counts) == 10


def test_server_errors_are_retried_then_reported_unavailable(company, pogo_wsgi):
    FaultRule.objects.create(path_prefix="/pogo/v2/Customers", error_rate=1, faults=["503"])
    slept = []
    client = PowerOfficeClient(
        PowerOfficeConfig.from_settings(settings),
        client_key=CLIENT_KEY,
        session=pogo_wsgi.session(),
        sleep=slept.append,
        token_cache=TokenCache(),
    )

    with pytest.raises(Unavailable) as caught:
        list(client.customers())

    assert caught.value.status_code == 503
    assert pogo_wsgi.statuses(CUSTOMERS) == [503] * 5
    assert len(slept) == 4


@pytest.mark.parametrize("fault", ["500", "drop"])
def test_a_transient_fault_is_retried_to_success(company, pogo_wsgi, fault):
    FaultRule.objects.create(path_prefix="/pogo/v2/Customers", error_rate=1, faults=[fault])
    client = PowerOfficeClient(
        PowerOfficeConfig.from_settings(settings),
        client_key=CLIENT_KEY,
        session=pogo_wsgi.session(),
        # the fault clears while the client backs off
        sleep=lambda seconds: FaultRule.objects.update(is_active=False),
        token_cache=TokenCache(),
    )

    assert len(list(client.customers())) == 5
    assert pogo_wsgi.statuses(CUSTOMERS) == [500 if fault == "500" else None, 200]


def test_company_accounts_and_vat(company, client):
    from pogo_sandbox.models import GeneralLedgerAccount, VatCode

    GeneralLedgerAccount.objects.create(company=company, account_no=1920, name="Bankinnskudd")
    GeneralLedgerAccount.objects.create(company=company, account_no=1500, name="Kundefordringer")
    VatCode.objects.create(company=company, code="3", name="Utgående mva", rate=Decimal("0.2500"))

    org = client.organization_settings()
    accounts = client.general_ledger_accounts(account_nos=[1920])
    (vat,) = client.vat_codes()

    assert org.organization_number == "999888777"
    assert [(a.account_no, a.name) for a in accounts] == [(1920, "Bankinnskudd")]
    assert vat.rate == Decimal("0.25")


def test_onboarding_initiate(company):
    client = poweroffice_client()

    initiation = client.onboarding_initiate(
        redirect_uri=f"{settings.SITE_URL}/integrasjon/poweroffice/tilbake?state=abc",
        client_org_no="999888777",
    )

    assert initiation.temporary_url.startswith("http")
    assert initiation.valid_until.tzinfo is not None


def test_onboarding_with_a_foreign_redirect_is_refused(company):
    with pytest.raises(ValidationError, match="whitelisted"):
        poweroffice_client().onboarding_initiate(redirect_uri="https://evil.test/cb")


def test_debt_collection_case_lifecycle(company, client):
    customer = Customer.objects.get(number=10001)
    invoice = _invoice(
        company,
        customer,
        601,
        total="2500.00",
        debt_collection_status=OutgoingInvoice.DebtCollectionStatus.APPROVED,
    )

    assert client.dc_is_active() is True
    (available,) = client.dc_available_invoices()
    assert available.id == invoice.id and available.remaining_amount == Decimal("2500.00")

    case = client.dc_create_case(
        code="K-2026-1", invoice_ids=[invoice.id], external_case_url="https://k.test/s/1"
    )
    assert case.code == "K-2026-1" and [i.invoice_no for i in case.invoices] == [601]
    assert client.dc_available_invoices() == []

    client.dc_update_status(
        case_id=case.id,
        status_text="Inkassovarsel sendt",
        is_case_closed=False,
        updated_balance_agency=Decimal("2570.00"),
    )
    fetched = client.dc_get_case(case.id)
    assert fetched.balance_agency == Decimal("2570.00")
    assert [c.id for c in client.dc_list_cases()] == [case.id]
    assert client.dc_invoice_pdf(invoice.id).startswith(b"%PDF")
    assert client.dc_matched_items_since(START - dt.timedelta(days=365)) == []

    client.dc_delete_case(case.id)
    with pytest.raises((NotFound, ValidationError)):
        client.dc_get_case(case.id)


def test_v1_business_errors_arrive_as_validation_errors(company, client):
    with pytest.raises(ValidationError) as caught:
        client.dc_create_case(
            code="K-1", invoice_ids=[uuid.uuid4()], external_case_url="https://k.test/s/1"
        )

    assert caught.value.status_code == 200
    assert caught.value.validation["summary"]


@pytest.mark.live
def test_over_a_real_socket(live_server):
    _seed()
    base = f"{live_server.url}/pogo"
    config = PowerOfficeConfig(
        v2_base_url=f"{base}/v2",
        v2_token_url=f"{base}/OAuth/Token",
        v1_base_url=f"{base}/v1",
        v1_token_url=f"{base}/v1/OAuth/Token",
        application_key=settings.POWEROFFICE_APPLICATION_KEY,
        subscription_key=settings.POWEROFFICE_SUBSCRIPTION_KEY,
        timeout=10,
    )
    with PowerOfficeClient(config, client_key=CLIENT_KEY, token_cache=TokenCache()) as client:
        customers = list(client.customers(page_size=3))
        updated = client.patch_customer(customers[0].id, {"SendPaymentReminders": False})

    assert [c.number for c in customers] == [10001, 10002, 10003, 10004, 10005]
    assert updated.send_payment_reminders is False
    assert client.request_count == 4  # token, two pages, patch


def test_vouchers_proposal_and_idempotent_posting(company, client):
    from pogo_sandbox.models import GeneralLedgerAccount, JournalVoucher

    bank = GeneralLedgerAccount.objects.create(company=company, account_no=1920, name="Bank")
    receivable = GeneralLedgerAccount.objects.create(
        company=company, account_no=1500, name="Kunder"
    )
    proposal = client.create_bank_journal_proposal(
        {
            "VoucherDate": "2026-11-27",
            "CurrencyCode": "NOK",
            "Description": "Innbetaling via inkasso",
            "BankJournalLines": [
                {
                    "DebitAccountId": bank.pk,
                    "CreditAccountId": receivable.pk,
                    "CurrencyAmount": Decimal("1234.10"),
                    "InvoiceNo": "501",  # a string in PowerOffice's spec
                }
            ],
        }
    )
    posting = {
        "ExternalImportReference": "kravia-settlement-1",
        "VoucherDate": dt.date(2026, 11, 27),
        "CurrencyCode": "NOK",
        "VoucherLines": [
            {
                "AccountId": bank.pk,
                "PostingDate": "2026-11-27",
                "CurrencyAmount": Decimal("100.50"),
                "VatId": None,  # required on every line by PowerOffice's spec
            },
            {
                "AccountId": receivable.pk,
                "PostingDate": "2026-11-27",
                "CurrencyAmount": Decimal("-100.50"),
                "VatId": None,
            },
        ],
    }
    posted = client.post_bank_journal_voucher(posting)

    with pytest.raises(Conflict):
        client.post_bank_journal_voucher(posting)

    stored = JournalVoucher.objects.get(pk=proposal.id)
    assert stored.is_posted is False
    assert Decimal(str(stored.lines[0]["CurrencyAmount"])) == Decimal("1234.10")
    assert posted.external_import_reference == "kravia-settlement-1"
    assert JournalVoucher.objects.filter(is_posted=True).count() == 1
