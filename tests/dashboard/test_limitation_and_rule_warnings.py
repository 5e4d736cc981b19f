"""Oversikt: the 60-day limitation flag, time-barred cases, and the warning that a rate table
ends (from 30 days before its last known day)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from collections_cases.dashboard import selectors as sel
from collections_cases.models import CollectionCase
from tests.dashboard.builders import case
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
Status = CollectionCase.Status


def frozen(day: dt.date):
    return time_machine.travel(dt.datetime.combine(day, dt.time(9), tzinfo=OSLO), tick=False)


def test_cases_whose_limitation_date_is_within_60_days_are_flagged(logged_in_client, creditor):
    today = dt.date(2026, 5, 4)
    soon = case(creditor, limitation_date=today + dt.timedelta(days=60))
    later = case(creditor, limitation_date=today + dt.timedelta(days=61))
    closed = case(creditor, limitation_date=today + dt.timedelta(days=10), status=Status.CLOSED)
    foreign = case(MembershipFactory().creditor, limitation_date=today + dt.timedelta(days=5))

    with frozen(today):
        tasks = {t.kind: t for t in sel.dashboard_tasks(creditor=creditor)}
        html = logged_in_client.get(reverse("dashboard")).content.decode()

    near = tasks["limitation_near"]
    assert near.count == 1
    assert near.items[0].label.startswith(soon.number)
    assert near.items[0].detail == "Foreldes 03.07.2026"
    assert "limitation_passed" not in tasks
    assert 'data-task="limitation_near"' in html
    assert soon.number in html
    for other in (later, closed, foreign):
        assert other.number not in html


def test_time_barred_open_cases_are_shown_as_such(logged_in_client, creditor):
    today = dt.date(2026, 5, 4)
    barred = case(creditor, limitation_date=today, status=Status.PAUSED)

    with frozen(today):
        tasks = {t.kind: t for t in sel.dashboard_tasks(creditor=creditor)}

    assert tasks["limitation_passed"].severity == "danger"
    assert tasks["limitation_passed"].items[0].label.startswith(barred.number)
    assert tasks["limitation_passed"].items[0].detail == "Foreldet 04.05.2026"
    assert "limitation_near" not in tasks


def test_the_rate_tables_ending_31_12_2026_are_warned_about_from_1_december(
    logged_in_client, creditor, user
):
    with frozen(dt.date(2026, 11, 30)):
        html = logged_in_client.get(reverse("dashboard")).content.decode()
    assert "data-rule-warnings" not in html

    with frozen(dt.date(2026, 12, 1)):
        html = logged_in_client.get(reverse("dashboard")).content.decode()
    assert 'data-rule-table="forsinkelsesrente"' in html
    assert 'data-rule-table="inkassosats"' in html
    assert "Ny forsinkelsesrente må legges inn før 01.01.2027" in html
    assert "31.12.2026" in html and "holdes tilbake" in html

    with frozen(dt.date(2027, 1, 2)):
        logged_in_client.force_login(user)  # a month on, the first session has expired
        html = logged_in_client.get(reverse("dashboard")).content.decode()
    assert "Ny forsinkelsesrente mangler fra 01.01.2027" in html
