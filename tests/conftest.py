import pytest
from django.utils import translation

from tests.factories import MembershipFactory, UserFactory

pytest_plugins = ["tests.support.pogo_http"]

PASSWORD = "Sterkt-passord-123"


@pytest.fixture(autouse=True)
def _an_empty_cache():
    """Every test starts with an empty Django cache (local memory, or Redis in CI): a value
    one test cached under a user's or a case's id (the header's creditor names, say) must not
    show in another test whose rows got the same ids."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _reset_the_active_language():
    """Every test starts and ends in the default language (settings.LANGUAGE_CODE): a request
    through LocaleMiddleware, ``translation.activate`` or a command leaves its language active
    in the thread, and the tests after it would render English instead of bokmål."""
    translation.deactivate()
    yield
    translation.deactivate()


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


@pytest.fixture
def rates_known_through(monkeypatch):
    """``rates_known_through(day)``: as if the forsinkelsesrente and the inkassosats of the days
    up to ``day`` were published, at the last rows' values — for tests about something else
    (PowerOffice faults, processes) that walk past the real tables' end; a step past a table
    is held (collections_cases.rules.RuleUnknown), which those tests do not test."""
    from collections_cases import rules

    def extend(day):
        for name in ("LATE_INTEREST_RATES", "INKASSOSATS"):
            table = getattr(rules, name)
            if table.known_until is not None and table.known_until < day:
                monkeypatch.setattr(
                    rules, name, rules.DatedTable(table.name, table.rows, known_until=day)
                )

    return extend
