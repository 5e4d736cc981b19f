"""The due cases of the dunning benchmark: a realistic mix of every step the run takes.

Each due case is built with the rows the services would have written before today (bulk
inserts): one to four invoices with their principal entries, some part payments (direct
payments), the earlier letters with their dates, deadlines, fees, salær and interest accruals
booked on those dates, the case's stage and next step. About a third of the creditors are
connected to PowerOffice Go: their cases and invoices come from Go (``pogo_case_id``,
``pogo_id``), so each change the run makes queues a status push (an outbox row). Some
creditors approve payment demands themselves.

:data:`PROFILES` lists the steps and their shares; :func:`expected` gives what the run must
do with the cases of each (``bench/worker.py`` checks it).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from collections_cases import rules
from collections_cases.dunning import steps as d
from collections_cases.models import CaseEvent, CollectionCase, Invoice, LedgerEntry, Letter
from creditors.models import Debtor
from integrations.models import PowerOfficeConnection

Status = CollectionCase.Status
Stage = CollectionCase.Stage
NextAction = CollectionCase.NextAction
Kind = LedgerEntry.Kind
ZERO = Decimal("0.00")

#: (profile, share of the due cases, the run's outcome, the letter kind it writes or None)
PROFILES = (
    ("iv", 0.35, d.STEP_INKASSOVARSEL, Letter.Kind.INKASSOVARSEL),
    ("bo", 0.22, d.STEP_BETALINGSOPPFORDRING, Letter.Kind.BETALINGSOPPFORDRING),
    ("bo_after_pogo_iv", 0.05, d.STEP_BETALINGSOPPFORDRING, Letter.Kind.BETALINGSOPPFORDRING),
    ("bo_needs_approval", 0.03, d.OUTCOME_AWAITING_DEMAND_APPROVAL, None),
    ("varsel", 0.15, d.STEP_VARSEL_RETTSLIG, Letter.Kind.VARSEL_RETTSLIG),
    ("legal_approval", 0.07, d.OUTCOME_LEGAL_APPROVAL_REQUESTED, None),
    ("new_bo", 0.08, d.OUTCOME_NEW_BO, Letter.Kind.NEW_BETALINGSOPPFORDRING),
    ("closes_paid", 0.05, d.OUTCOME_CLOSED_PAID, None),
)


def counts(total: int) -> dict[str, int]:
    """How many due cases of each profile (the rest goes to the first)."""
    out = {name: int(total * share) for name, share, _o, _k in PROFILES}
    out[PROFILES[0][0]] += total - sum(out.values())
    return out


def expected(total: int) -> dict:
    """What the run must do: ``steps`` (outcome → cases) and ``letters`` (kind → letters)."""
    steps: dict[str, int] = {}
    letters: dict[str, int] = {}
    for name, _share, outcome, kind in PROFILES:
        n = counts(total)[name]
        if not n:
            continue
        steps[outcome] = steps.get(outcome, 0) + n
        if kind is not None:
            letters[str(kind)] = letters.get(str(kind), 0) + n
    return {"steps": steps, "letters": letters}


@dataclass
class _Case:
    profile: str
    creditor: object
    connected: bool
    dues: list[dt.date]
    amounts: list[Decimal]
    part_paid: Decimal = ZERO


def _pools(creditors, now, make_creditors):
    """Creditors that approve payment demands and creditors connected to Go, made for the
    mix (1 for 20 and 1 for 3 of the given ones: new ones, so no other scenario's creditors
    change), and the given ones."""
    approvers = make_creditors(max(1, len(creditors) // 20), "Godkjenner", 7_000)
    connected = make_creditors(max(1, len(creditors) // 3), "Go-kunde", 8_000)
    model = type(creditors[0])
    model.objects.filter(pk__in=[c.pk for c in approvers]).update(approve_payment_demands=True)
    # The original invoices are fetched from Go over HTTP for a first letter: the dunning
    # scenarios have no server (docs/perf-notes/dunning.md), so the connected creditors
    # send their letters without them.
    model.objects.filter(pk__in=[c.pk for c in connected]).update(attach_original_invoice=False)
    for creditor in approvers:
        creditor.approve_payment_demands = True
    PowerOfficeConnection.objects.bulk_create(
        PowerOfficeConnection(
            creditor=creditor,
            client_key=str(uuid.UUID(int=creditor.pk)),
            client_name=creditor.name,
            client_org_number=creditor.org_number,
            connected_at=now,
        )
        for creditor in connected
    )
    return approvers, [*creditors, *connected], connected


def _dates(profile: str, today: dt.date) -> dict:
    """The earlier letters' dates for a profile: each letter's deadline passed and the next
    step's day come by ``today``."""
    out = {}
    if profile in ("bo", "bo_needs_approval", "closes_paid"):
        out["iv"] = today - dt.timedelta(days=30)
    elif profile in ("varsel", "legal_approval"):
        bo = today - dt.timedelta(days=50 if profile == "varsel" else 100)
        out["bo"] = bo
        out["iv"] = bo - dt.timedelta(days=30)
        if profile == "legal_approval":
            out["varsel"] = bo + dt.timedelta(days=50)
    elif profile == "new_bo":
        bo = today - dt.timedelta(days=200)
        out.update(bo=bo, iv=bo - dt.timedelta(days=30), varsel=bo + dt.timedelta(days=50))
    return out


