"""The integration status page's reads and its one write (*Synkroniser nå*).

Errors are stored as text (the connection's and the sync run's Norwegian sentence from
``services.connections.error_message``; an outbox row's ``str()`` of the typed error, which
ends with ``(HTTP nnn)``). ``explain`` turns either back into what happened and what to do.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from creditors.models import AuditEntry, Creditor
from creditors.team.services import audit_record
from integrations.models import (
    MatchedItem,
    OutboxMessage,
    PowerOfficeConnection,
    SyncCursor,
    SyncRun,
)
from integrations.poweroffice import errors as pogo_errors
from integrations.services.connections import error_message
from integrations.services.sync import STALE_RUN
from kravia_web.errors import ApplicationError

#: How long a click on *Synkroniser nå* holds off the next one before the run has started.
SYNC_REQUEST_SECONDS = 120
RECENT_RUNS = 10
OUTBOX_ROWS = 20

_HTTP_STATUS = re.compile(r"\(HTTP (\d{3})\)\s*$")


@dataclass(frozen=True)
class Explanation:
    kind: str
    title: str
    advice: str
    detail: str = ""
    reconnect: bool = False


def _stored(exc_class) -> str:
    """The sentence the sync stored for ``exc_class`` (written in bokmål by the worker)."""
    with override("nb"):
        return error_message(exc_class("x"))


def _kind_of(text: str) -> str:
    match = _HTTP_STATUS.search(text)
    status = int(match.group(1)) if match else None
    if text == _stored(pogo_errors.Unauthorized) or status == 401:
        return "revoked"
    if text == _stored(pogo_errors.Forbidden) or status == 403:
        return "forbidden"
    if text == _stored(pogo_errors.RateLimited) or status == 429:
        return "rate_limited"
    if text == _stored(pogo_errors.Unavailable) or (status is not None and status >= 500):
        return "unavailable"
    if status in (400, 404, 409, 422):
        return "rejected"
    with override("nb"):
        internal = _("Synkroniseringen stoppet på en intern feil.")
    if text == internal:
        return "internal"
    return "other"


def explain(text: str) -> Explanation | None:
    """What a stored error means for the creditor, in plain Norwegian; None for no error."""
    text = (text or "").strip()
    if not text:
        return None
    kind = _kind_of(text)
    if kind == "revoked":
        return Explanation(
            kind,
            _("Tilgangen er trukket tilbake i PowerOffice Go – koble til på nytt"),
            _(
                "PowerOffice Go godtar ikke lenger nøkkelen vår, oftest fordi integrasjonen er "
                "deaktivert under Innstillinger → Integrasjoner i Go. Trykk «Koble til på nytt» "
                "og gi tilgang igjen; sakene dine fortsetter som før."
            ),
            reconnect=True,
        )
    if kind == "forbidden":
        return Explanation(
            kind,
            _("PowerOffice Go nektet tilgang til en del av regnskapet"),
            _(
                "Integrasjonen mangler en rettighet eller en modul i Go. Se rettighetene under, "
                "slå på det som mangler i Go og koble til på nytt."
            ),
            reconnect=True,
        )
    if kind == "rate_limited":
        return Explanation(
            kind,
            _("PowerOffice Go ba oss vente litt"),
            _(
                "Go begrenser hvor mange forespørsler vi får sende per minutt. Vi prøver igjen "
                "automatisk ved neste synkronisering – du trenger ikke gjøre noe."
            ),
        )
    if kind == "unavailable":
        return Explanation(
            kind,
            _("PowerOffice Go svarte ikke"),
            _(
                "Go var utilgjengelig eller svarte med en feil på sin side. Vi prøver igjen "
                "automatisk om noen minutter. Varer det mer enn en time, kontakt oss."
            ),
        )
    if kind == "rejected":
        return Explanation(
            kind,
            _("PowerOffice Go avviste en forespørsel"),
            _(
                "Go godtok ikke det vi sendte (for eksempel en sak eller en status). Vi prøver "
                "ikke på nytt av oss selv; kontakt oss, så retter vi det."
            ),
            detail=text,
        )
    if kind == "internal":
        return Explanation(
            kind,
            _("Synkroniseringen stoppet på en feil hos oss"),
            _("Trykk «Synkroniser nå» for å prøve igjen. Skjer det igjen, kontakt oss."),
        )
    return Explanation(kind, _("Noe gikk galt i kontakten med PowerOffice Go"), text)


# --------------------------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------------------------


@dataclass
class ResourceStatus:
    key: str
    label: str
    read_until: dt.datetime | None
    last_run: SyncRun | None
    counts: dict


@dataclass
class IntegrationStatus:
    connection: PowerOfficeConnection | None
    state: str  # missing | disconnected | revoked | error | ok
    problem: Explanation | None
    running: SyncRun | None
    runs: list[SyncRun]
    resources: list[ResourceStatus]
    matched: dict[str, int]
    outbox_counts: dict[str, int]
    outbox_rows: list[OutboxMessage]
    #: What the last finished run skipped or failed on, less the failure shown as ``problem``.
    skipped: list[dict] = field(default_factory=list)

    @property
    def last_run(self) -> SyncRun | None:
        return next((run for run in self.runs if run.status != SyncRun.Status.RUNNING), None)


#: Labels are lazy: this table is built at import, the page is read in the user's language.
RESOURCES = (
    ("customers", gettext_lazy("Kunder"), SyncCursor.Resource.CUSTOMERS),
    ("invoices", gettext_lazy("Fakturaer"), SyncCursor.Resource.INVOICES),
    ("accounts", gettext_lazy("Kontoplan"), None),
    ("released", gettext_lazy("Fakturaer overført til inkasso"), None),
    (
        "matched_items",
        gettext_lazy("Innbetalinger og kreditnotaer i Go"),
        SyncCursor.Resource.MATCHED_ITEMS,
    ),
    ("outbox", gettext_lazy("Saker og statuser sendt til Go"), None),
)


COUNT_ORDER = ("fetched", "created", "updated", "skipped", "sent", "failed")


def _ordered(counts: dict) -> dict:
    """A run's counts in reading order (PostgreSQL's jsonb does not keep the written order)."""
    rank = {key: i for i, key in enumerate(COUNT_ORDER)}
    return dict(sorted(counts.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0])))


def _running(connection: PowerOfficeConnection, runs: list[SyncRun]) -> SyncRun | None:
    fresh_after = timezone.now() - STALE_RUN
    return next(
        (r for r in runs if r.status == SyncRun.Status.RUNNING and r.started_at >= fresh_after),
        None,
    )


def integration_status(*, creditor: Creditor) -> IntegrationStatus:
    """Everything the status page shows, in a fixed number of queries.

    ``creditor`` must come from ``creditors.selectors`` (a creditor the user is a member of).
    """
    connection = PowerOfficeConnection.objects.filter(creditor=creditor).first()
    outbox = OutboxMessage.objects.filter(creditor=creditor)
    outbox_counts = dict(
        outbox.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    outbox_rows = list(
        outbox.filter(status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.FAILED])
        .select_related("case")
        .order_by("-status", "next_attempt_at", "pk")[:OUTBOX_ROWS]
    )
    for row in outbox_rows:
        row.explanation = explain(row.last_error)
    matched = dict(
        MatchedItem.objects.filter(creditor=creditor)
        .order_by()
        .values_list("outcome")
        .annotate(n=Count("pk"))
        .values_list("outcome", "n")
    )
    if connection is None:
        return IntegrationStatus(
            None, "missing", None, None, [], [], matched, outbox_counts, outbox_rows
        )
    runs = list(connection.sync_runs.order_by("-started_at", "-pk")[:RECENT_RUNS])
    cursors = dict(connection.sync_cursors.values_list("resource", "value"))
    resources = []
    for key, label, cursor in RESOURCES:
        last = next((r for r in runs if key in (r.counts or {})), None)
        resources.append(
            ResourceStatus(
                key=key,
                label=str(label),
                read_until=cursors.get(cursor) if cursor else None,
                last_run=last,
                counts=_ordered((last.counts or {}).get(key, {}) if last else {}),
            )
        )
    problem = explain(connection.last_error)
    if not connection.is_connected:
        state = "disconnected"
    elif problem is not None and problem.reconnect:
        state = "revoked"
    elif problem is not None:
        state = "error"
    else:
        state = "ok"
    last = next((r for r in runs if r.status != SyncRun.Status.RUNNING), None)
    skipped = [
        e
        for e in (last.errors if last else [])
        if not (e.get("resource") == "sync" and e.get("reason") == connection.last_error)
    ]
    return IntegrationStatus(
        skipped=skipped,
        connection=connection,
        state=state,
        problem=problem,
        running=_running(connection, runs),
        runs=runs,
        resources=resources,
        matched=matched,
        outbox_counts=outbox_counts,
        outbox_rows=outbox_rows,
    )


# --------------------------------------------------------------------------------------------
# Synkroniser nå
# --------------------------------------------------------------------------------------------


def sync_request(*, creditor: Creditor, actor=None) -> PowerOfficeConnection:
    """Queue a sync of ``creditor``'s connection now; refuse while one is queued or running.

    The task itself never runs two syncs of a connection at once (cache lock and the one
    *running* ``SyncRun`` per connection); this only spares the user a second click's wait.
    """
    from integrations.tasks import sync_connection_task, sync_lock_key, sync_request_key

    connection = PowerOfficeConnection.objects.filter(creditor=creditor).first()
    if connection is None or not connection.is_connected:
        raise ApplicationError(
            _("%(name)s er ikke koblet til PowerOffice Go.") % {"name": creditor.name}
        )
    running = SyncRun.objects.filter(
        connection=connection,
        status=SyncRun.Status.RUNNING,
        started_at__gte=timezone.now() - STALE_RUN,
    ).exists()
    if running or cache.get(sync_lock_key(connection.pk)) is not None:
        raise ApplicationError(_("Synkroniseringen pågår allerede. Vent til den er ferdig."))
    if not cache.add(sync_request_key(connection.pk), "1", timeout=SYNC_REQUEST_SECONDS):
        raise ApplicationError(_("Synkroniseringen er allerede bestilt og starter om et øyeblikk."))
    audit_record(
        creditor=creditor,
        actor=actor,
        action=AuditEntry.Action.SYNC_REQUESTED,
        summary=_("«Synkroniser nå» med PowerOffice Go."),
    )
    sync_connection_task.delay(connection.pk)
    return connection
