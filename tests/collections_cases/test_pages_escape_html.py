"""A debtor's name comes from the creditor's accounting system (and a case number from us;
an invoice number is a number in the database, so it cannot carry markup): whatever they
hold, every page shows it as text. The Saker rows and the case page's body are
Jinja2 fragments, the rest Django templates; each page is checked, so a ``|safe``, a
``mark_safe`` or an engine without autoescaping on any of them fails here."""

import markupsafe
import pytest
from django.utils.html import escape

from collections_cases.models import CollectionCase
from tests.collections_cases.factories import InvoiceFactory
from tests.collections_cases.factories_pages import collectable_debtor, open_case, overdue

pytestmark = pytest.mark.django_db

NAME = '<script>alert("debtor")</script>'
CASE = "<script>K1</script>"  # a case number has 20 characters at most


def _assert_shown_as_text(response, *payloads):
    assert response.status_code == 200
    html = response.content.decode()
    for payload in payloads:
        assert payload not in html
        assert escape(payload) in html or str(markupsafe.escape(payload)) in html
    return html


@pytest.fixture
def hostile_case(creditor):
    debtor = collectable_debtor(creditor, name=NAME)
    case = open_case(creditor, debtor=debtor)
    CollectionCase.objects.filter(pk=case.pk).update(number=CASE)
    return case


def test_the_saker_rows_escape_the_debtor_name_and_case_number(logged_in_client, hostile_case):
    html = _assert_shown_as_text(logged_in_client.get("/saker/"), NAME, CASE)
    assert "&lt;script&gt;alert(&#34;debtor&#34;)&lt;/script&gt;" in html
    assert "&lt;script&gt;K1&lt;/script&gt;" in html


def test_the_saker_search_for_a_script_is_shown_as_text(logged_in_client, hostile_case):
    response = logged_in_client.get("/saker/", {"q": "<script>alert(1)</script>"})
    _assert_shown_as_text(response, "<script>alert(1)</script>")


def test_the_case_page_escapes_the_debtor_name_and_case_number(logged_in_client, hostile_case):
    html = _assert_shown_as_text(logged_in_client.get(f"/saker/{hostile_case.pk}/"), NAME, CASE)
    assert "&lt;script&gt;alert(&#34;debtor&#34;)&lt;/script&gt;" in html  # the Jinja2 body
    assert "<title>Sak &lt;script&gt;K1&lt;/script&gt;" in html  # the Django layout


def test_the_debtor_list_and_page_escape_the_name(logged_in_client, hostile_case):
    _assert_shown_as_text(logged_in_client.get("/skyldnere/"), NAME)
    _assert_shown_as_text(logged_in_client.get(f"/skyldnere/{hostile_case.debtor_id}/"), NAME)


def test_ready_for_collection_escapes_the_debtor_name(logged_in_client, creditor):
    debtor = collectable_debtor(creditor, name=NAME)
    InvoiceFactory(debtor=debtor, due_date=overdue(30))
    _assert_shown_as_text(logged_in_client.get("/klar-for-inkasso/"), NAME)
