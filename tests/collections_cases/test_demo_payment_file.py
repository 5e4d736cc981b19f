"""``demo_payment_file`` writes a camt.054 the real import accepts."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from collections_cases.models import CollectionCase, Payment
from collections_cases.payments import imports
from tests.collections_cases.test_payments_import import owing

pytestmark = pytest.mark.django_db


def test_the_file_pays_the_cases_in_full_through_the_import(tmp_path):
    first = owing("123456782", amount="1500.00")
    second = owing("209900000016", amount="99.50")
    target = tmp_path / "betalinger.xml"

    call_command(
        "demo_payment_file", first.number, second.number, "-o", str(target), stdout=StringIO()
    )
    batch = imports.payments_import_file(content=target.read_bytes(), file_name="b.xml")

    assert (batch.created_count, batch.matched_count) == (2, 2)
    assert Payment.objects.get(kid="209900000016").amount == Decimal("99.50")
    for case in (first, second):
        case.refresh_from_db()
        assert case.status == CollectionCase.Status.CLOSED


def test_partial_amount_and_bad_input(tmp_path):
    case = owing("123456782", amount="1500.00")
    target = tmp_path / "b.xml"
    call_command(
        "demo_payment_file", case.number, "--amount", "100", "-o", str(target), stdout=StringIO()
    )
    imports.payments_import_file(content=target.read_bytes(), file_name="b.xml")
    assert Payment.objects.get().amount == Decimal("100.00")

    with pytest.raises(CommandError, match="No case"):
        call_command("demo_payment_file", "K-0000-000000", "-o", str(target))
    with pytest.raises(CommandError, match="Bad"):
        call_command("demo_payment_file", case.number, "--date", "x", "-o", str(target))