def build_due_cases(creditors, total, *, today, now, rng, serial, bulk, make_creditors, log) -> int:
    """``total`` due cases over ``creditors`` and the mix's own (the mix of
    :data:`PROFILES`); returns the next serial. ``bulk(model, rows)`` inserts in chunks and
    returns the rows with ids; ``make_creditors(n, name, first org index)`` makes verified
    creditors."""
    approvers, others, connected = _pools(creditors, now, make_creditors)
    connected_ids = {c.pk for c in connected}
    plan: list[_Case] = []
    for name, n in counts(total).items():
        pool = approvers if name == "bo_needs_approval" else others
        if name == "bo_after_pogo_iv":
            pool = connected
        dates = _dates(name, today)
        earliest = min(dates.values(), default=today) - dt.timedelta(days=20)
        for i in range(n):
            creditor = pool[(i * 7) % len(pool)]
            k = 1 + rng.randrange(4)
            dues = [earliest - dt.timedelta(days=rng.randrange(0, 40)) for _ in range(k)]
            amounts = [Decimal(rng.randrange(20_000, 800_000)) / 100 for _ in range(k)]
            case = _Case(name, creditor, creditor.pk in connected_ids, dues, amounts)
            if name == "closes_paid":
                case.part_paid = sum(amounts)  # the principal paid, costs left
            elif rng.random() < 0.2:
                case.part_paid = (sum(amounts) * Decimal(rng.randrange(10, 60)) / 100).quantize(
                    Decimal("0.01")
                )
            plan.append(case)
    for start in range(0, len(plan), 2000):
        serial = _write_chunk(plan[start : start + 2000], today=today, serial=serial, bulk=bulk)
    log(f"  cases: {total} due, " + ", ".join(f"{k} {v}" for k, v in counts(total).items()))
    return serial


def _letter_amounts(principal: Decimal, fees: Decimal, salaer: Decimal, interest: Decimal, on):
    return d.amounts_payload(
        {
            "principal_outstanding": principal,
            Kind.INTEREST: interest,
            Kind.INTEREST_CORRECTION: ZERO,
            Kind.FEE: fees,
            Kind.SALAER: salaer,
            Kind.PAYMENT: ZERO,
            "balance": principal + fees + salaer + interest,
        },
        on=on,
        earliest_due=on - dt.timedelta(days=40),
    )


def _interest(principal: Decimal, since: dt.date, until: dt.date) -> Decimal:
    days = max((until - since).days, 0)
    rate = rules.late_interest_rate(until)
    return (principal * rate / 100 * days / 365).quantize(Decimal("0.01"))


