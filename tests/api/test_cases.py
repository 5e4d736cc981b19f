"""Contract tests of /api/v1/cases and the case actions."""

import datetime as dt

import pytest
from django.utils import timezone

from collections_cases.models import CaseEvent, CollectionCase, LedgerEntry
from tests.api.conftest import assert_error, make_case
from tests.collections_cases.factories import DebtorFactory

pytestmark = pytest.mark.django_db

CASE_KEYS = {
    "id",
    "number",
    "kid",
    "status",
    "stage",
    "approval_kind",
    "debtor",
    "balance",
    "next_action",
    "next_action_date",
    "paused_until",
    "close_reason",
    "closed_at",
    "created_at",
    "updated_at",
}


def test_list_shape_and_money_as_string(api, case):
    response = api.get("/api/v1/cases/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    [row] = body["results"]
    assert set(row) == CASE_KEYS
    assert row["balance"] == "1000.00"
    assert row["debtor"] == {"id": case.debtor_id, "name": case.debtor.name}


def test_list_filters(api, creditor):
    paused = make_case(creditor, status=CollectionCase.Status.PAUSED)
    later = make_case(creditor, stage=CollectionCase.Stage.BETALINGSOPPFORDRING)
    named = make_case(creditor, debtor=DebtorFactory(creditor=creditor, name="Særnavn Hansen"))

    def ids(query):
        response = api.get("/api/v1/cases/", query)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids({"status": "paused"}) == {paused.pk}
    assert ids({"stage": "betalingsoppfordring"}) == {later.pk}
    assert ids({"debtor": named.debtor_id}) == {named.pk}
    assert ids({"search": "særnavn"}) == {named.pk}
    assert ids({"search": named.number}) == {named.pk}
    future = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    assert ids({"updated_since": future}) == set()
    assert len(ids({})) == 3


def test_list_bad_filter_is_400(api):
    body = assert_error(api.get("/api/v1/cases/", {"status": "nonsense"}), 400, "validation_error")
    assert "status" in body["errors"]
    assert_error(api.get("/api/v1/cases/", {"updated_since": "yesterday"}), 400)


def test_cursor_pagination_walks_every_case_once(api, creditor):
    made = {make_case(creditor).pk for _ in range(5)}
    seen, url = [], "/api/v1/cases/?page_size=2"
    while url:
        body = api.get(url).json()
        seen.extend(row["id"] for row in body["results"])
        url = body["next"]
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(set(seen))


def test_detail_has_ledger_events_letters_amounts(api, case):
    response = api.get(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert CASE_KEYS <= set(body)
    assert body["amounts"]["principal_outstanding"] == "1000.00"
    assert body["ledger"][0]["kind"] == "principal"
    assert body["ledger"][0]["amount"] == "1000.00"
    assert body["invoices"][0]["balance"] == "1000.00"
    assert body["events"] == [] and body["letters"] == []
    assert "pause" in body["allowed_actions"] and "resume" not in body["allowed_actions"]


def test_pause_then_resume(api, case):
    until = (timezone.localdate() + dt.timedelta(days=10)).isoformat()
    response = api.post(f"/api/v1/cases/{case.pk}/pause/", {"reason": "Avtale", "until": until})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "paused"
    assert response.json()["paused_until"] == until
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.PAUSED)
    assert event.actor is None and event.actor_label.startswith("API (Regnskap")
    response = api.post(f"/api/v1/cases/{case.pk}/resume/", {})
    assert response.status_code == 200
    assert response.json()["status"] == "active"


def test_pause_in_the_past_is_400(api, case):
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    body = assert_error(
        api.post(f"/api/v1/cases/{case.pk}/pause/", {"reason": "x", "until": yesterday}), 400
    )
    assert "until" in body["errors"]


def test_withdraw_closes(api, case):
    response = api.post(f"/api/v1/cases/{case.pk}/withdraw/", {"reason": "Sendt ved en feil"})
    assert response.status_code == 200
    assert response.json()["status"] == "closed"
    assert response.json()["close_reason"] == "withdrawn"
    assert_error(api.post(f"/api/v1/cases/{case.pk}/withdraw/", {"reason": "igjen"}), 409)


def test_approve(api, creditor):
    waiting = make_case(
        creditor,
        status=CollectionCase.Status.AWAITING_APPROVAL,
        approval_kind=CollectionCase.ApprovalKind.START,
    )
    response = api.post(f"/api/v1/cases/{waiting.pk}/approve/", {})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "active"
    assert_error(api.post(f"/api/v1/cases/{waiting.pk}/approve/", {}), 409, "conflict")


def test_approve_legal(api, creditor):
    waiting = make_case(
        creditor,
        status=CollectionCase.Status.AWAITING_APPROVAL,
        approval_kind=CollectionCase.ApprovalKind.LEGAL,
        stage=CollectionCase.Stage.VARSEL_RETTSLIG,
    )
    response = api.post(f"/api/v1/cases/{waiting.pk}/approve/", {})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "legal"


def test_note(api, case):
    response = api.post(f"/api/v1/cases/{case.pk}/notes/", {"text": "Ringte skyldner."})
    assert response.status_code == 201
    assert response.json()["events"][0]["message"] == "Ringte skyldner."
    assert_error(api.post(f"/api/v1/cases/{case.pk}/notes/", {"text": "  "}), 400)


def test_direct_payment_reduces_principal_and_closes_when_paid(api, case):
    today = timezone.localdate().isoformat()
    response = api.post(
        f"/api/v1/cases/{case.pk}/payments/", {"amount": "400.50", "paid_on": today}
    )
    assert response.status_code == 201, response.content
    assert response.json()["amounts"]["principal_outstanding"] == "599.50"
    body = assert_error(
        api.post(f"/api/v1/cases/{case.pk}/payments/", {"amount": "600.00", "paid_on": today}),
        409,
    )
    assert "599" in body["message"]
    response = api.post(
        f"/api/v1/cases/{case.pk}/payments/", {"amount": "599.50", "paid_on": today}
    )
    assert response.json()["status"] == "closed"
    assert response.json()["close_reason"] == "paid_directly"


@pytest.mark.parametrize(
    "payload",
    [
        {"amount": "-5", "paid_on": "2026-01-01"},
        {"amount": "abc", "paid_on": "2026-01-01"},
        {"amount": "10.00"},
        {"amount": "10.00", "paid_on": "2999-01-01"},
        {"amount": "10.001", "paid_on": "2026-01-01"},
    ],
)
def test_direct_payment_invalid_is_400(api, case, payload):
    assert_error(api.post(f"/api/v1/cases/{case.pk}/payments/", payload), 400, "validation_error")
    assert not LedgerEntry.objects.filter(case=case, kind="direct_payment").exists()


def test_credit_note_partial_then_full_closes_as_credited(api, case):
    today = timezone.localdate().isoformat()
    invoice_no = case.invoices.get().invoice_no
    response = api.post(
        f"/api/v1/cases/{case.pk}/credit-notes/",
        {"amount": "250.00", "credited_on": today, "invoice_no": invoice_no, "reference": "KN-1"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amounts"]["principal_outstanding"] == "750.00"
    assert body["ledger"][-1]["kind"] == "credit_note"
    assert body["ledger"][-1]["invoice_no"] == invoice_no
    response = api.post(
        f"/api/v1/cases/{case.pk}/credit-notes/", {"amount": "750.00", "credited_on": today}
    )
    assert response.json()["status"] == "closed"
    assert response.json()["close_reason"] == "credited"


def test_credit_note_for_unknown_invoice_is_409(api, case):
    today = timezone.localdate().isoformat()
    assert_error(
        api.post(
            f"/api/v1/cases/{case.pk}/credit-notes/",
            {"amount": "10.00", "credited_on": today, "invoice_no": 99999999},
        ),
        409,
    )


def test_principal_outstanding_is_less_the_principal_part_of_a_payment(api, creditor):
    """Reference § 4b's worked example through the API: 2 000 paid on 25.06 covers the fee
    (37.50), the interest up to that day (39.45) and 1 923.05 of the principal."""
    import datetime as dt
    from decimal import Decimal

    from collections_cases.cases import services as case_services
    from collections_cases.payments.services import payment_register
    from tests.collections_cases.dunning_support import on_day, run
    from tests.collections_cases.factories import DebtorFactory, InvoiceFactory

    with on_day(dt.date(2026, 6, 16), hour=5):
        debtor = DebtorFactory(creditor=creditor)
        invoice = InvoiceFactory(
            debtor=debtor,
            invoice_date=dt.date(2026, 5, 18),
            due_date=dt.date(2026, 6, 1),
            total_amount=Decimal("5000.00"),
        )
        case = case_services.case_create(
            creditor=creditor, debtor=debtor, invoices=[invoice], needs_approval=False
        )
    run(dt.date(2026, 6, 16))
    with on_day(dt.date(2026, 6, 25), hour=12):
        payment_register(
            amount=Decimal("2000.00"),
            paid_on=dt.date(2026, 6, 25),
            external_reference="bank-2000",
            case=case,
        )

    amounts = api.get(f"/api/v1/cases/{case.pk}/").json()["amounts"]

    assert amounts["principal"] == "5000.00"
    assert amounts["principal_outstanding"] == "3076.95"
    assert amounts["interest"] == "39.45"
