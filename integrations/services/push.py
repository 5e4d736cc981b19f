"""What we tell PowerOffice Go about a case: the status text Go shows under Inkasso → Åpne,
the agency balance and the closed flag, and the link back to the case in Kundeweb."""

from __future__ import annotations

import hashlib
import json
from datetime import date

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _

from collections_cases.cases.selectors import case_balance
from collections_cases.models import CollectionCase

Status = CollectionCase.Status


def case_external_url(case: CollectionCase) -> str:
    """The Kundeweb case page, absolute (Go links to it)."""
    try:
        path = reverse("case_detail", args=[case.pk])
    except NoReverseMatch:
        path = f"/saker/{case.pk}/"
    return settings.SITE_URL.rstrip("/") + path


def _date(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


_LABELS: dict[tuple, str] = {}


def _display(instance, name: str) -> str:
    """``instance.get_<name>_display()``, remembered per language and value (the lookup
    through the choices' lazy labels cost more than the rest of a case's status text, which
    a batch builds for thousands of cases)."""
    value = getattr(instance, name)
    key = (translation.get_language(), type(instance), name, value)
    label = _LABELS.get(key)
    if label is None:
        label = _LABELS[key] = str(getattr(instance, f"get_{name}_display")())
    return label


#: "Not given": look it up (a batch passes what it already loaded, ``None`` included).
_LOOK_UP = object()


def _state_sentence(case: CollectionCase, last_letter=_LOOK_UP) -> str:
    if case.status == Status.CLOSED:
        return _("Saken er avsluttet: %(reason)s.") % {
            "reason": _display(case, "close_reason").lower() or _("avsluttet")
        }
    if case.status == Status.AWAITING_APPROVAL:
        if case.approval_kind == CollectionCase.ApprovalKind.LEGAL:
            return _("Varsel om rettslig inndriving er sendt. Venter på kreditors godkjenning.")
        if case.approval_kind == CollectionCase.ApprovalKind.PAYMENT_DEMAND:
            return _("Betalingsoppfordring venter på kreditors godkjenning.")
        return _("Venter på kreditors godkjenning før start.")
    if case.status == Status.PAUSED:
        if case.paused_until:
            return _("Saken er satt på vent til %(date)s.") % {"date": _date(case.paused_until)}
        return _("Saken er satt på vent.")
    if case.status == Status.DISPUTED:
        return _("Omtvistet: skyldner har innsigelser. Saken er stanset til de er avklart.")
    if case.status == Status.LEGAL:
        return _("Rettslig inndriving.")
    if case.status == Status.MONITORING:
        return _("Saken er til overvåkning.")
    letter = (
        case.letters.order_by("-sent_on", "-pk").first() if last_letter is _LOOK_UP else last_letter
    )
    if letter is not None:
        return _("%(letter)s sendt %(sent)s – betalingsfrist %(deadline)s.") % {
            "letter": _display(letter, "kind"),
            "sent": _date(letter.sent_on),
            "deadline": _date(letter.deadline),
        }
    return _("Pågående: %(stage)s.") % {"stage": _display(case, "stage").lower()}


def case_status_text(case: CollectionCase, *, last_letter=_LOOK_UP) -> str:
    """One or two Norwegian sentences: where the case is, and its next step with the date.
    ``last_letter``: the case's latest letter (or ``None``) when the caller has it already."""
    with translation.override("nb"):
        parts = [_state_sentence(case, last_letter)]
        if case.status != Status.CLOSED and case.next_action:
            step = _display(case, "next_action")
            step = step[:1].lower() + step[1:]
            if case.next_action_date:
                parts.append(
                    _("Neste steg: %(step)s %(date)s.")
                    % {"step": step, "date": _date(case.next_action_date)}
                )
            else:
                parts.append(_("Neste steg: %(step)s.") % {"step": step})
        return " ".join(parts)


def case_status_payload(case: CollectionCase, *, last_letter=_LOOK_UP, balance=None) -> dict:
    """The body of an ``UpdateStatus`` for the case as it is now (JSON-safe). A batch passes
    the case's latest letter and balance it loaded for many cases at once."""
    return {
        "status_text": case_status_text(case, last_letter=last_letter),
        "balance": str(case_balance(case) if balance is None else balance),
        "closed": case.status == Status.CLOSED,
    }


def payload_hash(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
