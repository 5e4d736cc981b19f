import pytest
from django.urls import reverse

from creditors.models import Creditor, Membership
from tests.factories import CreditorFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _add(client, org_number, name="Fjordkaffe AS", email=""):
    return client.post(
        reverse("creditor_add"), {"org_number": org_number, "name": name, "email": email}
    )


@pytest.mark.parametrize("org_number", ["923609016", "974760673", "923 609 016"])
def test_adding_a_creditor_with_a_valid_org_number_makes_the_user_owner(
    logged_in_client, user, org_number
):
    response = _add(logged_in_client, org_number)

    creditor = Creditor.objects.get()
    assert creditor.org_number == org_number.replace(" ", "")
    assert creditor.email == user.email
    assert Membership.objects.get(user=user, creditor=creditor).role == Membership.Role.OWNER
    assert response["Location"] == reverse("creditor_settings", args=[creditor.pk])


@pytest.mark.parametrize(
    ("org_number", "message"),
    [
        ("923609017", "kontrollsifferet stemmer ikke"),
        ("12345678", "9 siffer"),
        ("abcdefghi", "bare av siffer"),
    ],
)
def test_an_invalid_org_number_is_refused_with_a_clear_message(
    logged_in_client, org_number, message
):
    response = _add(logged_in_client, org_number)

    assert response.status_code == 200
    assert not Creditor.objects.exists()
    errors = " ".join(response.context["form"].errors["org_number"])
    assert message in errors


def test_a_duplicate_org_number_is_refused_naming_the_situation(logged_in_client):
    CreditorFactory(org_number="923609016")

    response = _add(logged_in_client, "923609016")

    assert response.status_code == 200
    assert Creditor.objects.count() == 1
    assert "allerede registrert" in " ".join(response.context["form"].errors["org_number"])


def test_adding_your_own_creditor_twice_says_so(logged_in_client, creditor):
    response = _add(logged_in_client, creditor.org_number)

    assert "Du har allerede lagt til" in " ".join(response.context["form"].errors["org_number"])


