"""Letter delivery: each letter the dunning run records reaches the debtor by e-mail or post.

Channel (INKL § 3a: electronic letters only "på en betryggende måte", to an address the debtor
uses): e-mail when the debtor has PowerOffice Go's reminder e-mail address
(``Debtor.reminder_email``) or else an ordinary e-mail address; otherwise post.

Flow
    * A new :class:`~collections_cases.models.Letter` gets its queued
      :class:`~collections_cases.models.LetterDelivery` row in the same transaction
      (:func:`delivery_create_for_letter`, from a ``post_save`` receiver); the delivery task is
      queued on commit, so the dunning run neither renders nor sends anything.
    * :func:`delivery_send` claims the row with a conditional UPDATE (queued/failed → sending,
      one more attempt, a lease), renders the PDF (``collections_cases.letters.documents.letter_pdf``)
      and sends the e-mail with no transaction open, then records the outcome: *sendt*, or for
      post *i utskriftskø* (staff print the day's letters as one PDF and mark them *postlagt*).
      Of two workers exactly one wins the claim, so a letter is never sent twice; a worker that
      died mid-send leaves a *sending* row the sweep retries once its lease has run out.
    * Min side access (:mod:`collections_cases.portal.access`): the letter's stored PDF prints
      the code issued at its first render, and the e-mail carries the personal link signed
      over that code's row. A **re-sent** letter (or one whose code was revoked before it
      left) goes with a copy of its own (``LetterDelivery.pdf``) carrying a new code; the
      letter's earlier codes are revoked, so the copy that went astray no longer opens
      anything (:func:`delivery_document`). A retry sends the same copy and code again.
    * Failures back off (1 min, 2 min, 4 min … up to 6 hours, at most ``MAX_ATTEMPTS``) and are
      retried by :func:`delivery_sweep` (beat, every few minutes); an address the mail server
      refuses is *avvist* at once. Every status change writes a case event.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import smtplib
from collections import Counter
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from collections_cases.cases import changes
from collections_cases.cases import services as case_services
from collections_cases.models import CaseEvent, Letter, LetterDelivery, PortalAccess
from creditors.models import Debtor
from kravia_web.enqueue import enqueue_on_commit
from kravia_web.errors import ApplicationError
from kravia_web.money import format_nok

logger = logging.getLogger(__name__)

Channel = LetterDelivery.Channel
Status = LetterDelivery.Status

MAX_ATTEMPTS = 8
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_MAX = dt.timedelta(hours=6)
#: A claimed row is left alone this long (longer than a task may run): after it, a row whose
#: worker died mid-send is tried again.
LEASE = dt.timedelta(minutes=20)
#: Rows a worker may claim (when their ``next_attempt_at`` has come).
CLAIMABLE = (Status.QUEUED, Status.FAILED, Status.SENDING)


class PermanentDeliveryError(Exception):
    """Retrying cannot help (no postal address, an address the mail server refuses)."""


# --- channel --------------------------------------------------------------------------------


def debtor_email(debtor: Debtor) -> str:
    """The address letters go to: the reminder e-mail from PowerOffice Go first."""
    return (debtor.reminder_email or debtor.email or "").strip()


def debtor_postal_address(debtor: Debtor) -> str:
    """Name and postal address as lines; empty when the debtor has no street address."""
    if not (debtor.address_line or "").strip():
        return ""
    city = " ".join(part for part in (debtor.postal_code, debtor.postal_city) if part)
    lines = [debtor.name, debtor.address_line, city]
    if debtor.country_code and debtor.country_code.upper() != "NO":
        lines.append(debtor.country_code.upper())
    return "\n".join(line.strip() for line in lines if line and line.strip())


def debtor_channel(debtor: Debtor) -> tuple[str, str]:
    """``(channel, recipient)`` for the debtor's letters: e-mail when we have an address the
    debtor uses, else post (recipient: the name alone when the address is missing — such a
    delivery fails and shows up for staff)."""
    email = debtor_email(debtor)
    if email:
        return Channel.EMAIL, email
    return Channel.POST, debtor_postal_address(debtor) or debtor.name


# --- creating rows --------------------------------------------------------------------------


def _queue(delivery_id: int) -> None:
    """Queue the delivery task once the current transaction commits. ``robust``: a broker
    that is down must not break the committed change — the sweep sends the row later."""
    enqueue_on_commit("collections_cases.letters.tasks.deliver_letter_task", delivery_id)


def delivery_create_for_letter(*, letter: Letter) -> LetterDelivery:
    """The letter's first delivery, on the debtor's channel (in the letter's transaction)."""
    channel, recipient = debtor_channel(letter.case.debtor)
    delivery = LetterDelivery.objects.create(
        letter=letter, channel=channel, recipient=recipient, reason=LetterDelivery.Reason.INITIAL
    )
    _queue(delivery.pk)
    return delivery


def delivery_create_for_letters(*, letters: list[Letter]) -> list[LetterDelivery]:
    """:func:`delivery_create_for_letter` for letters written in bulk (``bulk_create`` sends
    no ``post_save``): one insert, and on commit one task that queues every delivery's."""
    deliveries = []
    for letter in letters:
        channel, recipient = debtor_channel(letter.case.debtor)
        deliveries.append(
            LetterDelivery(
                letter=letter,
                channel=channel,
                recipient=recipient,
                reason=LetterDelivery.Reason.INITIAL,
            )
        )
    deliveries = LetterDelivery.objects.bulk_create(deliveries)
    ids = [delivery.pk for delivery in deliveries]
    if ids:
        # One message for the batch; the task queues one delivery task per letter.
        enqueue_on_commit("collections_cases.letters.tasks.deliver_letters_task", ids)
    return deliveries


def _clean_recipient(channel: str, recipient: str) -> str:
    if channel == Channel.EMAIL:
        recipient = (recipient or "").strip()
        try:
            validate_email(recipient)
        except ValidationError as exc:
            raise ApplicationError(_("Oppgi en gyldig e-postadresse.")) from exc
        return recipient
    if channel == Channel.POST:
        lines = [line.strip() for line in (recipient or "").splitlines() if line.strip()]
        if len(lines) < 2:
            raise ApplicationError(
                _("Oppgi navn og postadresse (minst to linjer: navn, adresse, postnummer og sted).")
            )
        return "\n".join(lines)
    raise ApplicationError(_("Ukjent kanal."))


def delivery_resend(*, letter: Letter, channel: str, recipient: str, actor) -> LetterDelivery:
    """Staff send ``letter`` again to another e-mail or postal address: a new delivery row and
    an event on the case timeline. The same address twice is refused (never sent twice)."""
    recipient = _clean_recipient(channel, recipient)
    with transaction.atomic():
        case = case_services.case_lock(case_id=letter.case_id)
        if LetterDelivery.objects.filter(
            letter=letter, channel=channel, recipient=recipient
        ).exists():
            raise ApplicationError(
                _("Brevet er allerede sendt eller satt i kø til %(recipient)s.")
                % {"recipient": one_line(recipient)}
            )
        delivery = LetterDelivery.objects.create(
            letter=letter,
            channel=channel,
            recipient=recipient,
            reason=LetterDelivery.Reason.RESEND,
            created_by=actor,
        )
        if channel == Channel.EMAIL:
            message = _("%(letter)s sendes på nytt på e-post til %(recipient)s.")
        else:
            message = _("%(letter)s sendes på nytt i posten til %(recipient)s.")
        _event(
            case,
            delivery,
            actor=actor,
            message=message
            % {"letter": letter.get_kind_display(), "recipient": one_line(recipient)},
        )
        _queue(delivery.pk)
    return delivery


def delivery_retry(*, delivery_ids: Iterable[int]) -> int:
    """Admin «Prøv igjen nå»: failed rows (also those given up on) go out at the next try."""
    return LetterDelivery.objects.filter(
        pk__in=list(delivery_ids), status__in=[Status.FAILED, Status.BOUNCED, Status.QUEUED]
    ).update(status=Status.QUEUED, attempts=0, next_attempt_at=timezone.now(), last_error="")


# --- sending --------------------------------------------------------------------------------


def backoff(attempts: int) -> dt.timedelta:
    """1 min, 2 min, 4 min, … up to 6 hours."""
    exponent = min(max(attempts - 1, 0), 16)
    return min(BACKOFF_BASE * 2**exponent, BACKOFF_MAX)


def _sendable():
    """Deliveries that may go out: their case's creditor is verified (issue 15). Any other
    stays *queued* — held, not failed — and goes out with the first sweep after
    :func:`creditors.services.creditor_verify`."""
    from creditors.selectors import verified_creditor_ids

    return LetterDelivery.objects.filter(letter__case__creditor_id__in=verified_creditor_ids())


def _claim(delivery_id: int, now) -> LetterDelivery | None:
    """:func:`claim_deliveries` of one row: the row, or ``None`` when it was not claimed."""
    claimed = claim_deliveries([delivery_id], now)
    return claimed[0] if claimed else None


def claim_deliveries(delivery_ids: Sequence[int], now) -> list[LetterDelivery]:
    """Take the rows that are due for one attempt each (queued/failed/lease run out → sending,
    one more attempt, a lease from ``now``), in the order given; the rows claimed, with their
    letter, case, debtor and creditor. Of two workers exactly one gets a row: the rows are
    read ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; on SQLite the transaction is ``IMMEDIATE``,
    one writer at a time) and re-checked in the same transaction. A held row (unverified
    creditor) is not claimed."""
    with transaction.atomic():
        ids = list(
            _sendable()
            .filter(pk__in=list(delivery_ids), status__in=CLAIMABLE, next_attempt_at__lte=now)
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)
        )
        if not ids:
            return []
        LetterDelivery.objects.filter(pk__in=ids).update(
            status=Status.SENDING,
            attempts=F("attempts") + 1,
            next_attempt_at=now + LEASE,
            updated_at=now,
        )
    rows = LetterDelivery.objects.select_related(
        "letter", "letter__case", "letter__case__debtor", "letter__case__creditor"
    ).in_bulk(ids)
    return [rows[pk] for pk in dict.fromkeys(delivery_ids) if pk in rows]


