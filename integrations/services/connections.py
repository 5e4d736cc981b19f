"""A creditor's PowerOffice Go connection: store it, refresh what we know, disconnect.

Claim → call → record: functions that talk to PoGo (``company_snapshot_fetch``) touch no
database rows, and functions that write (``connection_record`` …) make no PoGo call, so no
HTTP request ever waits inside an open transaction.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from creditors.models import AuditEntry, Creditor
from creditors.team.services import audit_record
from integrations.clients import poweroffice_client
from integrations.models import PowerOfficeConnection, PowerOfficeConnectionEvent
from integrations.poweroffice import errors as pogo_errors
from kravia_web.errors import ApplicationError

logger = logging.getLogger(__name__)


@dataclass
class CompanySnapshot:
    """What PoGo told us about a company right after (or long after) it was connected."""

    company_info: dict = field(default_factory=dict)
    valid_privileges: list[str] = field(default_factory=list)
    invalid_privileges: list[str] = field(default_factory=list)
    chart_of_accounts: dict = field(default_factory=dict)
    #: ``IsActiveDebtCollection``; None when it could not be read (asked again by the sync).
    debt_collection_active: bool | None = None
    # Set when one of the reads failed: shown to the user as the connection's last error.
    error: str = ""

    @property
    def complete(self) -> bool:
        return not self.error


def error_message(exc: Exception) -> str:
    """A Norwegian sentence for a PoGo failure: what happened and what to do. Never a secret."""
    if isinstance(exc, pogo_errors.Unauthorized):
        return _(
            "PowerOffice Go godtok ikke nøkkelen vår. Integrasjonen kan være deaktivert i Go. "
            "Koble fra og gi tilgang på nytt."
        )
    if isinstance(exc, pogo_errors.Forbidden):
        return _(
            "PowerOffice Go nektet tilgang: integrasjonen mangler en rettighet eller en modul i Go. "
            "Sjekk rettighetene under Integrasjon og gi tilgang på nytt om nødvendig."
        )
    if isinstance(exc, pogo_errors.RateLimited):
        return _("PowerOffice Go har for mange forespørsler akkurat nå. Prøv igjen om et minutt.")
    if isinstance(exc, pogo_errors.Unavailable):
        return _("Vi fikk ikke kontakt med PowerOffice Go. Prøv igjen om noen minutter.")
    return _("PowerOffice Go svarte med en feil vi ikke ventet. Prøv igjen, eller kontakt oss.")


def _plain(value):
    """JSON-safe copy of a client object (dataclasses, Decimals, dates)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _company_info(settings_obj) -> dict:
    raw = _plain(settings_obj)
    address = raw.get("mail_address") or {}
    if not isinstance(address, dict):
        address = {}
    return {
        "name": raw.get("name") or "",
        "legal_name": raw.get("legal_name") or "",
        "organization_number": raw.get("organization_number") or "",
        "email_address": raw.get("email_address") or "",
        "address_line": address.get("address_line1") or address.get("address_line") or "",
        "zip_code": address.get("zip_code") or "",
        "city": address.get("city") or "",
        "country_code": address.get("country_code") or "",
    }


def company_snapshot_fetch(*, client_key: str) -> CompanySnapshot:
    """Read organisation settings, privileges and the chart of accounts with ``client_key``.

    Makes PoGo calls and no database writes. A failing read is recorded in ``error`` instead
    of raised: the key is already issued and must not be lost because one read failed.
    """
    snapshot = CompanySnapshot()
    client = poweroffice_client(client_key=client_key)
    try:
        snapshot.company_info = _company_info(client.organization_settings())
        info = client.client_integration_information()
        snapshot.valid_privileges = [str(p) for p in (info.valid_privileges or [])]
        snapshot.invalid_privileges = [str(p) for p in (info.invalid_privileges or [])]
        snapshot.chart_of_accounts = {
            str(account.account_no): {"name": account.name, "is_active": bool(account.is_active)}
            for account in client.general_ledger_accounts()
        }
    except pogo_errors.PowerOfficeError as exc:
        logger.warning("Reading company data from PowerOffice Go failed: %s", type(exc).__name__)
        snapshot.error = error_message(exc)
        return snapshot
    snapshot.debt_collection_active = debt_collection_fetch(client)
    return snapshot


def debt_collection_fetch(client) -> bool | None:
    """Ask Go whether we may create cases for the company (``IsActiveDebtCollection``): false
    while another agency holds it. A failed read is None (unknown, asked again by the next
    sync), not an error of the connection. PoGo call only."""
    try:
        return client.dc_is_active()
    except pogo_errors.PowerOfficeError as exc:
        logger.warning("IsActiveDebtCollection failed: %s", type(exc).__name__)
        return None


#: What Go answers a listing of released invoices or a case creation while another agency
#: holds the company (a refusal, not an outage): the answer of ``IsActiveDebtCollection`` is
#: then asked again.
DEBT_COLLECTION_REFUSALS = (
    pogo_errors.Forbidden,
    pogo_errors.ValidationError,
    pogo_errors.Conflict,
)


def debt_collection_forget(*, creditor_id: int) -> None:
    """Go refused a case creation: the next sync asks ``IsActiveDebtCollection`` instead of
    trusting its last yes. Database only."""
    PowerOfficeConnection.objects.filter(creditor_id=creditor_id).update(
        debt_collection_checked_at=None
    )