def _write_chunk(plan: list[_Case], *, today, serial, bulk) -> int:
    debtors = bulk(
        Debtor,
        [
            Debtor(
                creditor=c.creditor,
                name=f"Skyldner {serial + i}",
                is_person=bool(i % 2),
                email=f"s{serial + i}@bench.example",
                address_line="Kirkegata 2",
                postal_code="0153",
                postal_city="Oslo",
                pogo_id=serial + i if c.connected else None,
                customer_number=serial + i if c.connected else None,
            )
            for i, c in enumerate(plan)
        ],
    )
    cases = []
    for i, c in enumerate(plan):
        number = serial + i
        dates = _dates(c.profile, today)
        fields = {
            "creditor": c.creditor,
            "debtor": debtors[i],
            "number": f"K-2020-{number:07d}",
            "kid": rules.kid_mod10(f"2020{number:07d}"),
            "limitation_date": rules.limitation_date(min(c.dues)),
            "status": Status.ACTIVE,
            "stage": Stage.INKASSOVARSEL,
            "next_action_date": today,
            "pogo_case_id": uuid.UUID(int=number) if c.connected else None,
        }
        if c.profile in ("iv", "bo_after_pogo_iv"):
            fields["next_action"] = NextAction.SEND_INKASSOVARSEL
        elif c.profile in ("bo", "bo_needs_approval", "closes_paid"):
            fields["next_action"] = NextAction.SEND_BETALINGSOPPFORDRING
        elif c.profile == "varsel":
            fields.update(stage=Stage.BETALINGSOPPFORDRING)
            fields["next_action"] = NextAction.SEND_VARSEL_RETTSLIG
        elif c.profile == "legal_approval":
            fields.update(stage=Stage.VARSEL_RETTSLIG)
            fields["next_action"] = NextAction.REQUEST_LEGAL_APPROVAL
        else:  # new_bo: waiting for the legal approval, the new BO's day come
            fields.update(
                stage=Stage.VARSEL_RETTSLIG,
                status=Status.AWAITING_APPROVAL,
                approval_kind=CollectionCase.ApprovalKind.LEGAL,
                next_action=NextAction.AWAIT_APPROVAL,
                next_action_date=min(today, rules.new_bo_due(dates["bo"])),
            )
        cases.append(CollectionCase(**fields))
    cases = bulk(CollectionCase, cases)
    invoices, owners = [], []
    for i, c in enumerate(plan):
        for j, (due, amount) in enumerate(zip(c.dues, c.amounts, strict=True)):
            pogo = c.profile == "bo_after_pogo_iv"
            invoices.append(
                Invoice(
                    creditor=c.creditor,
                    debtor=debtors[i],
                    invoice_no=(serial + i) * 10 + j,
                    voucher_type="OutgoingInvoice",
                    invoice_date=due - dt.timedelta(days=14),
                    due_date=due,
                    total_amount=amount,
                    balance=amount,
                    case=cases[i],
                    pogo_id=uuid.UUID(int=((serial + i) * 10 + j)) if c.connected else None,
                    last_reminder_voucher_type=d.POGO_IV_VOUCHER_TYPE if pogo else "",
                    last_reminder_sent_date=due + dt.timedelta(days=5) if pogo else None,
                    last_reminder_due_date=today - dt.timedelta(days=20) if pogo else None,
                )
            )
            owners.append(i)
    invoices = bulk(Invoice, invoices)
    by_case: dict[int, list[Invoice]] = {}
    for invoice, i in zip(invoices, owners, strict=True):
        by_case.setdefault(i, []).append(invoice)
    entries, letters, events = [], [], []
    for i, c in enumerate(plan):
        case, mine = cases[i], by_case[i]
        for invoice in mine:
            entries.append(_entry(case, Kind.PRINCIPAL, invoice.total_amount, today, invoice))
        events.append(_event(case, CaseEvent.Kind.CREATED, "Sak opprettet (benchmark)."))
        if c.part_paid:
            paid_on = today - dt.timedelta(days=3)
            entries.append(_entry(case, Kind.DIRECT_PAYMENT, -c.part_paid, paid_on, None))
        _history(c, case, mine, today, entries, letters, events)
    bulk(LedgerEntry, entries)
    bulk(Letter, letters)
    bulk(CaseEvent, events)
    return serial + len(plan)