def render_letter(letter: Letter) -> bytes:
    """The letter's PDF (rendered once and stored by the documents module)."""
    return _letter_pdf_issued(letter)[0]


def _letter_pdf_issued(letter: Letter) -> tuple[bytes, PortalAccess | None]:
    from collections_cases.letters import documents

    return documents.letter_pdf_issued(letter)


def _read_file(field) -> bytes | None:
    if not field:
        return None
    try:
        with field.open("rb") as handle:
            return handle.read()
    except OSError:
        logger.exception("Stored delivery copy %s is unreadable", field.name)
        return None


def delivery_document(delivery: LetterDelivery) -> tuple[bytes, PortalAccess | None]:
    """The PDF this delivery sends and the Min side access printed on it.

    * The first delivery sends the letter's stored PDF with the code issued when it was first
      rendered.
    * A re-send, or a first delivery whose letter has no valid code any more (revoked by a
      case handler before it left, or a letter rendered before codes existed), gets a copy of
      its own with a new code; the letter's other codes are revoked (rotation). The copy is
      stored on the delivery, so a retry (and the print queue) sends the same copy and code.
      The code itself is only ever in the PDF.
    """
    from collections_cases.letters import documents
    from collections_cases.portal import access as portal_access

    letter = delivery.letter
    if delivery.pdf:
        stored = _read_file(delivery.pdf)
        access = PortalAccess.objects.valid().filter(delivery=delivery).order_by("-pk").first()
        if stored is not None and access is not None:
            return stored, access
    elif delivery.reason == LetterDelivery.Reason.INITIAL:
        pdf, access = _letter_pdf_issued(letter)  # the access when drawn now: not read again
        access = access or portal_access.letter_access(letter)
        if access is not None:
            return pdf, access

    issued = portal_access.access_issue(
        case=letter.case, letter=letter, delivery=delivery, replaces_letter_codes=True
    )
    try:
        data = documents.letter_document(letter, access_code=issued.code)
        field = delivery.pdf.field
        name = field.storage.save(
            field.generate_filename(delivery, documents.letter_filename(letter)),
            ContentFile(data),
        )
    except BaseException:
        portal_access.access_discard(issued.access)
        raise
    old = delivery.pdf.name if delivery.pdf else ""
    LetterDelivery.objects.filter(pk=delivery.pk).update(pdf=name)
    delivery.pdf.name = name
    if old:
        field.storage.delete(old)
    return data, issued.access


