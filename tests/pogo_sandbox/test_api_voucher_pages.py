"""Voucher proposals in the sandbox: balance check, the list and detail an integration reads
back, voucher pages (multipart upload, 409 once posted), and the inbox showing them."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pogo_sandbox import domain
from pogo_sandbox.models import GeneralLedgerAccount, JournalVoucher
from tests.pogo_sandbox.test_api_support import (
    Api,
    make_application,
    make_company,
    make_customer,
    make_invoice,
    make_subscription,
)

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def company():
    return make_company()


@pytest.fixture
def api(client, company):
    return Api(client, make_subscription(company, make_application()))


@pytest.fixture
def proposal(api, company):
    customer = make_customer(company)
    make_invoice(customer, amount="1000")
    bank = GeneralLedgerAccount.objects.create(company=company, account_no=1920, name="Bank")
    response = api.post(
        "JournalEntryVouchers/BankJournals",
        {
            "VoucherDate": "2026-02-01",
            "CurrencyCode": "NOK",
            "Description": "Oppgjør O-2026-000001",
            "BankJournalLines": [
                {"DebitAccountId": bank.pk, "CurrencyAmount": 1000},
                {
                    "CreditAccountId": customer.subledger_account_id,
                    "CurrencyAmount": 1000,
                    "InvoiceNo": "1",
                },
            ],
        },
    )
    assert response.status_code == 201
    return JournalVoucher.objects.get()


def upload(api, voucher_id, content=PDF):
    return api.client.post(
        f"/pogo/v2/JournalEntryVouchers/{voucher_id}/VoucherPages",
        {"file": SimpleUploadedFile("oppgjor.pdf", content, content_type="application/pdf")},
        **api.headers(),
    )


def test_an_unbalanced_single_sided_proposal_is_400(api, company):
    bank = GeneralLedgerAccount.objects.create(company=company, account_no=1920, name="Bank")
    receivable = GeneralLedgerAccount.objects.create(company=company, account_no=1500, name="K")

    response = api.post(
        "JournalEntryVouchers/BankJournals",
        {
            "VoucherDate": "2026-02-01",
            "CurrencyCode": "NOK",
            "BankJournalLines": [
                {"DebitAccountId": bank.pk, "CurrencyAmount": 1000},
                {"CreditAccountId": receivable.pk, "CurrencyAmount": 999.5},
            ],
        },
    )

    assert response.status_code == 400
    assert "does not balance" in response.json()["Detail"]
    assert JournalVoucher.objects.count() == 0


def test_a_page_is_attached_and_listed_on_the_proposal(api, proposal):
    response = upload(api, proposal.pk)

    assert response.status_code == 201
    [page] = proposal.pages.all()
    assert bytes(page.content) == PDF
    assert page.content_type == "application/pdf"
    detail = api.get(f"JournalEntryVouchers/BankJournals/{proposal.pk}").json()
    assert detail["Description"] == "Oppgjør O-2026-000001"
    assert [p["Id"] for p in detail["Pages"]] == [page.pk]


def test_the_list_shows_our_proposals_since_a_time(api, proposal):
    [item] = api.get("JournalEntryVouchers").json()
    assert item["Id"] == str(proposal.pk)
    assert item["IsCreatedByCurrentIntegration"] is True
    assert item["IsPosted"] is False

    later = proposal.created_at.isoformat()
    response = api.get("JournalEntryVouchers", {"createdDateTimeOffsetGreaterThan": later})
    assert response.status_code == 204


def test_a_posted_voucher_takes_no_more_pages(api, proposal):
    domain.post_voucher(proposal)

    response = upload(api, proposal.pk)

    assert response.status_code == 409
    assert proposal.pages.count() == 0


def test_a_page_must_be_multipart(api, proposal):
    response = api.post(f"JournalEntryVouchers/{proposal.pk}/VoucherPages", {"file": "x"})

    assert response.status_code == 415


def test_another_integrations_voucher_is_not_found(client, api, company, proposal):
    other = Api(
        client,
        make_subscription(
            company, make_application(application_key="annen-app", subscription_key="annen-sub")
        ),
    )

    assert upload(other, proposal.pk).status_code == 404
    assert other.get(f"JournalEntryVouchers/BankJournals/{proposal.pk}").status_code == 404


def test_the_inbox_shows_the_page_and_serves_it(client, proposal):
    from pogo_sandbox.screens.access import SESSION_COMPANY, SESSION_USER
    from tests.pogo_sandbox.test_api_support import make_user

    domain.add_voucher_page(
        proposal, filename="oppgjor.pdf", content=PDF, content_type="application/pdf"
    )
    user = make_user(companies=[proposal.company])
    session = client.session
    session[SESSION_USER] = user.pk
    session[SESSION_COMPANY] = proposal.company.pk
    session.save()

    html = client.get("/pogo/bilagsmottak/").content.decode()
    page = proposal.pages.get()
    url = f"/pogo/bilagsmottak/{proposal.pk}/sider/{page.pk}/"
    assert url in html
    assert "oppgjor.pdf" in html

    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content == PDF
