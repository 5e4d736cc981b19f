"""Recording a change of a case: the building blocks every case service uses.

The row lock (:func:`case_lock`), the move checked against
:data:`collections_cases.cases.states.TRANSITIONS` (:func:`move_case`), the one
:class:`CaseEvent` per change with :data:`collections_cases.signals.case_changed` sent after the
commit (:func:`record_event`), and the input checks the services share. Public so that the
services of other subdomains (dunning, letters, payments, portal) use them without reaching
into another module's private helpers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from collections_cases.cases.states import target_status
from collections_cases.models import CaseEvent, CollectionCase
from collections_cases.signals import case_changed
from kravia_web.errors import ApplicationError
from kravia_web.money import to_ore

Status = CollectionCase.Status

SYSTEM_ACTOR = "system"

Stage = CollectionCase.Stage
NextAction = CollectionCase.NextAction

#: The next action of an active case that has just entered ``stage``.
STAGE_ACTION = {
    Stage.INKASSOVARSEL: NextAction.SEND_INKASSOVARSEL,
    Stage.BETALINGSOPPFORDRING: NextAction.SEND_BETALINGSOPPFORDRING,
    Stage.VARSEL_RETTSLIG: NextAction.SEND_VARSEL_RETTSLIG,
}


def case_lock(*, case_id: int) -> CollectionCase:
    """The case row, locked until the end of the transaction (call inside ``atomic()``)."""
    return CollectionCase.objects.select_for_update().get(pk=case_id)


def case_may_add_costs(case: CollectionCase) -> bool:
    """Whether new costs (fees, salær, interest) may be added: never on a disputed case
    (INKL § 17 second paragraph) nor on a closed one."""
    return case.status not in (Status.DISPUTED, Status.CLOSED)


def actor_fields(actor) -> dict:
    if actor is None:
        return {"actor": None, "actor_label": SYSTEM_ACTOR}
    if isinstance(actor, str):
        return {"actor": None, "actor_label": actor}
    return {"actor": actor, "actor_label": str(actor)[:100]}


#: While :func:`changes_collected` runs: the ``(case_id, kind)`` of every event recorded, which
#: the collector sends in one :data:`~collections_cases.signals.cases_changed` itself.
_collected: ContextVar[list[tuple[int, str]] | None] = ContextVar("case_changes", default=None)


@contextmanager
def changes_collected() -> Iterator[list[tuple[int, str]]]:
    """Within: :func:`record_event` adds each change to the list yielded instead of sending
    ``case_changed`` for it after the commit. For a batch (the dunning run) that sends them
    with its own changes in one ``cases_changed``: the receivers do a batch in a few queries,
    one change at a time in several each. The caller must send them, after the commit."""
    collected: list[tuple[int, str]] = []
    token = _collected.set(collected)
    try:
        yield collected
    finally:
        _collected.reset(token)


def record_event(
    case: CollectionCase,
    *,
    kind: str,
    actor,
    message: str,
    data: dict | None = None,
    status_from: str = "",
    status_to: str = "",
) -> CaseEvent:
    event = CaseEvent.objects.create(
        case=case,
        kind=kind,
        message=message,
        data=data or {},
        status_from=status_from,
        status_to=status_to,
        **actor_fields(actor),
    )
    case_id = case.pk
    collected = _collected.get()
    if collected is not None:
        collected.append((case_id, kind))
    else:
        transaction.on_commit(
            lambda: case_changed.send(sender=CollectionCase, case_id=case_id, kind=kind)
        )
    return event


def apply_move(case: CollectionCase, *, action: str, **changes) -> tuple[str, str]:
    """:func:`move_case` in memory: the checked move of ``case``'s status and ``changes`` set
    on the instance, nothing saved or recorded; returns ``(status_from, status_to)``. For a
    batch that writes the rows and events of many moves at once (the dunning run)."""
    status_from = case.status
    status_to = target_status(case, action)
    case.status = status_to
    for field, value in changes.items():
        setattr(case, field, value)
    return status_from, status_to


def move_case(
    case: CollectionCase,
    *,
    action: str,
    actor,
    kind: str,
    message: str,
    data: dict | None = None,
    **changes,
) -> CollectionCase:
    """Move ``case`` (locked) as ``action`` says, set ``changes``, save, record one event."""
    status_from, status_to = apply_move(case, action=action, **changes)
    case.save(update_fields=["status", *changes, "updated_at"])
    record_event(
        case,
        kind=kind,
        actor=actor,
        message=message,
        data=data,
        status_from=status_from,
        status_to=status_to,
    )
    return case


def required_text(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ApplicationError(_("Oppgi %(what)s.") % {"what": what})
    return value


def positive_amount(amount) -> Decimal:
    try:
        value = to_ore(Decimal(str(amount)))
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ApplicationError(_("Beløpet er ikke et gyldig tall.")) from exc
    if value <= 0:
        raise ApplicationError(_("Beløpet må være større enn null."))
    return value


def amount_text(amount: Decimal) -> str:
    """``str`` of an amount, without the sign of a negative zero (``-0.00``)."""
    return str(amount + 0)


def iso_or_none(day: date | None) -> str | None:
    return day.isoformat() if day else None


def ensure_open(case: CollectionCase) -> None:
    if case.status == Status.CLOSED:
        raise ApplicationError(_("Sak %(number)s er avsluttet.") % {"number": case.number})