def delivery_pdf(delivery: LetterDelivery) -> bytes:
    """What the delivery sent: its own copy when it has one, else the letter's stored PDF."""
    return _read_file(delivery.pdf) or render_letter(delivery.letter)


def one_line(recipient: str) -> str:
    return ", ".join(line for line in recipient.splitlines() if line)


def _event(case, delivery: LetterDelivery, *, message: str, actor=None) -> CaseEvent:
    return changes.record_event(
        case,
        kind=CaseEvent.Kind.LETTER_DELIVERY,
        actor=actor,
        message=message,
        data={
            "letter_id": delivery.letter_id,
            "delivery_id": delivery.pk,
            "channel": delivery.channel,
            "status": delivery.status,
        },
    )


def _reply_to() -> str:
    return settings.AGENCY_EMAIL or settings.DEFAULT_FROM_EMAIL


def letter_email(
    delivery: LetterDelivery, pdf: bytes, access: PortalAccess | None = None
) -> EmailMultiAlternatives:
    """The e-mail carrying the letter: Norwegian text and HTML bodies, the PDF attached, and
    the debtor's personal Min side link for ``access`` (the code printed in the PDF)."""
    from collections_cases.letters import documents
    from collections_cases.letters.documents import formatting
    from collections_cases.portal.access import link_url

    letter = delivery.letter
    case = letter.case
    amounts = letter.amounts or {}
    context = {
        "letter": letter,
        "kind": letter.get_kind_display(),
        "case": case,
        "debtor": case.debtor,
        "creditor": case.creditor,
        "total": format_nok(amounts.get("total")) if amounts.get("total") else "",
        "deadline": letter.deadline.strftime("%d.%m.%Y"),
        "reply_to": _reply_to(),
        "agency": formatting.agency(),
        "min_side_url": formatting.min_side_url(),
        "min_side_link": link_url(access) if access is not None else "",
    }
    with translation.override("nb"):
        subject = " ".join(render_to_string("emails/letter_subject.txt", context).split())
        text = render_to_string("emails/letter.txt", context)
        html = render_to_string("emails/letter.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.recipient],
        reply_to=[_reply_to()],
    )
    message.attach_alternative(html, "text/html")
    message.attach(documents.letter_filename(letter), pdf, "application/pdf")
    return message


