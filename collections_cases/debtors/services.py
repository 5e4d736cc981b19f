"""Writes to a debtor from Kundeweb: contact details and the per-debtor collection profile."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from creditors.models import Debtor
from kravia_web.errors import ApplicationError

#: What a creditor may change here; everything else mirrors PowerOffice Go (the sync's).
DEBTOR_EDITABLE_FIELDS = (
    "email",
    "reminder_email",
    "phone",
    "address_line",
    "postal_code",
    "postal_city",
    "entry_step",
    "do_not_add_late_payment_interest",
    "do_not_add_late_payment_fees",
    "collection_opt_out",
)


def debtor_update(*, debtor: Debtor, actor, data: dict) -> Debtor:
    """Set the editable fields present in ``data`` on the locked row, validated by the model's
    own field validators; ApplicationError (with ``extra["fields"]``) when a value is invalid.
    ``actor`` is the user who edited (kept for the signature of every service; debtors have
    no audit table yet)."""
    unknown = set(data) - set(DEBTOR_EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(
            _("Disse feltene kan ikke endres her: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )
    with transaction.atomic():
        locked = Debtor.objects.select_for_update().get(pk=debtor.pk)
        changed = [name for name in data if getattr(locked, name) != data[name]]
        for name in changed:
            value = data[name]
            setattr(locked, name, value.strip() if isinstance(value, str) else value)
        try:
            locked.clean_fields(
                exclude=[f.name for f in Debtor._meta.fields if f.name not in changed]
            )
        except ValidationError as exc:
            raise ApplicationError(
                _("Skyldneren ble ikke lagret: rett feltene som er merket."),
                extra={"fields": exc.message_dict},
            ) from exc
        if changed:
            locked.save(update_fields=[*changed, "updated_at"])
    return locked