def _entry(case, kind, amount, on, invoice, description=""):
    return LedgerEntry(
        case=case,
        invoice=invoice,
        kind=kind,
        amount=amount,
        booked_on=on,
        description=description or str(kind),
    )


def _event(case, kind, message, data=None):
    return CaseEvent(case=case, kind=kind, actor_label="bench", message=message, data=data or {})


def _history(c: _Case, case, invoices, today, entries, letters, events) -> None:
    """The letters sent before today, with the fees, salær and interest booked with them."""
    dates = _dates(c.profile, today)
    if not dates:
        return
    principal = sum(c.amounts)
    debtor = case.debtor
    earliest = min(c.dues)
    fees = salaer = interest = ZERO

    def accrue(since, until):
        nonlocal interest
        for invoice in invoices:
            amount = _interest(invoice.total_amount, since, until)
            if amount > 0:
                entries.append(_entry(case, Kind.INTEREST, amount, until, invoice, "Rente"))
                interest += amount

    def letter(kind, step, on, deadline, fee):
        amounts = _letter_amounts(principal, fees, salaer, interest, on)
        letters.append(
            Letter(
                case=case,
                kind=kind,
                step=step,
                sent_on=on,
                deadline=deadline,
                fee=fee,
                amounts=amounts,
            )
        )
        events.append(_event(case, CaseEvent.Kind.LETTER, f"{kind} sendt (benchmark)."))

    iv_on = dates["iv"]
    accrue(earliest, iv_on)
    fee = d.iv_fee(invoices, debtor=debtor, on=iv_on)
    entries.append(_entry(case, Kind.FEE, fee, iv_on, None, "Inkassovarselgebyr"))
    fees += fee
    iv_deadline = rules.deadline(iv_on, rules.iv_deadline_days(iv_on))
    letter(Letter.Kind.INKASSOVARSEL, d.STEP_INKASSOVARSEL, iv_on, iv_deadline, fee)
    if "bo" not in dates:
        return
    bo_on = dates["bo"]
    accrue(iv_on, bo_on)
    light = rules.salaer(
        principal=principal,
        on=bo_on,
        due_date=earliest,
        heavy=False,
        business_debtor=not debtor.is_person,
        creditor_vat_registered=case.creditor.vat_registered,
    )
    entries.append(_entry(case, Kind.SALAER, light, bo_on, None, "Lett salær"))
    salaer += light
    bo_deadline = rules.deadline(bo_on, rules.bo_deadline_days(bo_on))
    step = d.STEP_BETALINGSOPPFORDRING
    letter(Letter.Kind.BETALINGSOPPFORDRING, step, bo_on, bo_deadline, light)
    if "varsel" not in dates:
        return
    varsel_on = dates["varsel"]
    accrue(bo_on, varsel_on)
    heavy = rules.salaer(
        principal=principal,
        on=varsel_on,
        due_date=earliest,
        heavy=True,
        business_debtor=not debtor.is_person,
        creditor_vat_registered=case.creditor.vat_registered,
    )
    added = max(heavy - light, ZERO)
    if added:
        entries.append(_entry(case, Kind.SALAER, added, varsel_on, None, "Tungt salær"))
        salaer += added
    deadline = rules.deadline(varsel_on, rules.rettslig_varsel_days(varsel_on))
    letter(Letter.Kind.VARSEL_RETTSLIG, d.STEP_VARSEL_RETTSLIG, varsel_on, deadline, added)