def delivery_send(*, delivery_id: int) -> str:
    """One attempt at the delivery, if it is due and no one else holds it; returns the
    outcome (``skipped`` when not claimed)."""
    now = timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return "skipped"
    return _attempt(delivery, now)


#: Rows :func:`delivery_send_many` claims at a time: each chunk's lease starts when it is
#: claimed, so a slow chunk (original invoices fetched from PowerOffice Go) never outlives it,
#: and the rows after it stay *queued* (for the sweep, should the worker die).
CLAIM_CHUNK = 25


def delivery_send_many(*, delivery_ids: Sequence[int], budget: dt.timedelta | None = None):
    """:func:`delivery_send` for many rows (a dunning batch's letters, the sweep): claimed
    :data:`CLAIM_CHUNK` at a time, the e-mails of a chunk sent over one connection to the mail
    server, and the chunk's case changes sent in one
    :data:`~collections_cases.signals.cases_changed` instead of a ``case_changed`` each. Each
    delivery's outcome is still recorded (with its event) as soon as it is known, so a worker
    that dies mid-chunk sends no letter twice.

    Returns ``(outcomes, rest)``: the number of each outcome, and the ids not tried because
    ``budget`` (wall time) ran out — the caller queues them again."""
    from collections_cases.models import CollectionCase
    from collections_cases.signals import cases_changed

    ids = list(dict.fromkeys(delivery_ids))
    outcomes: Counter = Counter()
    started = timezone.now()
    for start in range(0, len(ids), CLAIM_CHUNK):
        if budget is not None and start and timezone.now() - started >= budget:
            return outcomes, ids[start:]
        chunk = ids[start : start + CLAIM_CHUNK]
        now = timezone.now()
        claimed = claim_deliveries(chunk, now)
        if len(claimed) < len(chunk):
            outcomes["skipped"] += len(chunk) - len(claimed)
        if not claimed:
            continue
        _prefetch_drawing(claimed)
        connection = (
            _mail_connection() if any(d.channel == Channel.EMAIL for d in claimed) else None
        )
        with changes.changes_collected() as collected:
            try:
                for delivery in claimed:
                    outcomes[_attempt(delivery, now, connection=connection)] += 1
            finally:
                if connection is not None:
                    connection.close()
        if collected:  # no transaction is open here: sent at once
            transaction.on_commit(
                lambda c=list(collected): cases_changed.send(sender=CollectionCase, changes=c)
            )
    return outcomes, []


