"""The case page's body as display values, for its Jinja2 template
(``templates/jinja2/collections_cases/case_page.html``).

Through the Django template language the body (about forty translated strings, the amounts,
the forms' markup) was a quarter of the page's CPU; Jinja2 renders it in a fraction of that
(docs/performance.md). Jinja2 has no ``{% translate %}`` here, so the page's fixed texts are
``LABELS`` below — the same message ids as the Django template had, found by ``makemessages``
in this module — translated once per process and language. Every value the template prints is
plain text, escaped by Jinja2's autoescaping; HTML comes only from Django templates
(the forms' fields, the payment-plan and payments sections), already escaped there.
"""

from __future__ import annotations

import datetime as dt

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from collections_cases.cases.page_selectors import STATUS_BADGES
from collections_cases.models import CollectionCase
from kravia_web.money import format_nok

Status = CollectionCase.Status

#: The page's fixed texts (message ids as in the Django template before; ``%(name)s`` where
#: ``{% blocktranslate %}`` had a variable).
LABELS = {
    "all_cases": _("Alle saker"),
    "case_no": _("Sak %(number)s"),
    "kid": _("KID"),
    "refusal_title": _("Saken finnes ikke i PowerOffice Go"),
    "refusal_text": _(
        "PowerOffice Go avviste saken, så den vises ikke under Inkasso i Go. Saken går som "
        "vanlig hos oss."
    ),
    "refusal_answer": _("Svar fra PowerOffice Go:"),
    "refusal_help": _(
        "Er fakturaen ikke godkjent for inkasso i Go, godkjenn den under Inkasso → Utkast i "
        "Go. Da oppretter vi saken der ved neste synkronisering."
    ),
    "approve_title": _("Saken venter på din godkjenning"),
    "approve_text": _("Når du godkjenner, starter vi saken med %(step)s i dag."),
    "approve_button": _("Godkjenn og start saken"),
    "approve_legal": _("Godkjenn rettslige tiltak"),
    "approve_legal_text": _(
        "Skyldneren har fått varsel om rettslig inndriving uten å betale. Godkjenner du, går "
        "vi videre med forliksrådet eller utlegg."
    ),
    "next_step": _("Neste steg"),
    "closed": _("Saken er avsluttet: %(reason)s."),
    "no_step": _("Ingen steg er planlagt."),
    "paused": _("På vent:"),
    "resumes": _("gjenopptas %(date)s"),
    "dispute": _("Innsigelse:"),
    "created": _("Opprettet"),
    "limitation": _("Foreldelsesdato"),
    "amounts": _("Beløp"),
    "principal": _("Hovedstol"),
    "interest": _("Forsinkelsesrente"),
    "fees": _("Gebyrer"),
    "salaer": _("Salær"),
    "refund_due": _("Til tilbakebetaling"),
    "payments": _("Innbetalt til oss"),
    "direct_payments": _("Betalt direkte til deg"),
    "reductions": _("Kreditert og avskrevet"),
    "balance": _("Saldo"),
    "actions": _("Handlinger"),
    "resume_title": _("Gjenoppta saken"),
    "resume_text": _(
        "Saken fortsetter der den slapp. Et steg som skulle vært tatt mens den sto, tas i dag."
    ),
    "resume_button": _("Gjenoppta"),
    "resolve_title": _("Innsigelsen er avklart"),
    "resolve_text": _(
        "Velg dette når kravet står seg. Hadde skyldner rett, trekker du saken tilbake i stedet."
    ),
    "resolve_button": _("Fortsett saken"),
    "direct_title": _("Registrer direkte betaling"),
    "direct_text": _("Skyldner har betalt til deg. Hovedstolen reduseres (udekket nå %(max)s)."),
    "direct_button": _("Registrer betaling"),
    "pause_title": _("Sett på vent"),
    "disputed_title": _("Skyldner bestrider kravet"),
    "disputed_button": _("Merk som omtvistet"),
    "note_title": _("Legg til notat"),
    "note_button": _("Lagre notat"),
    "withdraw_title": _("Trekk tilbake saken"),
    "withdraw_text": _("Saken avsluttes, og vi sender ikke flere brev."),
    "withdraw_button": _("Trekk tilbake"),
    "invoices": _("Fakturaer"),
    "invoice": _("Faktura"),
    "invoice_date": _("Fakturadato"),
    "due": _("Forfall"),
    "invoice_amount": _("Fakturabeløp"),
    "invoice_open": _("Udekket i PowerOffice Go"),
    "no_invoices": _("Saken har ingen fakturaer."),
    "payments_title": _("Innbetalinger"),
    "no_payments": _("Ingen innbetalinger er registrert."),
    "letters": _("Brev"),
    "sent": _("Sendt"),
    "deadline": _("Betalingsfrist"),
    "fee": _("Gebyr eller salær"),
    "to_pay": _("Å betale"),
    "delivery": _("Utsending"),
    "document": _("Dokument"),
    "preview": _("Forhåndsvis"),
    "download": _("Last ned"),
    "no_letters": _("Ingen brev er sendt ennå."),
    "history": _("Historikk"),
    "no_events": _("Ingen hendelser ennå."),
}

_LABELS_BY_LANGUAGE: dict[str, dict[str, str]] = {}


def labels() -> dict[str, str]:
    """``LABELS`` in the current language (translated once per process and language)."""
    language = get_language() or ""
    found = _LABELS_BY_LANGUAGE.get(language)
    if found is None:
        found = _LABELS_BY_LANGUAGE[language] = {k: str(v) for k, v in LABELS.items()}
    return found


_CHOICE_LABELS: dict[tuple[str, type, str], dict] = {}


