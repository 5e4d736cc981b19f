"""Go's screens: login, company picker, Purring & inkasso settings, customer card and its actions."""

import datetime as dt
from decimal import Decimal

import pytest

from pogo_sandbox import domain
from pogo_sandbox.models import Company, Customer, LedgerEntry
from pogo_sandbox.screens.access import SESSION_COMPANY, SESSION_USER
from tests.pogo_sandbox.test_screens_support import GO_PASSWORD, make_company

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.pogo_sandbox.test_screens_support"]


def _text(response) -> str:
    return response.content.decode()


# --- Login --------------------------------------------------------------------------------------


def test_login_page_has_the_contract_fields(client):
    response = client.get("/pogo/logg-inn/?next=/pogo/kunder/")

    html = _text(response)
    assert response.status_code == 200
    assert '<label for="id_email">E-post</label>' in html
    assert '<label for="id_password">Passord</label>' in html
    assert 'name="next" value="/pogo/kunder/"' in html
    assert ">Logg inn</button>" in html


def test_login_success_goes_to_next(client, go_user, company):
    response = client.post(
        "/pogo/logg-inn/",
        {"email": go_user.email.upper(), "password": GO_PASSWORD, "next": "/pogo/kunder/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/pogo/kunder/"
    assert client.session[SESSION_USER] == go_user.pk


def test_login_refuses_an_offsite_next(client, go_user, company):
    response = client.post(
        "/pogo/logg-inn/",
        {"email": go_user.email, "password": GO_PASSWORD, "next": "https://evil.example/"},
    )

    assert response["Location"] == "/pogo/"


@pytest.mark.parametrize(
    ("email", "password"),
    [("regnskap@fjordbakst.example", "feil-passord"), ("ukjent@example.no", GO_PASSWORD)],
)
def test_login_failure_shows_a_message_and_logs_nobody_in(client, go_user, email, password):
    response = client.post("/pogo/logg-inn/", {"email": email, "password": password})

    assert response.status_code == 200
    assert "Feil e-post eller passord." in _text(response)
    assert SESSION_USER not in client.session


def test_sandbox_login_is_not_kundeweb_login(client, go_user, company, logged_in_client):
    """Logging out of Go leaves the Kundeweb login alone (two systems, one browser)."""
    client.post("/pogo/logg-inn/", {"email": go_user.email, "password": GO_PASSWORD})
    assert "_auth_user_id" in client.session

    response = client.post("/pogo/logg-ut/")

    assert response.status_code == 302
    assert SESSION_USER not in client.session
    assert "_auth_user_id" in client.session


def test_logout_needs_post(go_client):
    assert go_client.get("/pogo/logg-ut/").status_code == 405


def test_screens_need_the_sandbox_login(client, company):
    response = client.get("/pogo/kunder/")

    assert response.status_code == 302
    assert response["Location"] == "/pogo/logg-inn/?next=%2Fpogo%2Fkunder%2F"


# --- Company picker ---------------------------------------------------------------------------


def _log_in(client, user):
    session = client.session
    session[SESSION_USER] = user.pk
    session.save()


def test_one_company_goes_straight_in(client, go_user, company):
    _log_in(client, go_user)

    response = client.get("/pogo/")

    html = _text(response)
    assert response.status_code == 200
    assert "Fjordbakst AS" in html
    assert 'aria-label="Meny"' in html
    for item in ("Kunder", "Inkasso", "Bilagsmottak", "Innstillinger → Purring &amp; inkasso"):
        assert item in html
    assert client.session[SESSION_COMPANY] == company.pk


def test_several_companies_show_the_picker(client, go_user, company, other_company):
    _log_in(client, go_user)

    response = client.get("/pogo/")

    html = _text(response)
    assert "Velg selskap" in html
    assert "Fjordbakst AS" in html and "Org.nr. 310000107" in html
    assert "Tindesport AS" in html and "Org.nr. 310000212" in html
    assert SESSION_COMPANY not in client.session
    assert client.get("/pogo/kunder/")["Location"] == "/pogo/"

    response = client.post("/pogo/velg-selskap/", {"company_id": other_company.pk})

    assert response["Location"] == "/pogo/"
    assert client.session[SESSION_COMPANY] == other_company.pk
    assert "Tindesport AS" in _text(client.get("/pogo/"))


def test_picker_refuses_a_company_the_user_cannot_access(client, go_user, company, other_company):
    stranger = make_company("Fremmed AS", "310000301")
    _log_in(client, go_user)

    response = client.post("/pogo/velg-selskap/", {"company_id": stranger.pk})

    assert response.status_code == 400
    assert SESSION_COMPANY not in client.session


# --- Innstillinger → Purring & inkasso --------------------------------------------------------------


SETTINGS = {
    "payment_reminder_enabled": "on",
    "payment_reminder_days_after_due": "7",
    "payment_reminder_repeat_days": "3",
    "reminder_deadline_days": "14",
    "attach_original_invoice": "on",
    "auto_transfer_to_agency": "on",
}


def test_settings_page_shows_the_seed_recommendations(go_client):
    html = _text(go_client.get("/pogo/innstillinger/purring-og-inkasso/"))

    assert "Godkjenn automatisk fakturaoverføring til inkassobyrå" in html
    assert "Legg ved originalfaktura" in html
    assert "Vi anbefaler 5 dager etter forfall." in html
    assert "inkassovarsel 14 dager etter forfall" in html
    assert "tvungen KID" in html


def test_settings_save(go_client, company):
    response = go_client.post("/pogo/innstillinger/purring-og-inkasso/", SETTINGS, follow=True)

    assert "Innstillingene for purring og inkasso er lagret." in _text(response)
    company.refresh_from_db()
    assert company.payment_reminder_days_after_due == 7
    assert company.payment_reminder_repeat_days == 3
    assert company.auto_transfer_to_agency is True
    assert company.purring_enabled is False


def test_settings_refuse_a_short_inkassovarsel_deadline(go_client, company):
    data = {**SETTINGS, "inkassovarsel_enabled": "on", "reminder_deadline_days": "10"}

    response = go_client.post("/pogo/innstillinger/purring-og-inkasso/", data)

    assert response.status_code == 200
    assert "minst 14 dager" in _text(response)
    assert Company.objects.get(pk=company.pk).inkassovarsel_enabled is False


# --- Kunder ------------------------------------------------------------------------------------


def test_customer_list_search(go_client, company, customer):
    domain.create_customer(company, number=10002, name="Bakeriet Sør AS")

    html = _text(go_client.get("/pogo/kunder/?q=nordmann"))

    assert "Ola Nordmann" in html
    assert "Bakeriet Sør AS" not in html


def test_customer_list_shows_only_the_chosen_company(go_client, other_company, customer):
    domain.create_customer(other_company, number=20001, name="Annen Kunde AS")

    html = _text(go_client.get("/pogo/kunder/"))

    assert "Ola Nordmann" in html
    assert "Annen Kunde AS" not in html


def _card_data(customer, **changes):
    data = {
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email_address": customer.email_address,
        "country_code": "NO",
        "send_payment_reminders": "on",
        "reminder_delivery_type": "PdfByEmail",
        "notice_of_debt_collection_delivery_type": "Print",
    }
    if customer.transfer_to_debt_collection_agency:
        data["transfer_to_debt_collection_agency"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_customer_card_shows_the_purringer_flags(go_client, customer):
    html = _text(go_client.get(f"/pogo/kunder/{customer.pk}/"))

    for label in (
        "Overfør til inkassobyrå",
        "Send betalingspåminnelser og purringer",
        "Ikke legg til purregebyr",
        "Ikke beregn forsinkelsesrente",
        "Purring sendes som",
        "Inkassovarsel sendes som",
    ):
        assert label in html


def test_unticking_transfer_bumps_last_changed(go_client, customer):
    before = customer.last_changed

    response = go_client.post(
        f"/pogo/kunder/{customer.pk}/",
        _card_data(customer, transfer_to_debt_collection_agency=None, phone_number="+4791234567"),
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.transfer_to_debt_collection_agency is False
    assert customer.phone_number == "+4791234567"
    assert customer.notice_of_debt_collection_delivery_type == "Print"
    assert customer.last_changed > before


def test_customer_card_invalid_input_changes_nothing(go_client, customer):
    before = customer.last_changed

    response = go_client.post(
        f"/pogo/kunder/{customer.pk}/", _card_data(customer, email_address="ikke-en-epost")
    )

    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.email_address == "ola@example.no"
    assert customer.last_changed == before


def test_customer_of_another_company_is_not_found(go_client, other_company):
    stranger = domain.create_customer(other_company, number=20001, name="Annen Kunde AS")

    assert go_client.get(f"/pogo/kunder/{stranger.pk}/").status_code == 404


# --- Invoice actions on the customer card -----------------------------------------------------------


def _today():
    return domain.oslo_today()


def test_card_lists_invoices_with_balance_status_and_actions(go_client, invoice):
    html = _text(go_client.get(f"/pogo/kunder/{invoice.customer_id}/"))

    assert "1001" in html
    assert "kr 1\u00a0250,00" in html
    assert (invoice.due_date.strftime("%d.%m.%Y")) in html
    for button in ("Registrer innbetaling", "Kreditnota", "Avskriv"):
        assert f">{button}</button>" in html
    assert f'value="{_today():%d.%m.%Y}"' in html


def test_person_without_first_and_last_name_gets_them_from_the_name(go_client, company):
    person = domain.create_customer(company, number=10003, name="Kari Nordmann", is_person=True)

    html = _text(go_client.get(f"/pogo/kunder/{person.pk}/"))

    assert 'name="first_name" value="Kari"' in html
    assert 'name="last_name" value="Nordmann"' in html


def test_register_payment(go_client, invoice):
    url = f"/pogo/fakturaer/{invoice.pk}/innbetaling/"

    response = go_client.post(url, {"amount": "250,50", "on": _today().isoformat()}, follow=True)

    assert "Innbetaling på kr 250,50 er registrert på faktura 1001." in _text(response)
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("999.50")
    entry = LedgerEntry.objects.get(invoice=invoice, voucher_type="BankJournal")
    assert entry.amount == Decimal("-250.50")


def test_register_credit_note(go_client, invoice):
    on = invoice.voucher_date + dt.timedelta(days=1)

    go_client.post(
        f"/pogo/fakturaer/{invoice.pk}/kreditnota/",
        {"amount": "1 250,00", "on": on.strftime("%d.%m.%Y")},
    )

    invoice.refresh_from_db()
    assert invoice.balance == 0
    entry = LedgerEntry.objects.get(invoice=invoice, voucher_type="OutgoingCreditNote")
    assert entry.voucher_date == on


def test_write_off(go_client, invoice):
    go_client.post(f"/pogo/fakturaer/{invoice.pk}/avskriv/", {"on": _today().isoformat()})

    invoice.refresh_from_db()
    assert invoice.balance == 0
    assert LedgerEntry.objects.get(invoice=invoice, is_write_off=True).amount == Decimal("-1250")


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("innbetaling", {"amount": "0", "on": "today"}, "Beløpet må være større enn null."),
        ("innbetaling", {"amount": "-5", "on": "today"}, "Beløpet må være større enn null."),
        ("innbetaling", {"amount": "1250,01", "on": "today"}, "større enn restbeløpet"),
        ("kreditnota", {"amount": "abc", "on": "today"}, "Skriv et gyldig beløp."),
        ("innbetaling", {"amount": "100", "on": "31.02.2026"}, "Skriv en gyldig dato."),
        ("kreditnota", {"amount": "100", "on": "tomorrow"}, "Datoen kan ikke være frem i tid."),
        ("avskriv", {"on": ""}, "Velg en dato."),
        ("avskriv", {"on": "before"}, "Datoen kan ikke være før fakturadatoen."),
    ],
)
def test_bad_invoice_action_input_shows_inline_error_and_changes_nothing(
    go_client, invoice, action, data, message
):
    dates = {
        "today": _today().isoformat(),
        "tomorrow": (_today() + dt.timedelta(days=1)).isoformat(),
        "before": (invoice.voucher_date - dt.timedelta(days=1)).isoformat(),
    }
    data = {**data, "on": dates.get(data["on"], data["on"])}

    response = go_client.post(f"/pogo/fakturaer/{invoice.pk}/{action}/", data)

    assert response.status_code == 400
    assert message in _text(response)
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("1250.00")
    assert LedgerEntry.objects.filter(invoice=invoice).count() == 1


def test_paid_invoice_has_no_actions(go_client, invoice):
    domain.register_payment(invoice, amount=Decimal("1250.00"), on=_today())

    html = _text(go_client.get(f"/pogo/kunder/{invoice.customer_id}/"))
    response = go_client.post(
        f"/pogo/fakturaer/{invoice.pk}/avskriv/", {"on": _today().isoformat()}, follow=True
    )

    assert ">Avskriv</button>" not in html
    assert "har ingen åpen saldo" in _text(response)
    assert not LedgerEntry.objects.filter(invoice=invoice, is_write_off=True).exists()


def test_invoice_of_another_company_is_not_found(go_client, other_company):
    stranger = domain.create_customer(other_company, number=20001, name="Annen Kunde AS")
    foreign = domain.create_invoice(
        stranger,
        invoice_no=5001,
        voucher_date=_today(),
        due_date=_today(),
        total_amount=Decimal("100"),
    )

    response = go_client.post(
        f"/pogo/fakturaer/{foreign.pk}/innbetaling/",
        {"amount": "100", "on": _today().isoformat()},
    )

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.balance == Decimal("100")
    assert Customer.objects.filter(company=other_company).count() == 1


def test_screens_stay_norwegian_for_an_english_browser(go_client, invoice):
    response = go_client.get(f"/pogo/kunder/{invoice.customer_id}/", HTTP_ACCEPT_LANGUAGE="en")

    html = _text(response)
    assert "kr 1\u00a0250,00" in html
    assert "NOK" not in html
    assert "Overfør til inkassobyrå" in html