def _prefetch_drawing(deliveries: Sequence[LetterDelivery]) -> None:
    """What drawing the letters of ``deliveries`` reads, read for the chunk at once: for each
    delivery :func:`delivery_document` will draw (a first delivery of a letter not drawn yet, a
    re-send without its own copy yet)."""
    from collections_cases.letters import documents

    letters = [
        delivery.letter
        for delivery in deliveries
        if not delivery.pdf
        and (delivery.reason != LetterDelivery.Reason.INITIAL or not delivery.letter.pdf)
    ]
    if letters:
        documents.letters_prefetch(letters)


def _mail_connection():
    """A connection to the mail server, opened, for a chunk's e-mails. One that cannot be
    opened is handed on unopened: each e-mail then tries to open its own, and its failure is
    recorded on its delivery."""
    from django.core.mail import get_connection

    connection = get_connection()
    try:
        connection.open()
    except Exception:  # noqa: BLE001 - recorded on each delivery when it fails to send
        logger.warning("Could not open a connection to the mail server", exc_info=True)
    return connection


def _attempt(delivery: LetterDelivery, now, *, connection=None) -> str:
    """The claimed ``delivery`` rendered (when not yet) and sent, and its outcome recorded."""
    try:
        if delivery.channel == Channel.POST and "\n" not in delivery.recipient:
            raise PermanentDeliveryError(_("Skyldneren mangler både e-post og postadresse."))
        pdf, access = delivery_document(delivery)
        if delivery.channel == Channel.EMAIL:
            message = letter_email(delivery, pdf, access)
            message.connection = connection
            try:
                message.send(fail_silently=False)
            except Exception:
                if connection is not None:
                    connection.close()  # perhaps broken: each next e-mail opens its own
                raise
    except smtplib.SMTPRecipientsRefused as exc:
        return _record_failure(delivery, _smtp_error(exc), now, bounced=True)
    except PermanentDeliveryError as exc:
        return _record_failure(delivery, str(exc), now, permanent=True)
    except Exception as exc:  # any failure is recorded and retried, never lost
        logger.warning("Delivery %s failed", delivery.pk, exc_info=True)
        return _record_failure(delivery, f"{type(exc).__name__}: {exc}", now)
    return _record_success(delivery)


