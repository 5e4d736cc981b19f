import pytest
from django.urls import reverse

from tests.factories import CreditorFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    return client


def test_staff_find_creditors_by_org_number_and_name(staff_client):
    CreditorFactory(org_number="923609016", name="Fjordkaffe AS")
    CreditorFactory(org_number="974760673", name="Nordlys Rør AS")
    url = reverse("admin:creditors_creditor_changelist")

    by_number = staff_client.get(url, {"q": "974760673"})
    by_name = staff_client.get(url, {"q": "fjordkaffe"})

    assert [c.name for c in by_number.context["cl"].result_list] == ["Nordlys Rør AS"]
    assert [c.name for c in by_name.context["cl"].result_list] == ["Fjordkaffe AS"]


def test_staff_see_users_and_memberships(staff_client):
    membership = MembershipFactory()

    users = staff_client.get(
        reverse("admin:creditors_user_changelist"), {"q": membership.user.email}
    )
    creditor_page = staff_client.get(
        reverse("admin:creditors_creditor_change", args=[membership.creditor.pk])
    )
    memberships = staff_client.get(reverse("admin:creditors_membership_changelist"))

    assert users.context["cl"].result_count == 1
    assert creditor_page.status_code == 200
    assert memberships.context["cl"].result_count == 1


def test_customers_cannot_open_the_admin(logged_in_client):
    response = logged_in_client.get(reverse("admin:creditors_creditor_changelist"))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
