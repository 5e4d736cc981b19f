import pytest

from tests.factories import MembershipFactory, UserFactory

pytest_plugins = ["tests.support.pogo_http"]

PASSWORD = "Sterkt-passord-123"


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def creditor(user):
    membership = MembershipFactory(user=user)
    return membership.creditor


@pytest.fixture
def logged_in_client(client, user):
    client.force_login(user)
    return client
