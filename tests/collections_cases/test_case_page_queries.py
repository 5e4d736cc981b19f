"""The case page's reads (issue 19): a few queries whatever the case holds, compiled once per
process (``collections_cases.cases.prepared``), and the same amounts and rows as the ORM's
selectors — never stale after a write."""

import re
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from collections_cases.cases import page_selectors
from collections_cases.cases.prepared import PreparedQuery
from collections_cases.cases.services import case_add_note
from collections_cases.models import CollectionCase
from collections_cases.payments.services import payment_register
from collections_cases.plans.services import payment_plan_request
from integrations.models import OutboxMessage
from integrations.selectors import case_pogo_refusal
from tests.collections_cases.factories_pages import open_case
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _page(client, case) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("case_detail", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def _pay(case, amount: str) -> None:
    payment_register(
        amount=Decimal(amount),
        paid_on=timezone.localdate(),
        external_reference=f"ref-{uuid.uuid4()}",
        case=case,
    )


def test_a_case_page_like_the_benchmarks_takes_at_most_10_queries(logged_in_client, creditor):
    case = open_case(creditor)
    _page(logged_in_client, case)  # compiles the page's queries

    _html, count = _page(logged_in_client, case)

    assert count <= 10


def test_the_queries_do_not_grow_with_what_the_case_holds(logged_in_client, creditor, user):
    from collections_cases.dunning.services import dunning_case_step

    case = open_case(creditor)
    dunning_case_step(case=case, on=timezone.localdate())  # a letter with its delivery
    _pay(case, "100.00")
    case_add_note(case=case, actor=user, text="Ringte skyldner.")
    payment_plan_request(
        case=case,
        instalment_count=2,
        first_due=timezone.localdate() + timezone.timedelta(days=14),
        actor="debtor",
    )
    _page(logged_in_client, case)  # the first visit also writes the session
    _html, one_each = _page(logged_in_client, case)

    _pay(case, "50.00")
    case_add_note(case=case, actor=user, text="Ringte igjen.")
    html, more = _page(logged_in_client, case)

    assert "Ringte igjen." in html and "Ringte skyldner." in html
    letter = case.letters.get()
    assert f'href="{reverse("letter_preview", args=[case.pk, letter.pk])}"' in html
    assert f'href="{reverse("letter_download", args=[case.pk, letter.pk])}"' in html
    assert more == one_each
    # 8 (session, user, case, ledger, invoices, letters, events, the header's creditors), plus
    # the deliveries, payments + allocations, plans + instalments: one query per table.
    assert more <= 13


def test_the_amounts_are_the_orms_to_the_ore(logged_in_client, creditor):
    case = open_case(creditor, amounts=("1000.10", "234.55"))
    _pay(case, "300.33")
    _pay(case, "0.07")

    page_case = page_selectors.case_page_detail(
        user=creditor.memberships.get().user, case_id=case.pk
    )
    full_case = CollectionCase.objects.get(pk=case.pk)

    on_page = page_selectors.case_breakdown(page_case)
    assert on_page == page_selectors.case_breakdown(full_case)
    assert on_page["payments"] == Decimal("-300.40")
    assert all(value == value.quantize(Decimal("0.01")) for value in on_page.values())


def test_what_an_action_changes_shows_on_the_page_at_once(logged_in_client, creditor):
    case = open_case(creditor)
    before, _ = _page(logged_in_client, case)

    logged_in_client.post(
        reverse("case_action", args=[case.pk, "note"]), {"note-text": "Avtalt ny frist."}
    )
    logged_in_client.post(
        reverse("case_action", args=[case.pk, "pause"]), {"pause-reason": "Venter på svar."}
    )
    after, _ = _page(logged_in_client, case)

    assert "Avtalt ny frist." not in before and "Avtalt ny frist." in after
    assert "Venter på svar." in after
    for action in ("resume", "note", "withdraw", "direct_payment", "mark_disputed"):
        assert f'action="{reverse("case_action", args=[case.pk, action])}"' in after
    assert f"/saker/{case.pk}/resume/" in after and f"/saker/{case.pk}/pause/" not in after


def test_the_timeline_names_the_acting_user_or_their_email(logged_in_client, creditor):
    case = open_case(creditor)
    named = UserFactory(first_name="Kari", last_name="Nordmann")
    nameless = UserFactory(first_name="", last_name="", email="anon@example.no")
    case_add_note(case=case, actor=named, text="Fra Kari.")
    case_add_note(case=case, actor=nameless, text="Fra anon.")

    html, _ = _page(logged_in_client, case)

    assert "Kari Nordmann" in html
    assert "anon@example.no" in html


def test_the_refusal_from_poweroffice_shows_only_while_the_case_is_not_in_go(
    logged_in_client, creditor
):
    case = open_case(creditor)
    OutboxMessage.objects.create(
        kind=OutboxMessage.Kind.CREATE_CASE,
        creditor=creditor,
        case=case,
        dedupe_key=f"create-{case.pk}",
        status=OutboxMessage.Status.FAILED,
        last_error="Fakturaen er ikke godkjent <for> inkasso",
    )

    refused, _ = _page(logged_in_client, case)
    CollectionCase.objects.filter(pk=case.pk).update(pogo_case_id=uuid.uuid4())
    in_go, _ = _page(logged_in_client, case)

    assert case_pogo_refusal(case=case) is not None
    assert "data-pogo-refusal" in refused
    assert "Fakturaen er ikke godkjent &lt;for&gt; inkasso" in refused
    assert "data-pogo-refusal" not in in_go


def test_another_users_case_is_not_read(creditor):
    case = open_case(creditor)
    stranger = MembershipFactory().user

    with pytest.raises(Http404):
        page_selectors.case_page_detail(user=stranger, case_id=case.pk)


def test_a_prepared_query_runs_with_each_call_s_ids(creditor):
    first, second = open_case(creditor), open_case(creditor)
    prepared = PreparedQuery(
        lambda *, case_id: CollectionCase.objects.filter(pk=case_id).only("number"), "case_id"
    )

    assert [c.number for c in prepared.raw(case_id=first.pk)] == [first.number]
    assert [c.number for c in prepared.raw(case_id=second.pk)] == [second.number]
    assert list(prepared.raw(case_id=-1)) == []


def test_a_prepared_query_refuses_ids_it_cannot_pass_on(creditor):
    case = open_case(creditor)
    ignores_the_id = PreparedQuery(lambda *, case_id: CollectionCase.objects.all(), "case_id")

    with pytest.raises(ValueError, match="case_id"):
        list(ignores_the_id.raw(case_id=case.pk))
    with pytest.raises(TypeError):
        PreparedQuery(lambda *, case_id: CollectionCase.objects.all(), "case_id").raw(pk=1)


def test_a_prepared_query_refuses_a_parameter_that_would_go_stale(creditor):
    """A date computed when the query is built would be kept for the life of the process.
    PostgreSQL's (production's) parameters carry the date as a date; SQLite's backend turns it
    into text before the check can see it."""
    import datetime as dt

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite's parameters carry dates as text")

    case = open_case(creditor)
    with_a_date = PreparedQuery(
        lambda *, case_id: CollectionCase.objects.filter(
            pk=case_id, created_at__date__lte=dt.date(2030, 1, 1)
        ),
        "case_id",
    )

    with pytest.raises(ValueError, match="kept for good"):
        list(with_a_date.raw(case_id=case.pk))


def test_the_pages_forms_share_one_csrf_token_that_is_accepted(creditor, user):
    from django.test import Client

    case = open_case(creditor)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    html, _ = _page(client, case)
    tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html))
    response = client.post(
        reverse("case_action", args=[case.pk, "note"]),
        {"csrfmiddlewaretoken": tokens.pop(), "note-text": "Med riktig token."},
    )

    assert not tokens  # the layout's forms and the case's: one token
    assert response.status_code == 302
    assert case.events.filter(message__contains="Med riktig token.").exists()
