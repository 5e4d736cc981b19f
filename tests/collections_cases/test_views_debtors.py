"""Kundeweb *Skyldnere*: list with counts and outstanding, edit contact and profile."""

from decimal import Decimal

import pytest
from django.urls import reverse

from creditors.models import Debtor
from tests.collections_cases.factories import DebtorFactory
from tests.collections_cases.factories_pages import collectable_debtor, open_case
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _form(debtor, **changes):
    data = {
        "email": debtor.email,
        "reminder_email": debtor.reminder_email,
        "phone": debtor.phone,
        "address_line": debtor.address_line,
        "postal_code": debtor.postal_code,
        "postal_city": debtor.postal_city,
        "entry_step": debtor.entry_step,
    }
    for flag in ("do_not_add_late_payment_interest", "do_not_add_late_payment_fees"):
        if getattr(debtor, flag):
            data[flag] = "on"
    if debtor.collection_opt_out:
        data["collection_opt_out"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_list_shows_open_cases_and_outstanding_per_debtor(logged_in_client, creditor):
    debtor = collectable_debtor(creditor, name="Aas Regnskap")
    open_case(creditor, debtor=debtor, amounts=("1000.00", "500.00"))
    open_case(creditor, debtor=debtor, amounts=("250.00",))
    DebtorFactory(creditor=creditor, name="Berg Bakeri")
    DebtorFactory(creditor=MembershipFactory().creditor, name="Fremmed AS")

    response = logged_in_client.get(reverse("debtor_list"))

    rows = {d.name: d for d in response.context["page"].object_list}
    assert set(rows) == {"Aas Regnskap", "Berg Bakeri"}
    assert rows["Aas Regnskap"].open_cases == 2
    assert rows["Aas Regnskap"].outstanding == Decimal("1750.00")
    assert rows["Berg Bakeri"].open_cases == 0
    assert "Fremmed AS" not in response.content.decode()


def test_the_list_searches_by_name_and_paginates(logged_in_client, creditor):
    for n in range(55):
        DebtorFactory(creditor=creditor, name=f"Kunde {n:02d}")
    DebtorFactory(creditor=creditor, name="Fjordkaffe AS")

    searched = logged_in_client.get(reverse("debtor_list"), {"q": "fjord"})
    second = logged_in_client.get(reverse("debtor_list"), {"side": 2})

    assert [d.name for d in searched.context["page"].object_list] == ["Fjordkaffe AS"]
    assert len(second.context["page"].object_list) == 6


def test_an_empty_list_says_where_debtors_come_from(logged_in_client, creditor):
    response = logged_in_client.get(reverse("debtor_list"))

    assert "Du har ingen skyldnere ennå" in response.content.decode()


@pytest.mark.parametrize("count", [5, 60])
def test_the_list_runs_a_constant_number_of_queries(
    logged_in_client, creditor, django_assert_max_num_queries, count
):
    for _ in range(count):
        open_case(creditor)

    with django_assert_max_num_queries(10):
        logged_in_client.get(reverse("debtor_list"))


def test_the_debtor_page_shows_the_debtors_cases(logged_in_client, creditor):
    debtor = collectable_debtor(creditor)
    case = open_case(creditor, debtor=debtor)

    response = logged_in_client.get(reverse("debtor_detail", args=[debtor.pk]))

    assert response.status_code == 200
    assert case.number in response.content.decode()


def test_editing_contact_details_and_the_collection_profile(logged_in_client, creditor):
    debtor = collectable_debtor(creditor)

    response = logged_in_client.post(
        reverse("debtor_detail", args=[debtor.pk]),
        _form(
            debtor,
            email="ny@example.no",
            reminder_email="faktura@example.no",
            phone="+47 900 00 000",
            address_line="Kirkegata 2",
            entry_step="betalingsoppfordring",
            do_not_add_late_payment_interest="on",
            collection_opt_out="on",
        ),
    )

    assert response["Location"] == reverse("debtor_detail", args=[debtor.pk])
    debtor.refresh_from_db()
    assert debtor.email == "ny@example.no"
    assert debtor.reminder_email == "faktura@example.no"
    assert debtor.phone == "+47 900 00 000"
    assert debtor.address_line == "Kirkegata 2"
    assert debtor.entry_step == "betalingsoppfordring"
    assert debtor.do_not_add_late_payment_interest is True
    assert debtor.do_not_add_late_payment_fees is False
    assert debtor.collection_opt_out is True


@pytest.mark.parametrize("field", ["email", "reminder_email"])
def test_an_invalid_email_is_an_inline_error_and_nothing_is_saved(
    logged_in_client, creditor, field
):
    debtor = collectable_debtor(creditor, email="gammel@example.no")

    response = logged_in_client.post(
        reverse("debtor_detail", args=[debtor.pk]),
        _form(debtor, **{field: "ikke-en-adresse", "phone": "12345678"}),
    )

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    saved = Debtor.objects.get(pk=debtor.pk)
    assert saved.email == "gammel@example.no"
    assert saved.phone == ""


def test_another_users_debtor_is_a_404_on_get_and_post(logged_in_client, creditor):
    foreign = DebtorFactory(creditor=MembershipFactory().creditor, email="a@example.no")
    url = reverse("debtor_detail", args=[foreign.pk])

    assert logged_in_client.get(url).status_code == 404
    assert logged_in_client.post(url, _form(foreign, email="b@example.no")).status_code == 404
    assert Debtor.objects.get(pk=foreign.pk).email == "a@example.no"


def test_a_debtor_of_another_of_the_users_creditors_becomes_the_active_one(
    logged_in_client, user, creditor
):
    second = MembershipFactory(user=user).creditor
    debtor = DebtorFactory(creditor=second)

    response = logged_in_client.get(reverse("debtor_detail", args=[debtor.pk]))

    assert response.status_code == 200
    assert response.context["active_creditor"].pk == second.pk


@pytest.mark.parametrize("name", ["case_list", "ready_for_collection", "debtor_list"])
def test_list_pages_send_a_user_without_creditors_to_add_one(logged_in_client, name):
    response = logged_in_client.get(reverse(name))

    assert response["Location"] == reverse("creditor_add")


@pytest.mark.parametrize("name", ["case_list", "ready_for_collection", "debtor_list"])
def test_list_pages_need_a_login(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_debtor_update_refuses_fields_it_does_not_own(creditor, user):
    from collections_cases.debtors.services import debtor_update
    from kravia_web.errors import ApplicationError

    debtor = DebtorFactory(creditor=creditor, name="Ola")

    with pytest.raises(ApplicationError):
        debtor_update(debtor=debtor, actor=user, data={"name": "Kari"})

    assert Debtor.objects.get(pk=debtor.pk).name == "Ola"


def test_debtor_update_validates_like_the_model(creditor, user):
    from collections_cases.debtors.services import debtor_update
    from kravia_web.errors import ApplicationError

    debtor = DebtorFactory(creditor=creditor, email="ok@example.no")

    with pytest.raises(ApplicationError) as raised:
        debtor_update(debtor=debtor, actor=user, data={"email": "nei", "phone": "1"})

    assert "email" in raised.value.extra["fields"]
    saved = Debtor.objects.get(pk=debtor.pk)
    assert (saved.email, saved.phone) == ("ok@example.no", "")