def display(instance, field: str) -> str:
    """``instance.get_<field>_display()``, with the choices' labels translated once per
    process and language (Django's rebuilds and translates them on every call)."""
    key = (get_language() or "", type(instance), field)
    labels = _CHOICE_LABELS.get(key)
    if labels is None:
        choices = instance._meta.get_field(field).flatchoices
        labels = _CHOICE_LABELS[key] = {value: str(label) for value, label in choices}
    value = getattr(instance, field)
    return labels.get(value, value)


def date(value) -> str:
    """``d.m.Y`` as the Django template's ``date`` filter: datetimes in local time."""
    if not value:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value)
    return value.strftime("%d.%m.%Y")


def date_time(value) -> str:
    """``d.m.Y H:i`` in local time."""
    return timezone.localtime(value).strftime("%d.%m.%Y %H:%M") if value else ""


#: The badge of each delivery status; any other is ``badge warn``.
DELIVERY_BADGES = {
    "sent": "badge ok",
    "posted": "badge ok",
    "failed": "badge danger",
    "bounced": "badge danger",
}


#: Stand-ins for an action and a letter id: the addresses resolved with them are the
#: addresses of every action and letter with the stand-in replaced.
_ACTION = "x-action"
_URL_ID = 987654321

#: The actions with a form in the page's *Handlinger* section.
SECTION_ACTIONS = ("pause", "resume", "mark_disputed", "resolve_dispute", "direct_payment")
SECTION_ACTIONS += ("withdraw", "note")


def case_page_body_context(
    request,
    case: CollectionCase,
    *,
    amounts,
    invoices,
    letters,
    events,
    pogo_refusal,
    fields_html,
    csrf_token: str,
    direct_payment_errors=(),
) -> dict:
    """What ``case_page.html`` shows, every value display text (or a Django template's
    HTML): amounts formatted, dates in local time, addresses resolved."""
    language = get_language() or "nb"
    allowed = fields_html.keys()
    # One address resolved per page, not one per action (``reverse`` is ~0.1 ms a call).
    action_url = reverse("case_action", args=[case.pk, _ACTION])
    action_urls = {a: action_url.replace(f"/{_ACTION}/", f"/{a}/") for a in allowed}
    letter_urls = (
        {
            "preview": reverse("letter_preview", args=[case.pk, _URL_ID]),
            "download": reverse("letter_download", args=[case.pk, _URL_ID]),
        }
        if letters
        else {}
    )
    sections = {}
    if case.has_payment_plans:
        sections["payment_plan"] = render_to_string(
            "portal/_case_payment_plan.html", {"case": case}, request=request
        )
    if case.has_payments:
        sections["payments"] = render_to_string(
            "collections_cases/_payment_allocations.html", {"case": case}, request=request
        )
    return {
        "t": labels(),
        "case": case,
        "case_labels": {
            field: display(case, field)
            for field in ("status", "stage", "close_reason", "next_action")
        },
        "csrf_token_value": csrf_token,
        "closed": case.status == Status.CLOSED,
        "status_badge": STATUS_BADGES.get(case.status, "badge"),
        "urls": {
            "case_list": reverse("case_list"),
            "debtor": reverse("debtor_detail", args=[case.debtor_id]),
            "actions": action_urls,
        },
        "dates": {
            "closed_at": date_time(case.closed_at),
            "next_action": date(case.next_action_date),
            "paused_until": date(case.paused_until),
            "created": date(case.created_at),
            "limitation": date(case.limitation_date),
        },
        "amounts": {key: format_nok(value, language) for key, value in amounts.items()},
        "show_refund_due": bool(amounts["refund_due"]),
        "pogo_refusal": pogo_refusal,
        "fields_html": fields_html,
        "has_action_forms": any(action in fields_html for action in SECTION_ACTIONS),
        "direct_payment_errors": direct_payment_errors,
        "sections": sections,
        "invoices": [
            {
                "number": invoice.invoice_no,
                "date": date(invoice.invoice_date),
                "due": date(invoice.due_date) or "–",
                "amount": format_nok(invoice.total_amount, language),
                "open": format_nok(invoice.balance, language),
            }
            for invoice in invoices
        ],
        "letters": [_letter_row(letter, letter_urls, language) for letter in letters],
        "events": [
            {
                "when": date_time(event.at),
                "who": (
                    event.actor_name
                    if event.actor_id
                    else ("Kravia" if event.actor_label == "system" else event.actor_label)
                    or "Kravia"
                ),
                "kind": display(event, "kind"),
                "change": (
                    (display(event, "status_from"), display(event, "status_to"))
                    if event.status_to
                    and event.status_from
                    and event.status_to != event.status_from
                    else None
                ),
                "message": event.message,
            }
            for event in events
        ],
    }


def _letter_row(letter, urls: dict[str, str], language: str) -> dict:
    total = (letter.amounts or {}).get("total") if isinstance(letter.amounts, dict) else None
    return {
        "kind": display(letter, "kind"),
        "sent": date(letter.sent_on),
        "deadline": date(letter.deadline),
        "fee": format_nok(letter.fee, language),
        "to_pay": format_nok(total, language) if total else "–",
        "deliveries": [
            {
                "badge": DELIVERY_BADGES.get(delivery.status, "badge warn"),
                "status": display(delivery, "status"),
                "channel": display(delivery, "channel"),
                "error": (
                    Truncator(delivery.last_error).chars(80)
                    if delivery.last_error and delivery.status != "sent"
                    else ""
                ),
            }
            for delivery in letter.deliveries.all()
        ],
        "preview": urls["preview"].replace(f"/{_URL_ID}/", f"/{int(letter.pk)}/"),
        "download": urls["download"].replace(f"/{_URL_ID}/", f"/{int(letter.pk)}/"),
    }
