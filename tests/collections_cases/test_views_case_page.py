"""The case page renders each unbound action form's fields once per process and language
(``views._fields_html``): the same HTML as rendering them, and a bound form with errors is
rendered as usual."""

import re

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from collections_cases.cases import views
from collections_cases.cases.forms import PauseForm
from tests.collections_cases.factories_pages import open_case

pytestmark = pytest.mark.django_db


def test_the_action_forms_fields_are_rendered_once_and_unchanged(creditor, logged_in_client):
    case = open_case(creditor)
    views._FIELDS_HTML.clear()

    first = logged_in_client.get(f"/saker/{case.pk}/").content.decode()
    second = logged_in_client.get(f"/saker/{case.pk}/").content.decode()

    with translation.override("nb"):
        fresh = render_to_string("form_fields.html", {"fields": PauseForm(prefix="pause")})
    assert ("pause", "nb") in views._FIELDS_HTML
    assert fresh in first
    assert _forms(first) == _forms(second)


def test_a_form_with_errors_is_rendered_with_them(creditor, logged_in_client):
    case = open_case(creditor)
    logged_in_client.get(f"/saker/{case.pk}/")  # the unbound fields are kept

    response = logged_in_client.post(f"/saker/{case.pk}/pause/", {"pause-reason": ""})

    html = response.content.decode()
    assert response.status_code == 200
    pause = html[html.index(f"/saker/{case.pk}/pause/") :].split("</form>")[0]
    assert "has-error" in pause and 'role="alert"' in pause


def _forms(html: str) -> list[str]:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return [part.split("</form>")[0] for part in html.split("<form")[1:]]
