"""*Logg*: who did what for a creditor — its audit entries (team, settings, integration) and
the events on its cases that a user did — newest first. ``creditor`` always comes from
``creditors.selectors.creditor_get_for_user``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import CharField, F, IntegerField, Value

from collections_cases.models import CaseEvent
from creditors.models import AuditEntry, Creditor


@dataclass(frozen=True)
class LogLine:
    at: datetime
    actor_email: str | None
    source: str  # "audit" or "case"
    kind: str
    text: str
    case_id: int | None
    case_number: str

    @property
    def label(self) -> str:
        choices = AuditEntry.Action if self.source == "audit" else CaseEvent.Kind
        try:
            return str(choices(self.kind).label)
        except ValueError:
            return self.kind


_COLUMNS = ("at", "actor_email", "source", "kind", "text", "case_ref", "case_number")


def audit_log(*, creditor: Creditor):
    """The creditor's audit entries and its cases' events done by a user, newest first: one
    UNION query, so a page of it is one query whatever the history's length. Rows are tuples
    in ``_COLUMNS`` order; ``audit_log_lines`` turns a page of them into ``LogLine``."""
    entries = (
        AuditEntry.objects.filter(creditor=creditor)
        .order_by()
        .annotate(
            actor_email=F("actor__email"),
            source=Value("audit", output_field=CharField()),
            kind=F("action"),
            text=F("summary"),
            case_ref=Value(None, output_field=IntegerField()),
            case_number=Value("", output_field=CharField()),
        )
        .values_list(*_COLUMNS)
    )
    events = (
        CaseEvent.objects.filter(case__creditor=creditor, actor__isnull=False)
        .order_by()
        .annotate(
            actor_email=F("actor__email"),
            source=Value("case", output_field=CharField()),
            text=F("message"),
            case_ref=F("case_id"),
            case_number=F("case__number"),
        )
        .values_list(*_COLUMNS)
    )
    return entries.union(events, all=True).order_by("-at", "-source")


def audit_log_lines(rows) -> list[LogLine]:
    return [
        LogLine(
            at=at,
            actor_email=email,
            source=source,
            kind=kind,
            text=text,
            case_id=case_id,
            case_number=number,
        )
        for at, email, source, kind, text, case_id, number in rows
    ]