def debt_collection_record(*, connection_id: int, active: bool | None, now=None) -> bool:
    """Store what ``IsActiveDebtCollection`` said; a change is written to the connection's
    history. Database only. Returns whether the value changed."""
    if active is None:
        return False
    now = now or timezone.now()
    with transaction.atomic():
        connection = PowerOfficeConnection.objects.select_for_update().get(pk=connection_id)
        changed = connection.debt_collection_active is not active
        PowerOfficeConnection.objects.filter(pk=connection_id).update(
            debt_collection_active=active, debt_collection_checked_at=now
        )
        # The first answer after connecting is history only when it is a refusal.
        if changed and (connection.debt_collection_active is not None or not active):
            PowerOfficeConnectionEvent.objects.create(
                connection=connection,
                kind=(
                    PowerOfficeConnectionEvent.Kind.AGENCY_ACTIVE
                    if active
                    else PowerOfficeConnectionEvent.Kind.AGENCY_INACTIVE
                ),
                created_at=now,
            )
    return changed


def _apply_snapshot(connection: PowerOfficeConnection, snapshot: CompanySnapshot, now) -> None:
    if snapshot.company_info:
        connection.company_info = snapshot.company_info
        connection.company_info_fetched_at = now
    if snapshot.valid_privileges or snapshot.invalid_privileges:
        connection.valid_privileges = snapshot.valid_privileges
        connection.invalid_privileges = snapshot.invalid_privileges
    if snapshot.chart_of_accounts:
        connection.chart_of_accounts = snapshot.chart_of_accounts
    if snapshot.debt_collection_active is not None:
        connection.debt_collection_active = snapshot.debt_collection_active
        connection.debt_collection_checked_at = now
    if snapshot.complete:
        connection.last_sync_at = now
        connection.last_error = ""
        connection.last_error_at = None
    else:
        connection.last_error = snapshot.error
        connection.last_error_at = now


def connection_record(
    *,
    creditor: Creditor,
    actor,
    client_key: str,
    client_name: str,
    client_org_number: str,
    onboarded_by_email: str,
    snapshot: CompanySnapshot,
) -> PowerOfficeConnection:
    """Store a fresh connection (or reconnect a disconnected one). Database only."""
    now = timezone.now()
    with transaction.atomic():
        connection = (
            PowerOfficeConnection.objects.select_for_update().filter(creditor=creditor).first()
        )
        if connection is None:
            connection = PowerOfficeConnection(creditor=creditor)
        elif connection.is_connected:
            # Another tab finished first; the newest key wins, as in PoGo itself.
            logger.info("Replacing the PowerOffice Go key of creditor %s", creditor.pk)
        connection.client_key = client_key
        connection.client_name = client_name
        connection.client_org_number = client_org_number
        connection.onboarded_by_email = onboarded_by_email
        connection.connected_at = now
        connection.connected_by = actor
        connection.disconnected_at = None
        connection.disconnected_by = None
        _apply_snapshot(connection, snapshot, now)
        connection.save()
        PowerOfficeConnectionEvent.objects.create(
            connection=connection,
            kind=PowerOfficeConnectionEvent.Kind.CONNECTED,
            actor=actor,
            detail=snapshot.error,
            created_at=now,
        )
        audit_record(
            creditor=creditor,
            actor=actor,
            action=AuditEntry.Action.POWEROFFICE_CONNECTED,
            summary=_("Koblet til PowerOffice Go (%(name)s, %(org)s).")
            % {"name": client_name or "–", "org": client_org_number},
        )
    return connection


def connection_refresh(*, creditor: Creditor, actor) -> PowerOfficeConnection:
    """Read company information, privileges and chart of accounts again (claim → call → record)."""
    connection = PowerOfficeConnection.objects.filter(creditor=creditor).first()
    if connection is None or not connection.is_connected:
        raise ApplicationError(
            _("%(name)s er ikke koblet til PowerOffice Go.") % {"name": creditor.name}
        )
    client_key = connection.client_key
    snapshot = company_snapshot_fetch(client_key=client_key)
    now = timezone.now()
    with transaction.atomic():
        connection = PowerOfficeConnection.objects.select_for_update().get(pk=connection.pk)
        if connection.client_key != client_key or not connection.is_connected:
            raise ApplicationError(_("Tilkoblingen ble endret mens vi hentet data. Prøv igjen."))
        _apply_snapshot(connection, snapshot, now)
        connection.save()
        PowerOfficeConnectionEvent.objects.create(
            connection=connection,
            kind=(
                PowerOfficeConnectionEvent.Kind.REFRESHED
                if snapshot.complete
                else PowerOfficeConnectionEvent.Kind.REFRESH_FAILED
            ),
            actor=actor,
            detail=snapshot.error,
            created_at=now,
        )
    return connection


def connection_disconnect(*, creditor: Creditor, actor) -> PowerOfficeConnection:
    """Forget the client key; keep the row and its history."""
    now = timezone.now()
    with transaction.atomic():
        connection = (
            PowerOfficeConnection.objects.select_for_update().filter(creditor=creditor).first()
        )
        if connection is None or not connection.is_connected:
            raise ApplicationError(
                _("%(name)s er ikke koblet til PowerOffice Go.") % {"name": creditor.name}
            )
        connection.client_key = ""
        connection.disconnected_at = now
        connection.disconnected_by = actor
        connection.save(
            update_fields=["client_key", "disconnected_at", "disconnected_by", "updated_at"]
        )
        PowerOfficeConnectionEvent.objects.create(
            connection=connection,
            kind=PowerOfficeConnectionEvent.Kind.DISCONNECTED,
            actor=actor,
            created_at=now,
        )
        audit_record(
            creditor=creditor,
            actor=actor,
            action=AuditEntry.Action.POWEROFFICE_DISCONNECTED,
            summary=_("Koblet fra PowerOffice Go."),
        )
    return connection
