"""Build the benchmark's data set with bulk inserts (never through the API, row by row).

Two worlds, both sized by ``scale`` (1 = the issue's full scale):

* the sandbox (PowerOffice Go's side, its own tables): one big company (20 000 customers,
  100 000 open invoices) for the initial and incremental sync, and 1 000 small companies
  (3 customers, 3 invoices each) connected to 1 000 creditors for the fan-out;
* ours: creditors with 200 000 active cases (100 000 of them one creditor's, for the pages;
  40 000 due for the dunning run, a mix of every step over creditors of their own too,
  some connected to Go: :mod:`bench.dunning_mix`) and 50 000 paid, unsettled cases over
  1 000 creditors.

Every row is what the services would have written (a case: its invoice, principal ledger
entry, a *created* event; a paid case: payment, allocation, payment entry, closed as paid).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from stdnum.no import orgnr

from bench import dunning_mix
from collections_cases import rules
from collections_cases.models import (
    CaseEvent,
    CollectionCase,
    Invoice,
    LedgerEntry,
    Payment,
    PaymentAllocation,
)
from creditors.models import Creditor, Debtor, Membership, User
from integrations.models import PowerOfficeConnection
from pogo_sandbox import domain
from pogo_sandbox.models import (
    DEFAULT_PRIVILEGES,
    Application,
    ClientSubscription,
    Company,
    GeneralLedgerAccount,
)
from pogo_sandbox.models import Customer as PogoCustomer
from pogo_sandbox.models import OutgoingInvoice as PogoInvoice

BATCH = 5000
PASSWORD = "Bench-passord-123"
BIG_ORG = "big"
Status = CollectionCase.Status
Stage = CollectionCase.Stage


def sizes(scale: float) -> dict[str, int]:
    def n(full: int, least: int = 1) -> int:
        return max(least, round(full * scale))

    return {
        "customers": n(20_000),
        "invoices": n(100_000),
        "fanout_creditors": n(1_000, 5),
        "active_cases": n(200_000),
        "big_creditor_cases": n(100_000),
        "due_cases": n(40_000),
        "paid_cases": n(50_000),
        "settle_creditors": n(1_000, 5),
        "letters": n(1_000, 10),
    }


def _org_number(n: int) -> str:
    candidate = 400_000_000 + n * 100
    while not orgnr.is_valid(str(candidate)):
        candidate += 1
    return str(candidate)


def _chunks(rows, size=BATCH):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _bulk(model, rows) -> list:
    created = []
    for chunk in _chunks(rows):
        created.extend(model.objects.bulk_create(chunk))
    return created


# --- the sandbox ----------------------------------------------------------------------------


def application() -> Application:
    app, _ = Application.objects.get_or_create(
        application_key=settings.POWEROFFICE_APPLICATION_KEY,
        defaults={
            "name": "Kravia Inkasso",
            "subscription_key": settings.POWEROFFICE_SUBSCRIPTION_KEY,
            "redirect_uri_prefix": settings.SITE_URL,
        },
    )
    return app


def _connected_creditor(app, org_index: int, name: str, now) -> tuple[Creditor, Company]:
    org = _org_number(org_index)
    creditor = Creditor.objects.create(
        org_number=org,
        name=name,
        email=f"post{org_index}@bench.example",
        bank_account="86011117947",
        # Verified by its connection (only verified creditors get letters and payouts).
        verified_at=now,
        verification_method=Creditor.VerificationMethod.POWEROFFICE,
    )
    company = Company.objects.create(name=name, org_number=org)
    GeneralLedgerAccount.objects.bulk_create(
        GeneralLedgerAccount(company=company, account_no=no, name=label)
        for no, label in ((1500, "Kundefordringer"), (1920, "Bankinnskudd"))
    )
    subscription = ClientSubscription.objects.create(
        application=app, company=company, privileges=list(DEFAULT_PRIVILEGES)
    )
    PowerOfficeConnection.objects.create(
        creditor=creditor,
        client_key=subscription.client_key,
        client_name=name,
        client_org_number=org,
        connected_at=now,
    )
    return creditor, company


def _pogo_rows(company, *, customers: int, invoices: int, first_number: int, rng, now):
    """Customers, then open invoices spread over them (bulk; no ledger: the sync reads
    ``OutgoingInvoices`` only)."""
    today = timezone.localdate()
    customer_rows = [
        PogoCustomer(
            company=company,
            number=first_number + i,
            name=f"Kunde {first_number + i} AS",
            organization_number=f"9{first_number + i:08d}",
            email_address=f"kunde{first_number + i}@bench.example",
            address_line1="Storgata 1",
            zip_code="0155",
            city="Oslo",
            last_changed=now,
            created_at=now,
        )
        for i in range(customers)
    ]
    created = _bulk(PogoCustomer, customer_rows)
    PogoCustomer.objects.filter(company=company, subledger_account_id__isnull=True).update(
        subledger_account_id=10_000_000 + F("pk")
    )
    invoice_rows = []
    for i in range(invoices):
        customer = created[i % len(created)]
        amount = Decimal(rng.randrange(50_000, 5_000_000)) / 100
        due = today - dt.timedelta(days=rng.randrange(-20, 120))
        number = first_number + i
        invoice_rows.append(
            PogoInvoice(
                company=company,
                customer=customer,
                invoice_no=number,
                voucher_no=number,
                voucher_date=due - dt.timedelta(days=14),
                due_date=due,
                net_amount=amount,
                total_amount=amount,
                balance=amount,
                cid=f"{number}5",
                match_id=company.pk * 1_000_000 + i + 1,
                created_at=now,
                last_changed=now,
                balance_last_changed=now,
                sent_at=now,
            )
        )
    _bulk(PogoInvoice, invoice_rows)


def build_sandbox(scale: float, *, log=print) -> dict:
    size = sizes(scale)
    rng = random.Random(9)  # noqa: S311 - test data
    now = timezone.now() - dt.timedelta(hours=1)
    app = application()
    with transaction.atomic():
        creditor, company = _connected_creditor(app, 1, "Storkunde Sync AS", now)
        _pogo_rows(
            company,
            customers=size["customers"],
            invoices=size["invoices"],
            first_number=10_000,
            rng=rng,
            now=now,
        )
    # Go moves overdue invoices into Inkasso → Utkast on its own, daily; done here so the
    # sandbox's one-off catch-up (a row at a time) is not billed to our first sync.
    domain.refresh_drafts(company)
    log(f"  sandbox: {size['customers']} customers, {size['invoices']} invoices")
    with transaction.atomic():
        for i in range(size["fanout_creditors"]):
            _c, small = _connected_creditor(app, 100 + i, f"Fanout {i} AS", now)
            _pogo_rows(small, customers=3, invoices=3, first_number=10_000, rng=rng, now=now)
            domain.refresh_drafts(small)
    log(f"  sandbox: {size['fanout_creditors']} fan-out companies")
    return {"sync_creditor_id": creditor.pk}


# --- our cases ------------------------------------------------------------------------------


def _cases(creditors, count, *, kind, today, now, rng, start_serial, log) -> int:
    """``count`` cases spread over ``creditors``, in chunks; returns the next serial."""
    serial = start_serial
    done = 0
    while done < count:
        n = min(BATCH, count - done)
        owners = [creditors[(done + i) % len(creditors)] for i in range(n)]
        debtors = _bulk(
            Debtor,
            [
                Debtor(
                    creditor=owner,
                    name=f"Skyldner {serial + i}",
                    is_person=bool(i % 2),
                    email=f"s{serial + i}@bench.example",
                    address_line="Kirkegata 2",
                    postal_code="0153",
                    postal_city="Oslo",
                )
                for i, owner in enumerate(owners)
            ],
        )
        amounts = [Decimal(rng.randrange(50_000, 2_000_000)) / 100 for _ in range(n)]
        dues = [today - dt.timedelta(days=rng.randrange(20, 90)) for _ in range(n)]
        cases = []
        for i, owner in enumerate(owners):
            number = serial + i
            year_serial = f"2020{number:07d}"
            fields = {
                "creditor": owner,
                "debtor": debtors[i],
                "number": f"K-2020-{number:07d}",
                "kid": rules.kid_mod10(year_serial),
                "stage": Stage.INKASSOVARSEL,
                "limitation_date": rules.limitation_date(dues[i]),
            }
            if kind == "active":
                fields.update(
                    status=Status.ACTIVE,
                    next_action=CollectionCase.NextAction.SEND_INKASSOVARSEL,
                    next_action_date=today + dt.timedelta(days=rng.randrange(1, 60)),
                )
            else:  # paid
                fields.update(
                    status=Status.CLOSED,
                    close_reason=CollectionCase.CloseReason.PAID,
                    closed_at=now,
                    next_action="",
                    next_action_date=None,
                )
            cases.append(CollectionCase(**fields))
        cases = _bulk(CollectionCase, cases)
        invoices = _bulk(
            Invoice,
            [
                Invoice(
                    creditor=owner,
                    debtor=debtors[i],
                    invoice_no=serial + i,
                    voucher_type="OutgoingInvoice",
                    invoice_date=dues[i] - dt.timedelta(days=14),
                    due_date=dues[i],
                    total_amount=amounts[i],
                    balance=Decimal("0.00") if kind == "paid" else amounts[i],
                    case=cases[i],
                )
                for i, owner in enumerate(owners)
            ],
        )
        entries = [
            LedgerEntry(
                case=cases[i],
                invoice=invoices[i],
                kind=LedgerEntry.Kind.PRINCIPAL,
                amount=amounts[i],
                booked_on=today - dt.timedelta(days=10),
                description=f"Faktura {serial + i}",
            )
            for i in range(n)
        ]
        _bulk(LedgerEntry, entries)
        _bulk(
            CaseEvent,
            [
                CaseEvent(
                    case=case,
                    kind=CaseEvent.Kind.CREATED,
                    actor_label="bench",
                    message="Sak opprettet (benchmark).",
                    status_to=Status.ACTIVE,
                )
                for case in cases
            ],
        )
        if kind == "paid":
            payments = _bulk(
                Payment,
                [
                    Payment(
                        source=Payment.Source.MANUAL,
                        external_reference=f"bench-{serial + i}",
                        amount=amounts[i],
                        paid_on=today - dt.timedelta(days=7),
                        kid=cases[i].kid,
                        case=cases[i],
                        status=Payment.Status.ALLOCATED,
                    )
                    for i in range(n)
                ],
            )
            credits = _bulk(
                LedgerEntry,
                [
                    LedgerEntry(
                        case=cases[i],
                        kind=LedgerEntry.Kind.PAYMENT,
                        amount=-amounts[i],
                        booked_on=today - dt.timedelta(days=7),
                        description=f"Innbetaling {payments[i].pk}: Hovedstol",
                    )
                    for i in range(n)
                ],
            )
            _bulk(
                PaymentAllocation,
                [
                    PaymentAllocation(
                        payment=payments[i],
                        case=cases[i],
                        component=PaymentAllocation.Component.PRINCIPAL,
                        amount=amounts[i],
                        ledger_entry=credits[i],
                    )
                    for i in range(n)
                ],
            )
        serial += n
        done += n
    log(f"  cases: {count} {kind}")
    return serial


def _make_creditors(count: int, name: str, first: int) -> list[Creditor]:
    """``count`` verified creditors, org numbers from index ``first``."""
    return _bulk(
        Creditor,
        [
            Creditor(
                org_number=_org_number(first + i),
                name=f"{name} {i} AS",
                email=f"{name.lower()}{i}@bench.example",
                bank_account="86011117947",
                verified_at=timezone.now(),
                verification_method=Creditor.VerificationMethod.CASE_HANDLER,
            )
            for i in range(count)
        ],
    )


def build_cases(scale: float, *, log=print) -> dict:
    size = sizes(scale)
    rng = random.Random(10)  # noqa: S311 - test data
    today = timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        creditors = _make_creditors(size["settle_creditors"], "Kreditor", 5_000)
        big = creditors[0]
        user = User.objects.create_user(email="bench@bench.example", password=PASSWORD)
        Membership.objects.create(user=user, creditor=big, role=Membership.Role.OWNER)
        serial = 1
        serial = _cases(
            [big],
            size["big_creditor_cases"],
            kind="active",
            today=today,
            now=now,
            rng=rng,
            start_serial=serial,
            log=log,
        )
        others = creditors[1:]
        serial = dunning_mix.build_due_cases(
            others,
            size["due_cases"],
            today=today,
            now=now,
            rng=rng,
            serial=serial,
            bulk=_bulk,
            make_creditors=_make_creditors,
            log=log,
        )
        rest = size["active_cases"] - size["big_creditor_cases"] - size["due_cases"]
        serial = _cases(
            others, rest, kind="active", today=today, now=now, rng=rng, start_serial=serial, log=log
        )
        _cases(
            creditors,
            size["paid_cases"],
            kind="paid",
            today=today,
            now=now,
            rng=rng,
            start_serial=serial,
            log=log,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "big_creditor_id": big.pk,
        "user_email": user.email,
        "on": today.isoformat(),
        "dunning_expected": dunning_mix.expected(size["due_cases"]),
    }
