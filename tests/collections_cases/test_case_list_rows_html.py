"""The Saker table's rows are a Jinja2 template (``views.case_rows_html``, for speed: see its
comment): the same HTML as the Django template loop they replace, every value escaped.
Jinja2 (MarkupSafe) writes a quote as ``&#34;`` and an apostrophe as ``&#39;`` where Django
writes ``&quot;`` and ``&#x27;`` — the same characters; ``_same_entities`` spells them alike,
and nothing else is normalised (a value left unescaped still fails)."""

import pytest
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext

from collections_cases.cases.page_selectors import CaseRow
from collections_cases.cases.views import case_rows_html
from collections_cases.models import CollectionCase
from tests.collections_cases.factories import CollectionCaseFactory
from tests.collections_cases.factories_pages import open_case

#: The row loop ``case_list.html`` had (kept here as the reference for the same HTML).
TEMPLATE_LOOP = """  {% for row in rows %}
    <tr>
      <td class="nowrap"><a href="{{ row.url }}">{{ row.number }}</a></td>
      <td>{{ row.debtor_name }}</td>
      <td><span class="{{ row.status_badge }}">{{ row.status_label }}</span>
<div class="small muted">{{ row.detail_label }}</div></td>
      <td class="amount{% if row.closed %} closed{% endif %}">{{ row.balance }}</td>
      <td>{% if row.next_action_label %}{{ row.next_action_label }}{% if row.next_action_date %}<div class="small muted">{{ row.next_action_date }}</div>{% endif %}{% else %}<span class="muted">–</span>{% endif %}</td>
      <td class="nowrap">{{ row.created }}</td>
    </tr>
  {% endfor %}
  </tbody>"""


def _row(**changes) -> CaseRow:
    row = CaseRow(
        url="/saker/7/",
        number="K-2026-00007",
        debtor_name="Ola Nordmann",
        status_badge="badge ok",
        status_label="Aktiv",
        detail_label="Inkassovarsel",
        closed=False,
        balance="kr 1\u00a0234,50",
        next_action_label="Send betalingsoppfordring",
        next_action_date="01.12.2026",
        created="28.11.2026",
    )
    row.update(changes)
    return row


ROWS = [
    _row(),
    _row(
        debtor_name='Bakeri & Søn <AS> "Ø\'s"',
        number="<b>1</b>",
        url='/saker/8/?a=1&b="2"',
        closed=True,
        detail_label="Betalt & avsluttet",
        balance="-kr 0,01",
    ),
    _row(next_action_label="", next_action_date="01.12.2026"),
    _row(next_action_date=""),
    _row(status_badge="badge", status_label="", detail_label=""),
]


def _by_template(rows) -> str:
    return engines["django"].from_string(TEMPLATE_LOOP).render({"rows": rows})


def _same_entities(html: str) -> str:
    return html.replace("&#34;", "&quot;").replace("&#39;", "&#x27;")


@pytest.mark.parametrize("rows", [ROWS, ROWS[:1], []])
def test_rows_are_the_template_loops_bytes(rows):
    assert _same_entities("  " + str(case_rows_html(rows)) + "\n  </tbody>") == _by_template(rows)


def test_values_are_escaped():
    html = str(case_rows_html(ROWS[1:2]))
    assert "&lt;AS&gt;" in html and "&amp;" in html and "&#34;" in html and "&#39;" in html
    assert "<b>" not in html and "<AS>" not in html and '"Ø' not in html and "Ø's" not in html


@pytest.mark.django_db
def test_the_page_shows_the_rows_of_real_cases_as_the_template_did(creditor, logged_in_client):
    open_case(creditor)
    open_case(creditor, amounts=("1234.50", "10.00"), needs_approval=True)
    closing = open_case(creditor)
    CollectionCase.objects.filter(pk=closing.pk).update(
        status=CollectionCase.Status.CLOSED,
        close_reason=CollectionCase.CloseReason.choices[0][0],
        next_action="",
        next_action_date=None,
    )
    response = logged_in_client.get("/saker/")
    html = response.content.decode()
    rows = response.context["rows"]
    assert len(rows) == 3
    body = html[html.index("<tbody>") + len("<tbody>\n") : html.index("</tbody>") + len("</tbody>")]
    assert _same_entities(body) == _by_template(rows)
    assert {row["closed"] for row in rows} == {True, False}


@pytest.mark.django_db
@pytest.mark.parametrize("side", ["1", "2"])
def test_the_page_reads_only_the_fields_its_rows_show(creditor, logged_in_client, side):
    CollectionCaseFactory.create_batch(27, creditor=creditor)
    with CaptureQueriesContext(connection) as queries:
        response = logged_in_client.get(f"/saker/?per_side=25&side={side}")
    rows_sql = [
        q["sql"]
        for q in queries
        if q["sql"].startswith('SELECT "collections_cases_collectioncase"."id"')
        and '"creditors_debtor"."name"' in q["sql"]
    ]
    assert len(rows_sql) == 1
    assert '"collections_cases_collectioncase"."kid"' not in rows_sql[0]
    assert '"creditors_debtor"."org_number"' not in rows_sql[0]
    assert len(response.context["rows"]) == (25 if side == "1" else 2)
    assert all(row["debtor_name"] and row["balance"] for row in response.context["rows"])
