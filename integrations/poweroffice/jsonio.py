"""JSON in and out: numbers as ``Decimal`` both ways, so amounts never pass through float."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

# json cannot emit a Decimal as a bare number, so each one is first encoded as a string carrying
# a NUL marker (which json escapes as \u0000 and real text never contains), then unquoted.
_MARK = "\x00dec:"
_MARKED = re.compile(r'"\\u0000dec:(-?[0-9]+(?:\.[0-9]+)?)"')


def loads(raw: bytes | str) -> Any:
    """Parse a PoGo body; every JSON number with a fraction becomes ``Decimal``."""
    return json.loads(raw, parse_float=Decimal)


def _prepare(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("amounts must be finite numbers")
        return _MARK + format(value, "f")
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("strings sent to PowerOffice may not contain NUL characters")
        return value
    if isinstance(value, dict):
        return {key: _prepare(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_prepare(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def dumps(value: Any) -> bytes:
    """Serialise a request body; ``Decimal``, ``date``, ``datetime`` and ``UUID`` are allowed."""
    text = json.dumps(_prepare(value), ensure_ascii=False, separators=(",", ":"))
    return _MARKED.sub(r"\1", text).encode("utf-8")
