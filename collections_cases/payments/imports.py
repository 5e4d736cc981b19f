"""Import a bank file (camt.054 or OCR giro): payments are matched and allocated, reversals
undo the payment they reverse (:mod:`collections_cases.payments.reversals`), entries that are
not money in are counted, records skipped as malformed are reported by line or element.

Every file imports as one transaction: it is parsed completely first (a malformed file is
refused whole, naming the line or element), then written inside ``transaction.atomic()``.
"""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_cases.models import Payment, PaymentImport, PaymentReversal
from collections_cases.payments import parsers, reversals
from collections_cases.payments.services import payment_match
from kravia_web.errors import ApplicationError


def payments_import_file(*, content: bytes, file_name: str, actor=None) -> PaymentImport:
    """Import a camt.054 or OCR giro file, all or nothing. Raises :class:`ApplicationError`
    for a malformed file (naming the line or element) or a file already imported."""
    digest = hashlib.sha256(content).hexdigest()
    earlier = PaymentImport.objects.filter(sha256=digest).first()
    if earlier is not None:
        raise ApplicationError(
            _("Filen er allerede importert (%(name)s, %(at)s); ingenting ble importert på nytt.")
            % {
                "name": earlier.file_name,
                "at": timezone.localtime(earlier.imported_at).strftime("%d.%m.%Y %H:%M"),
            }
        )
    try:
        parsed = parsers.parse(content)
    except parsers.PaymentFileError as exc:
        raise ApplicationError(
            _("%(name)s kan ikke importeres: %(error)s Ingenting er importert.")
            % {"name": file_name, "error": exc}
        ) from exc
    user = actor if actor is not None and not isinstance(actor, str) else None
    with transaction.atomic():
        batch = PaymentImport.objects.create(
            file_name=file_name[:255],
            format=parsed.format,
            sha256=digest,
            imported_by=user,
            transactions_count=len(parsed.items) + len(parsed.skipped),
            ignored_count=parsed.ignored,
            skipped=parsed.skipped,
            account=parsed.account,
        )
        seen: set[str] = set()
        # Payments first: a file may hold a payment and, later the same day, its reversal.
        ordered = [i for i in parsed.items if not i.is_reversal] + [
            i for i in parsed.items if i.is_reversal
        ]
        for item in ordered:
            model = PaymentReversal if item.is_reversal else Payment
            if (item.kind, item.external_reference) in seen or model.objects.filter(
                external_reference=item.external_reference
            ).exists():
                # Already imported from another file (a re-sent statement): never twice.
                batch.duplicate_count += 1
                continue
            seen.add((item.kind, item.external_reference))
            if item.is_reversal:
                reversal = reversals.reversal_import(item=item, source=parsed.format, batch=batch)
                if reversal.status == PaymentReversal.Status.REVERSED:
                    batch.reversal_count += 1
                else:
                    batch.reversal_unmatched_count += 1
                continue
            payment = Payment.objects.create(
                source=parsed.format,
                external_reference=item.external_reference,
                amount=item.amount,
                paid_on=item.paid_on,
                kid=item.kid,
                payer_name=item.payer_name,
                payer_reference=item.payer_reference,
                import_batch=batch,
            )
            batch.created_count += 1
            payment = payment_match(payment=payment)
            if payment.status == Payment.Status.ALLOCATED:
                batch.matched_count += 1
            else:
                batch.unmatched_count += 1
        batch.save()
    return batch
