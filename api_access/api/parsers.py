"""The API's JSON parser: DRF's, with bounds a hostile body cannot get past.

- nesting deeper than ``API_MAX_JSON_DEPTH`` (default 32; no request needs more than 3) is a
  parse error before the body is decoded (a few thousand ``[`` made Python's decoder raise
  ``RecursionError``: a 500);
- ``NaN``, ``Infinity`` and numbers that overflow a float (``1e400``) are parse errors, as are
  integers longer than Python converts (4300 digits);
- the size is bounded by ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413 ``request_too_large``).
"""

from __future__ import annotations

import json
import math
import re

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether arrays/objects in ``text`` nest deeper than ``limit`` (strings skipped; an
    unbalanced text is left to the decoder to refuse)."""
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"Number out of range: {text[:20]}")
    return value


def _no_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except (UnicodeError, LookupError):
            raise ParseError(_("Ugyldig JSON: innholdet er ikke gyldig tekst.")) from None
        limit = getattr(settings, "API_MAX_JSON_DEPTH", 32)
        if json_depth_exceeds(text, limit):
            raise ParseError(
                _("Ugyldig JSON: nøstet dypere enn %(limit)d nivåer.") % {"limit": limit}
            )
        try:
            return json.loads(text, parse_float=_finite_float, parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:
            raise ParseError(_("Ugyldig JSON (%(error)s).") % {"error": str(exc)[:200]}) from None
