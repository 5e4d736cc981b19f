"""Admin: bank-file upload (size and content checked, all or nothing) and refunds of
overpayments."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from collections_cases.models import CaseEvent, CollectionCase, Payment, PaymentImport
from collections_cases.payments import services
from kravia_web.errors import ApplicationError
from tests.collections_cases.test_payments_import import fixture, owing

pytestmark = pytest.mark.django_db

UPLOAD = "admin:collections_cases_paymentimport_upload"


def upload(admin_client, name, content):
    return admin_client.post(
        reverse(UPLOAD), {"file": SimpleUploadedFile(name, content)}, follow=True
    )


def test_upload_imports_a_camt054_file(admin_client):
    case = owing("123456782")

    response = upload(admin_client, "camt.xml", fixture("camt054_payments.xml"))

    assert response.status_code == 200
    assert "4 nye innbetalinger (1 koblet til sak, 3 til manuell behandling)" in (
        response.content.decode()
    )
    case.refresh_from_db()
    assert case.status == CollectionCase.Status.CLOSED
    assert PaymentImport.objects.count() == 1


def test_upload_of_a_malformed_file_imports_nothing_and_says_why(admin_client):
    response = upload(admin_client, "bad.txt", fixture("ocr_bad_length.txt"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "kan ikke importeres" in body and "Ingenting er importert" in body
    assert not Payment.objects.exists() and not PaymentImport.objects.exists()


def test_upload_twice_imports_nothing_new(admin_client):
    upload(admin_client, "ocr.txt", fixture("ocr_payments.txt"))
    count = Payment.objects.count()

    response = upload(admin_client, "ocr-igjen.txt", fixture("ocr_payments.txt"))

    assert "allerede importert" in response.content.decode()
    assert Payment.objects.count() == count


def test_upload_refuses_large_and_empty_files(admin_client, settings):
    settings.PAYMENT_FILE_MAX_BYTES = 100
    response = upload(admin_client, "big.xml", b"<a>" + b"x" * 200 + b"</a>")
    assert "for stor" in response.content.decode()
    response = upload(admin_client, "empty.xml", b"")
    assert response.status_code == 200
    assert not PaymentImport.objects.exists()


def test_upload_needs_permission_to_add_payments(client, django_user_model):
    staff = django_user_model.objects.create_user(
        email="staff@kravia.example", password="x", is_staff=True
    )
    client.force_login(staff)
    response = client.post(
        reverse(UPLOAD), {"file": SimpleUploadedFile("ocr.txt", fixture("ocr_payments.txt"))}
    )
    assert response.status_code == 403
    assert not Payment.objects.exists()


def test_changelist_links_to_the_upload(admin_client):
    body = admin_client.get(reverse("admin:collections_cases_paymentimport_changelist"))
    assert reverse(UPLOAD) in body.content.decode()


def test_overpayment_is_marked_refunded_with_an_event(admin_user):
    case = owing("123456782", amount="100.00")
    payment = services.payment_register(
        amount=Decimal("150.00"), paid_on=case.created_at.date(), external_reference="x", case=case
    )

    services.payment_mark_refunded(payment=payment, actor=admin_user)

    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    event = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.PAYMENT).latest("pk")
    assert "Overbetaling kr 50,00 tilbakebetalt" in event.message
    with pytest.raises(ApplicationError):
        services.payment_mark_refunded(payment=payment, actor=admin_user)


def test_a_payment_without_overpayment_cannot_be_refunded(admin_client):
    case = owing("123456782", amount="1000.00")
    payment = services.payment_register(
        amount=Decimal("150.00"), paid_on=case.created_at.date(), external_reference="y", case=case
    )

    response = admin_client.post(
        reverse("admin:collections_cases_payment_changelist"),
        {"action": "mark_refunded", "_selected_action": [payment.pk]},
        follow=True,
    )

    assert "ingen overbetaling" in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.ALLOCATED
