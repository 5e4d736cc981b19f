"""Query-string and body parsing shared by the v2 views (names are case-insensitive, as in Go)."""

import datetime as dt
import json
import uuid
from decimal import Decimal, InvalidOperation

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from .http import ApiError

DEFAULT_PAGE_SIZE = 5000
MAX_PAGE_SIZE = 20000


def param(request, name: str, default=None):
    wanted = name.lower()
    for key, value in request.GET.items():
        if key.lower() == wanted:
            return value
    return default


def _bad(detail: str):
    return ApiError(400, "Bad Request", detail)


def page(request, queryset):
    """One page of ``queryset`` per ``PageNumber`` (from 1) and ``PageSize``; OData → 400."""
    for key in request.GET:
        if key.lower() in ("$top", "$skip"):
            raise _bad(
                f"OData query options ({key}) are not supported in v2. Use PageNumber/PageSize."
            )
    number = integer(request, "PageNumber", 1)
    size = integer(request, "PageSize", DEFAULT_PAGE_SIZE)
    if number < 1:
        raise _bad("PageNumber must be 1 or larger.")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise _bad(f"PageSize must be between 1 and {MAX_PAGE_SIZE}.")
    start = (number - 1) * size
    return list(queryset[start : start + size])


def integer(request, name: str, default=None):
    raw = param(request, name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise _bad(f"{name} must be an integer.") from exc


def boolean(request, name: str, default=False) -> bool:
    raw = param(request, name)
    if raw in (None, ""):
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise _bad(f"{name} must be true or false.")


def timestamp(request, name: str) -> dt.datetime | None:
    raw = param(request, name)
    if raw in (None, ""):
        return None
    # An unencoded "+01:00" arrives as " 01:00".
    value = parse_datetime(raw.strip().replace(" ", "+") if "T" in raw else raw.strip())
    if value is None:
        raise _bad(f"{name} must be an ISO 8601 timestamp.")
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value


def date(request, name: str, default=None) -> dt.date | None:
    raw = param(request, name)
    if raw in (None, ""):
        return default
    value = parse_date(raw.strip()[:10])
    if value is None:
        raise _bad(f"{name} must be a date (YYYY-MM-DD).")
    return value


def number_ranges(request, name: str, field: str) -> Q | None:
    """``"10000-11000, 12000, 13000-"`` → a Q over ``field``; None when the filter is unused."""
    raw = param(request, name)
    if raw is None or not raw.strip():
        return None
    query = Q(pk__in=[])
    try:
        for part in (p.strip() for p in raw.split(",")):
            if not part:
                continue
            low, dash, high = part.partition("-")
            if not dash:
                query |= Q(**{field: int(low)})
            elif low and high:
                query |= Q(**{f"{field}__gte": int(low), f"{field}__lte": int(high)})
            elif low:
                query |= Q(**{f"{field}__gte": int(low)})
            else:
                query |= Q(**{f"{field}__lte": int(high)})
    except ValueError as exc:
        raise _bad(f"{name} must be numbers or ranges like 10000-11000, 12000, 13000-.") from exc
    return query


def uuids(request, name: str) -> list[uuid.UUID] | None:
    raw = param(request, name)
    if raw is None or not raw.strip():
        return None
    try:
        return [uuid.UUID(p.strip()) for p in raw.split(",") if p.strip()]
    except ValueError as exc:
        raise _bad(f"{name} must be comma-separated ids.") from exc


def json_body(request, *, content_types=("application/json",)):
    content_type = request.content_type or ""
    if content_type not in content_types:
        raise ApiError(
            415,
            "Unsupported Media Type",
            f"Content-Type must be one of: {', '.join(content_types)}",
        )
    try:
        return json.loads(request.body or b"null", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad(f"The body is not valid JSON: {exc}") from exc


def require(body: dict, name: str):
    value = body.get(name) if isinstance(body, dict) else None
    if value in (None, ""):
        raise _bad(f"The {name} field is required.")
    return value


def to_decimal(value, name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise _bad(f"{name} must be a number.") from exc


def to_date(value, name: str) -> dt.date:
    parsed = parse_date(str(value)[:10]) if value else None
    if parsed is None:
        raise _bad(f"{name} must be a date (YYYY-MM-DD).")
    return parsed


def to_uuid(value, name: str = "id") -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise ApiError(404, "Not Found", f"No {name} {value}.") from exc