def _smtp_error(exc: smtplib.SMTPRecipientsRefused) -> str:
    refused = "; ".join(
        f"{address}: {code} {detail.decode(errors='replace') if isinstance(detail, bytes) else detail}"
        for address, (code, detail) in exc.recipients.items()
    )
    return _("Mottakeren ble avvist av e-postserveren: %(error)s") % {"error": refused or exc}


def _record_success(delivery: LetterDelivery) -> str:
    letter = delivery.letter
    now = timezone.now()
    with transaction.atomic():
        if delivery.channel == Channel.EMAIL:
            status, changes = Status.SENT, {"sent_at": now}
            message = _("%(letter)s sendt på e-post til %(recipient)s.")
        else:
            status, changes = Status.PRINT_QUEUED, {}
            message = _("%(letter)s lagt i utskriftskø for post til %(recipient)s.")
        LetterDelivery.objects.filter(pk=delivery.pk).update(
            status=status, next_attempt_at=None, last_error="", updated_at=now, **changes
        )
        delivery.status = status
        _event(
            letter.case,
            delivery,
            message=message
            % {"letter": letter.get_kind_display(), "recipient": one_line(delivery.recipient)},
        )
    return status


def _record_failure(
    delivery: LetterDelivery, error: str, now, *, permanent: bool = False, bounced: bool = False
) -> str:
    error = error[:2000]
    retry = not (permanent or bounced) and delivery.attempts < MAX_ATTEMPTS
    status = Status.BOUNCED if bounced else Status.FAILED
    next_attempt_at = now + backoff(delivery.attempts) if retry else None
    with transaction.atomic():
        LetterDelivery.objects.filter(pk=delivery.pk).update(
            status=status,
            last_error=error,
            next_attempt_at=next_attempt_at,
            updated_at=timezone.now(),
        )
        delivery.status = status
        # One event when a delivery first fails and one when it is given up: not one per retry.
        if delivery.attempts == 1 or not retry:
            if retry:
                message = _("Sending feilet: %(error)s Nytt forsøk %(at)s.") % {
                    "error": error,
                    "at": timezone.localtime(next_attempt_at).strftime("%d.%m.%Y %H:%M"),
                }
            else:
                message = _("Sending feilet: %(error)s Sendes ikke på nytt automatisk.") % {
                    "error": error
                }
            _event(delivery.letter.case, delivery, message=message)
    return status


def delivery_sweep(*, limit: int = 200) -> dict[str, int]:
    """Beat: try every delivery that is due (queued, failed with a retry due, or sending
    with its lease run out), oldest first."""
    ids = list(
        _sendable()  # held rows are not picked (they would crowd out the rest every sweep)
        .filter(status__in=CLAIMABLE, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    outcomes, _rest = delivery_send_many(delivery_ids=ids)
    return dict(outcomes)


# --- print queue ----------------------------------------------------------------------------


def print_queue_pdf(*, deliveries: Iterable[LetterDelivery]) -> bytes:
    """The post deliveries' letters as one PDF to print, in the order given."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    count = 0
    for delivery in deliveries:
        if delivery.channel != Channel.POST:
            continue
        writer.append(PdfReader(io.BytesIO(delivery_pdf(delivery))))
        count += 1
    if not count:
        raise ApplicationError(_("Ingen brev til post er valgt."))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def delivery_mark_posted(*, deliveries: Iterable[LetterDelivery], actor) -> int:
    """Staff put the printed letters in the post: *i utskriftskø* → *postlagt*."""
    marked = 0
    for delivery in deliveries:
        with transaction.atomic():
            now = timezone.now()
            updated = LetterDelivery.objects.filter(
                pk=delivery.pk, channel=Channel.POST, status=Status.PRINT_QUEUED
            ).update(status=Status.POSTED, posted_at=now, updated_at=now)
            if not updated:
                continue
            delivery.status = Status.POSTED
            letter = delivery.letter
            _event(
                letter.case,
                delivery,
                actor=actor,
                message=_("%(letter)s postlagt til %(recipient)s.")
                % {"letter": letter.get_kind_display(), "recipient": one_line(delivery.recipient)},
            )
            marked += 1
    return marked
