"""Kundeweb *Saker* and the case page: scoping, filters, query counts and every action."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from collections_cases.cases.services import case_pause
from collections_cases.models import CaseEvent, CollectionCase, LedgerEntry
from tests.collections_cases.factories import InvoiceFactory
from tests.collections_cases.factories_pages import collectable_debtor, open_case
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

Status = CollectionCase.Status


@pytest.fixture
def other_case(db):
    """A case of a creditor the logged-in user is not a member of."""
    return open_case(MembershipFactory().creditor)


def _action(client, case, action, data=None):
    return client.post(reverse("case_action", args=[case.pk, action]), data or {})


def _refresh(case):
    return CollectionCase.objects.get(pk=case.pk)


def _events(case, kind):
    return CaseEvent.objects.filter(case=case, kind=kind).count()


# --------------------------------------------------------------------------------------------
# Saker
# --------------------------------------------------------------------------------------------


def test_the_case_list_shows_the_active_creditors_cases_with_balance(logged_in_client, creditor):
    case = open_case(creditor, amounts=("1234.50", "100.00"))
    foreign = open_case(MembershipFactory().creditor)

    response = logged_in_client.get(reverse("case_list"))

    assert response.status_code == 200
    page = response.context["page"]
    assert [c["pk"] for c in page.object_list] == [case.pk]
    assert page.object_list[0]["balance"] == Decimal("1334.50")
    body = response.content.decode()
    assert case.number in body
    assert "kr 1\u00a0334,50" in body
    assert foreign.number not in body


def test_an_empty_case_list_says_how_cases_arrive(logged_in_client, creditor):
    response = logged_in_client.get(reverse("case_list"))

    assert "Koble til PowerOffice Go og godkjenn fakturaer i Inkasso-menyen" in (
        response.content.decode()
    )


def test_a_user_without_creditors_is_sent_to_add_one(logged_in_client):
    response = logged_in_client.get(reverse("case_list"))

    assert response["Location"] == reverse("creditor_add")


def test_the_case_list_filters_by_status_and_only_open(logged_in_client, creditor):
    active = open_case(creditor)
    waiting = open_case(creditor, needs_approval=True)
    closed = open_case(creditor)
    closed_case_withdrawn(closed)

    by_status = logged_in_client.get(reverse("case_list"), {"status": Status.AWAITING_APPROVAL})
    only_open = logged_in_client.get(reverse("case_list"), {"only_open": "on"})

    assert [c["pk"] for c in by_status.context["page"].object_list] == [waiting.pk]
    assert {c["pk"] for c in only_open.context["page"].object_list} == {active.pk, waiting.pk}


def closed_case_withdrawn(case):
    from collections_cases.cases.services import case_withdraw

    case_withdraw(case=case, actor=None, reason="Feil sendt")


@pytest.mark.parametrize("field", ["debtor", "invoice", "number"])
def test_the_case_list_searches_by_debtor_invoice_and_case_number(
    logged_in_client, creditor, field
):
    wanted = open_case(creditor, debtor=collectable_debtor(creditor, name="Fjordkaffe AS"))
    open_case(creditor, debtor=collectable_debtor(creditor, name="Bakeri Berg"))
    term = {
        "debtor": "fjordkaffe",
        "invoice": str(wanted.invoices.get().invoice_no),
        "number": wanted.number,
    }[field]

    response = logged_in_client.get(reverse("case_list"), {"q": term})

    assert [c["pk"] for c in response.context["page"].object_list] == [wanted.pk]


def test_the_case_list_sorts_by_balance_and_by_next_action_date(logged_in_client, creditor):
    small = open_case(creditor, amounts=("100.00",))
    large = open_case(creditor, amounts=("9000.00",))
    later = open_case(creditor, amounts=("500.00",))
    case_pause(
        case=later,
        actor=None,
        reason="Avtale",
        until=timezone.localdate() + dt.timedelta(days=20),
    )

    by_balance = logged_in_client.get(reverse("case_list"), {"sort": "-balance"})
    by_date = logged_in_client.get(reverse("case_list"), {"sort": "next_action"})

    assert [c["pk"] for c in by_balance.context["page"].object_list] == [
        large.pk,
        later.pk,
        small.pk,
    ]
    assert [c["pk"] for c in by_date.context["page"].object_list][-1] == later.pk


def test_the_case_list_paginates_fifty_a_page(logged_in_client, creditor):
    debtor = collectable_debtor(creditor)
    for _ in range(51):
        open_case(creditor, debtor=debtor)

    first = logged_in_client.get(reverse("case_list"))
    second = logged_in_client.get(reverse("case_list"), {"side": 2})

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 1
    assert "side=2" in first.content.decode()


@pytest.mark.parametrize("count", [5, 60])
def test_the_case_list_runs_a_constant_number_of_queries(
    logged_in_client, creditor, django_assert_max_num_queries, count
):
    for _ in range(count):
        open_case(creditor)

    with django_assert_max_num_queries(12):
        response = logged_in_client.get(reverse("case_list"), {"q": "Ola", "sort": "-balance"})

    assert len(response.context["page"].object_list) == min(count, 50)


# --------------------------------------------------------------------------------------------
# Case page
# --------------------------------------------------------------------------------------------


def test_the_case_page_shows_amounts_invoices_timeline_and_next_step(logged_in_client, creditor):
    case = open_case(creditor, amounts=("1000.00", "250.00"))

    response = logged_in_client.get(reverse("case_detail", args=[case.pk]))

    assert response.status_code == 200
    assert response.context["amounts"]["principal"] == Decimal("1250.00")
    assert response.context["amounts"]["balance"] == Decimal("1250.00")
    body = response.content.decode()
    for invoice in case.invoices.all():
        assert str(invoice.invoice_no) in body
    assert "Sak opprettet for 2 faktura(er)" in body
    assert case.get_next_action_display() in body
    assert case.limitation_date.strftime("%d.%m.%Y") in body


def test_the_case_page_offers_only_the_actions_the_status_allows(logged_in_client, creditor):
    waiting = open_case(creditor, needs_approval=True)
    active = open_case(creditor)

    waiting_forms = logged_in_client.get(reverse("case_detail", args=[waiting.pk])).context[
        "actions"
    ]
    active_forms = logged_in_client.get(reverse("case_detail", args=[active.pk])).context["actions"]

    assert "approve" in waiting_forms
    assert "resume" not in waiting_forms
    assert set(active_forms) == {"pause", "mark_disputed", "withdraw", "direct_payment", "note"}


def test_a_case_of_another_of_the_users_creditors_becomes_the_active_one(
    logged_in_client, user, creditor
):
    second = MembershipFactory(user=user).creditor
    case = open_case(second)

    response = logged_in_client.get(reverse("case_detail", args=[case.pk]))

    assert response.status_code == 200
    assert response.context["active_creditor"].pk == second.pk


def test_another_users_case_is_a_404(logged_in_client, creditor, other_case):
    response = logged_in_client.get(reverse("case_detail", args=[other_case.pk]))

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("approve", {}),
        ("pause", {"pause-reason": "x"}),
        ("resume", {}),
        ("withdraw", {"withdraw-reason": "x", "withdraw-confirm": "on"}),
        ("mark_disputed", {"mark_disputed-reason": "x"}),
        ("resolve_dispute", {}),
        ("direct_payment", {"direct_payment-amount": "1", "direct_payment-paid_on": "01.01.2026"}),
        ("note", {"note-text": "x"}),
    ],
)
def test_every_action_on_another_users_case_is_a_404_and_changes_nothing(
    logged_in_client, creditor, other_case, action, data
):
    events = CaseEvent.objects.filter(case=other_case).count()

    response = _action(logged_in_client, other_case, action, data)

    assert response.status_code == 404
    assert CaseEvent.objects.filter(case=other_case).count() == events
    assert _refresh(other_case).status == other_case.status


def test_actions_are_post_only(logged_in_client, creditor):
    case = open_case(creditor)

    response = logged_in_client.get(reverse("case_action", args=[case.pk, "note"]))

    assert response.status_code == 405


def test_an_unknown_action_is_a_404(logged_in_client, creditor):
    case = open_case(creditor)

    assert _action(logged_in_client, case, "delete").status_code == 404


def test_approve_starts_a_waiting_case(logged_in_client, creditor):
    case = open_case(creditor, needs_approval=True)

    response = _action(logged_in_client, case, "approve")

    assert response["Location"] == reverse("case_detail", args=[case.pk])
    assert _refresh(case).status == Status.ACTIVE
    assert _events(case, CaseEvent.Kind.APPROVED) == 1


def test_pause_with_reason_and_date_then_resume(logged_in_client, creditor):
    case = open_case(creditor)
    until = timezone.localdate() + dt.timedelta(days=10)

    _action(
        logged_in_client,
        case,
        "pause",
        {"pause-reason": "Betalingsavtale", "pause-until": until.strftime("%d.%m.%Y")},
    )
    paused = _refresh(case)
    _action(logged_in_client, case, "resume")

    assert paused.status == Status.PAUSED
    assert paused.pause_reason == "Betalingsavtale"
    assert paused.paused_until == until
    assert _refresh(case).status == Status.ACTIVE
    assert _events(case, CaseEvent.Kind.PAUSED) == 1
    assert _events(case, CaseEvent.Kind.RESUMED) == 1


def test_pause_without_a_reason_is_an_inline_error(logged_in_client, creditor):
    case = open_case(creditor)

    response = _action(logged_in_client, case, "pause", {"pause-reason": " "})

    assert response.status_code == 200
    assert response.context["bound_forms"]["pause"].errors["reason"]
    assert _refresh(case).status == Status.ACTIVE


def test_resuming_an_active_case_is_refused_with_a_message(logged_in_client, creditor):
    case = open_case(creditor)

    response = _action(logged_in_client, case, "resume")
    page = logged_in_client.get(response["Location"])

    assert _refresh(case).status == Status.ACTIVE
    assert _events(case, CaseEvent.Kind.RESUMED) == 0
    assert "kan ikke gjenopptas" in page.content.decode()


def test_withdraw_needs_a_reason_and_a_confirmation(logged_in_client, creditor):
    case = open_case(creditor)

    unconfirmed = _action(logged_in_client, case, "withdraw", {"withdraw-reason": "Feil"})
    assert unconfirmed.context["bound_forms"]["withdraw"].errors["confirm"]
    assert _refresh(case).status == Status.ACTIVE

    _action(
        logged_in_client, case, "withdraw", {"withdraw-reason": "Feil", "withdraw-confirm": "on"}
    )

    closed = _refresh(case)
    assert closed.status == Status.CLOSED
    assert closed.close_reason == CollectionCase.CloseReason.WITHDRAWN


def test_mark_disputed_then_resolve(logged_in_client, creditor):
    case = open_case(creditor)

    _action(logged_in_client, case, "mark_disputed", {"mark_disputed-reason": "Varen kom aldri"})
    disputed = _refresh(case)
    _action(
        logged_in_client, case, "resolve_dispute", {"resolve_dispute-note": "Sporing viser levert"}
    )

    assert disputed.status == Status.DISPUTED
    assert disputed.dispute_reason == "Varen kom aldri"
    assert _refresh(case).status == Status.ACTIVE
    assert _events(case, CaseEvent.Kind.DISPUTE_RESOLVED) == 1


def test_add_a_note(logged_in_client, creditor, user):
    case = open_case(creditor)

    _action(logged_in_client, case, "note", {"note-text": "Ringte skyldner"})

    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.NOTE)
    assert event.message == "Ringte skyldner"
    assert event.actor == user


@pytest.mark.parametrize(
    ("amount", "expected"), [("1 234,50", "1234.50"), ("1234.50", "1234.50"), ("200", "200.00")]
)
@pytest.mark.parametrize("date_format", ["%d.%m.%Y", "%Y-%m-%d"])
def test_a_direct_payment_reduces_the_principal(
    logged_in_client, creditor, amount, expected, date_format
):
    case = open_case(creditor, amounts=("5000.00",))
    paid_on = timezone.localdate() - dt.timedelta(days=2)

    _action(
        logged_in_client,
        case,
        "direct_payment",
        {
            "direct_payment-amount": amount,
            "direct_payment-paid_on": paid_on.strftime(date_format),
            "direct_payment-reference": "Bank 123",
        },
    )

    entry = LedgerEntry.objects.get(case=case, kind=LedgerEntry.Kind.DIRECT_PAYMENT)
    assert entry.amount == -Decimal(expected)
    assert entry.booked_on == paid_on
    assert _events(case, CaseEvent.Kind.DIRECT_PAYMENT) == 1


def test_a_direct_payment_of_the_whole_principal_closes_the_case(logged_in_client, creditor):
    case = open_case(creditor, amounts=("800.00",))

    _action(
        logged_in_client,
        case,
        "direct_payment",
        {
            "direct_payment-amount": "800,00",
            "direct_payment-paid_on": timezone.localdate().isoformat(),
        },
    )

    closed = _refresh(case)
    assert closed.status == Status.CLOSED
    assert closed.close_reason == CollectionCase.CloseReason.PAID_DIRECTLY


@pytest.mark.parametrize(
    ("amount", "paid_on", "field"),
    [
        ("-100", "today", "amount"),
        ("0", "today", "amount"),
        ("1000,01", "today", "amount"),
        ("tusen", "today", "amount"),
        ("10,005", "today", "amount"),
        ("100", "31.02.2026", "paid_on"),
        ("100", "i går", "paid_on"),
        ("100", "tomorrow", "paid_on"),
    ],
)
def test_an_invalid_direct_payment_is_an_inline_error_and_changes_nothing(
    logged_in_client, creditor, amount, paid_on, field
):
    case = open_case(creditor, amounts=("1000.00",))
    today = timezone.localdate()
    paid_on = {
        "today": today.strftime("%d.%m.%Y"),
        "tomorrow": (today + dt.timedelta(days=1)).strftime("%d.%m.%Y"),
    }.get(paid_on, paid_on)

    response = _action(
        logged_in_client,
        case,
        "direct_payment",
        {"direct_payment-amount": amount, "direct_payment-paid_on": paid_on},
    )

    assert response.status_code == 200
    assert response.context["bound_forms"]["direct_payment"].errors[field]
    assert not LedgerEntry.objects.filter(case=case, kind=LedgerEntry.Kind.DIRECT_PAYMENT).exists()
    assert _events(case, CaseEvent.Kind.DIRECT_PAYMENT) == 0


def test_a_direct_payment_on_a_closed_case_is_refused_with_a_message(logged_in_client, creditor):
    case = open_case(creditor)
    closed_case_withdrawn(case)

    response = _action(
        logged_in_client,
        case,
        "direct_payment",
        {
            "direct_payment-amount": "10",
            "direct_payment-paid_on": timezone.localdate().isoformat(),
        },
    )

    assert response.status_code == 302
    assert not LedgerEntry.objects.filter(case=case, kind=LedgerEntry.Kind.DIRECT_PAYMENT).exists()


def test_the_case_page_runs_a_constant_number_of_queries(
    logged_in_client, creditor, django_assert_max_num_queries
):
    debtor = collectable_debtor(creditor)
    case = open_case(creditor, debtor=debtor)
    for _ in range(20):
        InvoiceFactory(debtor=debtor)
    for n in range(20):
        _action(logged_in_client, case, "note", {"note-text": f"Notat {n}"})

    # One of them asks whether PowerOffice Go refused to create the case.
    with django_assert_max_num_queries(15):
        logged_in_client.get(reverse("case_detail", args=[case.pk]))


def test_approve_legal_steps_when_the_case_asks_for_them(logged_in_client, creditor):
    from collections_cases.cases.services import case_request_legal_approval

    case = open_case(creditor)
    CollectionCase.objects.filter(pk=case.pk).update(stage=CollectionCase.Stage.VARSEL_RETTSLIG)
    case_request_legal_approval(case=_refresh(case), actor=None)

    forms = logged_in_client.get(reverse("case_detail", args=[case.pk])).context["actions"]
    assert "approve_legal" in forms
    assert "approve" not in forms

    _action(logged_in_client, case, "approve_legal")

    assert _refresh(case).status == Status.LEGAL
    assert _events(case, CaseEvent.Kind.LEGAL_APPROVED) == 1


def test_approve_releases_a_payment_demand_waiting_for_the_creditor(logged_in_client, creditor):
    from collections_cases.cases.services import case_request_payment_demand_approval

    case = open_case(creditor)
    case_request_payment_demand_approval(case=case, actor=None)

    forms = logged_in_client.get(reverse("case_detail", args=[case.pk])).context["actions"]
    assert "approve" in forms
    assert "approve_legal" not in forms

    _action(logged_in_client, case, "approve")

    approved = _refresh(case)
    assert approved.status == Status.ACTIVE
    assert approved.next_action == CollectionCase.NextAction.SEND_BETALINGSOPPFORDRING
    assert approved.next_action_date == timezone.localdate()


def test_the_case_page_lists_the_letters_sent(logged_in_client, creditor):
    from collections_cases.dunning.services import dunning_case_step

    case = open_case(creditor)
    dunning_case_step(case=case, on=timezone.localdate())
    letter = case.letters.get()

    response = logged_in_client.get(reverse("case_detail", args=[case.pk]))

    body = response.content.decode()
    assert list(response.context["letters"]) == [letter]
    assert letter.get_kind_display() in body
    assert letter.deadline.strftime("%d.%m.%Y") in body
    delivery = letter.deliveries.get()
    assert f"{delivery.get_status_display()}</span> {delivery.get_channel_display()}" in body
