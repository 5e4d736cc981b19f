"""The case state machine as data: which action may move a case from which status to which.

Every service in :mod:`collections_cases.cases.services` that changes a case's status looks
its move up here; a move that is not in the table is refused with an application error.
``RETURN`` means "back to the status held before the pause or dispute"
(``CollectionCase.held_status``).
"""

from collections.abc import Mapping

from django.utils.translation import gettext as _

from collections_cases.models import CollectionCase
from kravia_web.errors import ApplicationError

Status = CollectionCase.Status

RETURN = "return"

OPEN_STATUSES = frozenset(s for s in Status if s != Status.CLOSED)

#: action → {status the case is in → status it moves to}
TRANSITIONS: Mapping[str, Mapping[str, str]] = {
    "approve": {Status.AWAITING_APPROVAL: Status.ACTIVE},
    "request_payment_demand_approval": {Status.ACTIVE: Status.AWAITING_APPROVAL},
    "request_legal_approval": {Status.ACTIVE: Status.AWAITING_APPROVAL},
    "approve_legal": {Status.AWAITING_APPROVAL: Status.LEGAL},
    "pause": {
        Status.AWAITING_APPROVAL: Status.PAUSED,
        Status.ACTIVE: Status.PAUSED,
        Status.LEGAL: Status.PAUSED,
        Status.MONITORING: Status.PAUSED,
    },
    "resume": {Status.PAUSED: RETURN},
    "mark_disputed": {
        Status.AWAITING_APPROVAL: Status.DISPUTED,
        Status.ACTIVE: Status.DISPUTED,
        Status.PAUSED: Status.DISPUTED,
        Status.LEGAL: Status.DISPUTED,
        Status.MONITORING: Status.DISPUTED,
    },
    "resolve_dispute": {Status.DISPUTED: RETURN},
    "to_monitoring": {Status.ACTIVE: Status.MONITORING, Status.LEGAL: Status.MONITORING},
    "close": {status: Status.CLOSED for status in OPEN_STATUSES},
    "withdraw": {status: Status.CLOSED for status in OPEN_STATUSES},
}

#: Statuses a paused or disputed case may return to.
RETURNABLE_STATUSES = frozenset(
    {Status.AWAITING_APPROVAL, Status.ACTIVE, Status.LEGAL, Status.MONITORING}
)


def _label(status: str) -> str:
    return str(Status(status).label) if status in Status.values else status


def target_status(case: CollectionCase, action: str) -> str:
    """The status ``action`` moves ``case`` to; ApplicationError when the move is not allowed."""
    moves = TRANSITIONS[action]
    if case.status not in moves:
        targets = {t for t in moves.values() if t != RETURN}
        to = _label(targets.pop()) if len(targets) == 1 else _("forrige status")
        raise ApplicationError(
            _(
                "Sak %(number)s kan ikke %(action)s: overgang fra «%(from)s» til «%(to)s» "
                "er ikke tillatt."
            )
            % {
                "number": case.number,
                "action": action_label(action),
                "from": _label(case.status),
                "to": to,
            },
            extra={"status_from": case.status, "action": action},
        )
    target = moves[case.status]
    if target == RETURN:
        target = case.held_status
        if target not in RETURNABLE_STATUSES:
            raise ApplicationError(
                _("Sak %(number)s har ingen gyldig status å gå tilbake til.")
                % {"number": case.number},
                extra={"status_from": case.status, "action": action},
            )
    return target


def action_label(action: str) -> str:
    labels = {
        "approve": _("godkjennes"),
        "request_payment_demand_approval": _("sendes til godkjenning av betalingsoppfordring"),
        "request_legal_approval": _("sendes til godkjenning av rettslige tiltak"),
        "approve_legal": _("godkjennes for rettslige tiltak"),
        "pause": _("settes på vent"),
        "resume": _("gjenopptas"),
        "mark_disputed": _("merkes som omtvistet"),
        "resolve_dispute": _("få innsigelsen avklart"),
        "to_monitoring": _("settes til overvåkning"),
        "close": _("avsluttes"),
        "withdraw": _("trekkes tilbake"),
    }
    return str(labels[action])
