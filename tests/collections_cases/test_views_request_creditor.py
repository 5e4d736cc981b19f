"""The Saker list and the case page read the user's creditors once per request: the view and
the header's context processor share ``creditor_choices_for_request``."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from creditors.models import Creditor
from creditors.selectors import ACTIVE_CREDITOR_SESSION_KEY
from tests.collections_cases.factories_pages import open_case
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _creditor_reads(queries) -> int:
    """Reads of creditor rows (not the scoping subqueries of the case queries)."""
    return sum(1 for q in queries if q["sql"].startswith(f'SELECT "{Creditor._meta.db_table}".'))


def _picker(html: str) -> str:
    return html[html.index('<select id="creditor-picker"') :].split("</select>")[0]


def test_the_list_reads_the_creditors_once_and_shows_the_active_one(user, logged_in_client):
    first = MembershipFactory(user=user, creditor__name="A Kreditor").creditor
    second = MembershipFactory(user=user, creditor__name="B Kreditor").creditor
    open_case(second)
    session = logged_in_client.session
    session[ACTIVE_CREDITOR_SESSION_KEY] = second.pk
    session.save()

    with CaptureQueriesContext(connection) as queries:
        response = logged_in_client.get("/saker/")

    assert _creditor_reads(queries) == 1
    assert response.context["creditor"] == second
    assert response.context["active_creditor"] == second
    assert list(response.context["user_creditors"]) == [first, second]
    picker = _picker(response.content.decode())
    assert f'<option value="{second.pk}" selected>' in picker
    assert f'<option value="{first.pk}">' in picker


def test_an_unknown_active_creditor_falls_back_to_the_first_by_name(user, logged_in_client):
    MembershipFactory(user=user, creditor__name="B Kreditor")
    first = MembershipFactory(user=user, creditor__name="A Kreditor").creditor
    not_mine = MembershipFactory(creditor__name="C Kreditor").creditor
    session = logged_in_client.session
    session[ACTIVE_CREDITOR_SESSION_KEY] = not_mine.pk
    session.save()

    response = logged_in_client.get("/saker/")

    assert response.context["creditor"] == first
    assert response.context["active_creditor"] == first


def test_a_case_page_of_another_creditor_shows_that_one_active_in_the_header(
    user, logged_in_client
):
    MembershipFactory(user=user, creditor__name="A Kreditor")
    second = MembershipFactory(user=user, creditor__name="B Kreditor").creditor
    case = open_case(second)
    logged_in_client.get("/saker/")  # remembers A as active on that request only

    with CaptureQueriesContext(connection) as queries:
        response = logged_in_client.get(f"/saker/{case.pk}/")
    with CaptureQueriesContext(connection) as again:
        logged_in_client.get(f"/saker/{case.pk}/")

    assert response.context["active_creditor"].pk == second.pk
    assert f'<option value="{second.pk}" selected>' in _picker(response.content.decode())
    assert _creditor_reads(queries) == 1  # the header's names (the case joins its own) …
    assert _creditor_reads(again) == 0  # … then from the cache


def test_the_headers_cached_names_follow_every_committed_change(
    user, logged_in_client, django_capture_on_commit_callbacks
):
    """The names come from the cache after the first page, and a membership added or removed,
    or a creditor renamed, shows on the next page once committed."""
    with django_capture_on_commit_callbacks(execute=True):
        first = MembershipFactory(user=user, creditor__name="A Kreditor").creditor
    case = open_case(first)
    page = f"/saker/{case.pk}/"

    def picker_or_name():
        html = logged_in_client.get(page).content.decode()
        return html[html.index("<header") : html.index("</header>")]

    assert "A Kreditor" in picker_or_name()
    with django_capture_on_commit_callbacks(execute=True):
        second = MembershipFactory(user=user, creditor__name="B Kreditor")
    assert "B Kreditor" in picker_or_name()

    with django_capture_on_commit_callbacks(execute=True):
        first.name = "A Kreditor Omdøpt"
        first.save()
    assert "A Kreditor Omdøpt" in picker_or_name()

    with django_capture_on_commit_callbacks(execute=True):
        second.delete()
    assert "B Kreditor" not in picker_or_name()


def test_names_read_before_a_commit_are_not_read_after_it(user):
    """A request that read the names before another's commit caches them under the version it
    saw; the commit's new version makes the next request read the database."""
    from django.core.cache import cache
    from django.test import RequestFactory

    from creditors.selectors import (
        CreditorName,
        _names_version_key,
        creditor_header_for_request,
        creditor_header_names_changed,
    )

    MembershipFactory(user=user, creditor__name="A Kreditor")
    request = RequestFactory().get("/")
    request.user, request.session = user, {}
    names, _active = creditor_header_for_request(request)
    assert [c.name for c in names] == ["A Kreditor"]
    seen = cache.get(_names_version_key(user.pk))

    MembershipFactory(user=user, creditor__name="B Kreditor")  # committed …
    creditor_header_names_changed(user_ids=[user.pk])  # … and announced
    # A request that read before that commit writes its names late, under the version it saw.
    cache.set(f"creditors:header-names:{user.pk}:{seen}", [CreditorName(0, "Gammel")], 300)
    names, _active = creditor_header_for_request(request)

    assert [c.name for c in names] == ["A Kreditor", "B Kreditor"]
