"""The little OData v1 needs: ``$top``, ``$skip`` and a ``$filter`` of ``field op value`` terms
joined by ``and`` (eq, ne, gt, ge, lt, le), on a whitelist of fields."""

import re

from django.db.models import Q
from django.utils.dateparse import parse_date, parse_datetime

from .http import ApiError

OPERATORS = {"eq": "", "gt": "__gt", "ge": "__gte", "lt": "__lt", "le": "__lte"}
TERM = re.compile(
    r"^\s*(?P<field>\w+)\s+(?P<op>eq|ne|gt|ge|lt|le)\s+(?P<value>.+?)\s*$", re.IGNORECASE
)


def _value(raw: str):
    raw = raw.strip()
    quoted = re.fullmatch(r"(?:datetime|datetimeoffset|guid)?'(.*)'", raw, re.IGNORECASE)
    if quoted:
        raw = quoted.group(1)
    if re.fullmatch(r"-?\d+", raw):
        return int(raw)
    if re.fullmatch(r"-?\d+\.\d+", raw):
        return raw
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    return parse_datetime(raw) or parse_date(raw) or raw


def filter_query(raw: str | None, fields: dict[str, str]) -> Q:
    """``fields`` maps OData names (case-insensitive) to ORM lookups."""
    query = Q()
    if not raw:
        return query
    lookup = {name.lower(): orm for name, orm in fields.items()}
    for term in re.split(r"\s+and\s+", raw.strip(), flags=re.IGNORECASE):
        match = TERM.match(term)
        if not match or match["field"].lower() not in lookup:
            raise ApiError(400, "Bad Request", f"Unsupported $filter term: {term!r}")
        orm, op, value = lookup[match["field"].lower()], match["op"].lower(), _value(match["value"])
        if op == "ne":
            query &= ~Q(**{orm: value})
        else:
            query &= Q(**{f"{orm}{OPERATORS[op]}": value})
    return query


def top_skip(request, items):
    try:
        skip = int(request.GET.get("$skip") or 0)
        top = request.GET.get("$top")
        top = int(top) if top not in (None, "") else None
    except ValueError as exc:
        raise ApiError(400, "Bad Request", "$top and $skip must be integers.") from exc
    if skip < 0 or (top is not None and top < 0):
        raise ApiError(400, "Bad Request", "$top and $skip must not be negative.")
    return items[skip : skip + top] if top is not None else items[skip:]
