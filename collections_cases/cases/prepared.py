"""ORM queries compiled to SQL once per process, then run again with other ids.

Building and compiling a query with Django's ORM costs about 1 ms of CPU on this machine for
the case page's selects, several times what PostgreSQL spends answering them and most of the
page's CPU (docs/performance.md). The case page runs the same few queries on every request,
differing only in the user's and the case's id, so :class:`PreparedQuery` builds each once
with stand-in ids, keeps the SQL and its parameters, and runs it with the real ids through
``Manager.raw`` (model instances, the model fields' database converters applied). The query
itself stays ORM code, written once in the selector that uses it.

Only what the ORM puts in the parameters can vary: ids given as keyword arguments. Everything
else (statuses, kinds) is fixed when the query is first compiled, so a query with any other
kind of parameter (a date: "today" would go stale) is refused. Annotations come back as
the database returns them (no converters): a selector that annotates money or booleans
converts them itself.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from itertools import count

from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import RawQuerySet

#: Stand-in ids, far outside any real id (negative, and distinct from each other).
_STAND_INS = count(-7_351_000_001, -1)


class PreparedQuery:
    """``build(**ids)`` returns the queryset; ``PreparedQuery(build, "user_id", "case_id")
    .raw(user_id=…, case_id=…)`` runs its SQL, compiled on the first call per database."""

    def __init__(self, build: Callable[..., QuerySet], *names: str):
        self._build = build
        self._stand_ins = {name: next(_STAND_INS) for name in names}
        self._compiled: dict[str, tuple[QuerySet, str, list, dict[int, str]]] = {}

    def _compile(self, using: str) -> tuple[QuerySet, str, list, dict[int, str]]:
        queryset = self._build(**self._stand_ins).using(using)
        sql, params = queryset.query.get_compiler(using=using).as_sql()
        by_value = {value: name for name, value in self._stand_ins.items()}
        slots = {
            i: by_value[p] for i, p in enumerate(params) if isinstance(p, int) and p in by_value
        }
        # Every other parameter is fixed for the life of the process: only constants of the
        # query's own text (statuses, kinds, amounts) may be. A date, a time or anything else
        # computed when the query was built ("today") would go stale silently.
        fixed = [p for i, p in enumerate(params) if i not in slots]
        unsafe = [p for p in fixed if p is not None and not isinstance(p, (str, int, Decimal))]
        if unsafe:
            raise ValueError(f"parameters other than ids would be kept for good: {unsafe!r}")
        missing = set(self._stand_ins) - set(slots.values())
        if missing:  # an id the ORM put into the SQL text, or not at all: never run it wrong
            raise ValueError(f"ids not among the query's parameters: {sorted(missing)}")
        return queryset, sql, list(params), slots

    def _sql(self, using: str, ids: dict[str, int]) -> tuple[QuerySet, str, list]:
        if set(ids) != set(self._stand_ins):
            raise TypeError(f"expected ids {sorted(self._stand_ins)}, got {sorted(ids)}")
        key = f"{using}:{connections[using].vendor}"
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(using)
        queryset, sql, params, slots = compiled
        params = list(params)
        for i, name in slots.items():
            params[i] = int(ids[name])
        return queryset, sql, params

    def raw(self, *, using: str = "default", **ids: int) -> RawQuerySet:
        """Model instances, as ``Manager.raw`` (the query must select the primary key)."""
        queryset, sql, params = self._sql(using, ids)
        return queryset.model._default_manager.raw(sql, params, using=using)

    def rows(self, *, using: str = "default", **ids: int) -> list[tuple]:
        """The rows as the database driver returns them (no converters), for aggregates."""
        _queryset, sql, params = self._sql(using, ids)
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