def _settings_data(creditor, **overrides):
    data = {
        "name": creditor.name,
        "address_line": "Storgata 1",
        "postal_code": "0155",
        "postal_city": "Oslo",
        "email": "post@fjordkaffe.no",
        "bank_account": "8601 11 17947",
        "vat_registered": "on",
        "bookkeeping_mode": "unposted",
        "account_bank": "1920",
        "account_receivables": "1500",
        "account_collection_cost": "7770",
        "account_input_vat": "2710",
        "account_interest_income": "8050",
        "account_loss": "7830",
        "auto_start_released_invoices": "on",
        "entry_step": "inkassovarsel",
        "settlement_frequency": "weekly",
        "interest_to": "agency",
        "notification_frequency": "daily",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_settings_page_shows_the_seed_groups_and_advice(logged_in_client, creditor):
    response = logged_in_client.get(reverse("creditor_settings", args=[creditor.pk]))

    content = response.content.decode()
    for heading in [
        "Selskapsinformasjon",
        "Bokføring",
        "Kontoer",
        "Manuell godkjenning",
        "Automatisering",
    ]:
        assert heading in content
    assert "Jeg ønsker å godkjenne alle inkassosaker før start" in content
    assert "overstyrer" in content


def test_the_settings_page_in_english_has_no_norwegian_payout_label(logged_in_client, creditor):
    """The payout account label was frozen in Norwegian at import (str.capitalize())."""
    logged_in_client.post(reverse("set_language"), {"language": "en", "next": "/"})

    content = logged_in_client.get(reverse("creditor_settings", args=[creditor.pk])).content
    content = content.decode()

    assert "Bank account for payouts" in content
    assert "Kontonummer for utbetaling" not in content


def _card(content: str, heading: str) -> str:
    """The settings card under ``heading``: from its <h2> to the card's end."""
    start = content.index(f"<h2>{heading}</h2>")
    return content[start : content.index("</section>", start)]


def test_the_approval_advice_sits_in_the_approval_card_not_under_kontoer(
    logged_in_client, creditor
):
    content = logged_in_client.get(reverse("creditor_settings", args=[creditor.pk])).content
    content = content.decode()

    assert "godkjenningen i Go overstyrer" in _card(content, "Manuell godkjenning")
    assert "overstyrer" not in _card(content, "Kontoer")
    assert content.count("overstyrer disse") == 1


def test_settings_save_every_field(logged_in_client, creditor):
    response = logged_in_client.post(
        reverse("creditor_settings", args=[creditor.pk]),
        _settings_data(
            creditor,
            bookkeeping_mode="posted",
            account_bank="1921",
            approve_payment_demands="on",
            auto_start_released_invoices=None,
            entry_step="betalingsoppfordring",
            attach_original_invoice="on",
            notify_disputes="on",
            settlement_frequency="daily",
            interest_to="creditor",
        ),
    )

    assert response.status_code == 302
    creditor.refresh_from_db()
    assert creditor.settlement_frequency == "daily"
    assert creditor.interest_to == "creditor"
    assert creditor.bank_account == "86011117947"
    assert creditor.bookkeeping_mode == "posted"
    assert creditor.account_bank == 1921
    assert creditor.approve_payment_demands is True
    assert creditor.approve_cases_before_start is False
    assert creditor.auto_start_released_invoices is False
    assert creditor.entry_step == "betalingsoppfordring"
    assert creditor.attach_original_invoice is True
    assert creditor.notify_disputes is True
    assert creditor.notify_weekly_summary is False


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("bank_account", "86011117948"),
        ("bank_account", "1234"),
        ("account_bank", "12"),
        ("bookkeeping_mode", "whatever"),
        ("settlement_frequency", "hourly"),
        ("interest_to", "nobody"),
    ],
)
def test_invalid_settings_are_shown_inline_and_nothing_is_saved(
    logged_in_client, creditor, field, value
):
    before = Creditor.objects.filter(pk=creditor.pk).values().get()

    response = logged_in_client.post(
        reverse("creditor_settings", args=[creditor.pk]),
        _settings_data(creditor, name="Nytt navn AS", **{field: value}),
    )

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Creditor.objects.filter(pk=creditor.pk).values().get() == before


def test_another_users_creditor_is_404_on_every_page(client, creditor):
    stranger = UserFactory()
    client.force_login(stranger)

    assert client.get(reverse("creditor_settings", args=[creditor.pk])).status_code == 404
    response = client.post(
        reverse("creditor_settings", args=[creditor.pk]), _settings_data(creditor, name="Hacked")
    )
    assert response.status_code == 404
    assert client.post(reverse("creditor_switch"), {"creditor_id": creditor.pk}).status_code == 404
    creditor.refresh_from_db()
    assert creditor.name != "Hacked"


def test_an_accountant_with_several_creditors_picks_the_active_one(logged_in_client, user):
    first = MembershipFactory(user=user, creditor=CreditorFactory(name="A Første AS")).creditor
    second = MembershipFactory(user=user, creditor=CreditorFactory(name="B Andre AS")).creditor

    page = logged_in_client.get(reverse("settings_index"))
    assert page.context["active_creditor"].pk == first.pk
    logged_in_client.post(reverse("creditor_switch"), {"creditor_id": second.pk})
    page = logged_in_client.get(reverse("settings_index"))

    assert page.context["active_creditor"].pk == second.pk
    assert 'id="creditor-picker"' in page.content.decode()


def test_switching_creditor_never_redirects_off_site(logged_in_client, creditor):
    response = logged_in_client.post(
        reverse("creditor_switch"), {"creditor_id": creditor.pk, "next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("home")


def test_home_sends_a_new_user_to_add_a_creditor_and_others_to_their_cases(logged_in_client, user):
    assert logged_in_client.get(reverse("home"))["Location"] == reverse("creditor_add")
    MembershipFactory(user=user)
    assert logged_in_client.get(reverse("home"))["Location"] == reverse("dashboard")
