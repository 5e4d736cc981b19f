"""Response shapes of the two APIs: v2 (PascalCase, bare arrays, 204, ProblemDetails) and v1
(camelCase wrapped in ``{"data", "success", "count"}``, errors as HTTP 200 with ``validation``).
"""

import datetime as dt
import json
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.http import HttpResponse

OSLO = ZoneInfo("Europe/Oslo")

PROBLEM_TYPES = {
    400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    401: "https://tools.ietf.org/html/rfc9110#section-15.5.2",
    403: "https://tools.ietf.org/html/rfc9110#section-15.5.4",
    404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
    405: "https://tools.ietf.org/html/rfc9110#section-15.5.6",
    409: "https://tools.ietf.org/html/rfc9110#section-15.5.10",
    415: "https://tools.ietf.org/html/rfc9110#section-15.5.16",
    500: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
    503: "https://tools.ietf.org/html/rfc9110#section-15.6.4",
}


class ApiError(Exception):
    """Raised by views; the endpoint wrapper renders it as ProblemDetails (v2) or v1 validation."""

    def __init__(self, status: int, title: str, detail: str = ""):
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail


def _default(value):
    if isinstance(value, Decimal):
        # A JSON number, never a string: integral amounts as ints, others via float, whose
        # shortest repr round-trips every 2-decimal amount of up to 15 significant digits.
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(OSLO).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"Not JSON serialisable: {type(value).__name__}")


def dumps(data) -> str:
    return json.dumps(data, default=_default, ensure_ascii=False)


def json_response(data, *, status=200, content_type="application/json; charset=utf-8"):
    return HttpResponse(dumps(data), status=status, content_type=content_type)


def v2_response(data, *, status=200):
    """A v2 body; an empty list is 204 No Content, as the real API answers."""
    if isinstance(data, list) and not data:
        return HttpResponse(status=204)
    return json_response(data, status=status)


def problem(status: int, title: str, detail: str = "", *, instance: str = ""):
    body = {
        "Type": PROBLEM_TYPES.get(status, "about:blank"),
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": instance,
    }
    return json_response(body, status=status, content_type="application/problem+json")


def gateway_error(status: int, message: str, **headers):
    """Errors from the API gateway in front of v2 (missing key, rate limit): APIM's own shape."""
    response = json_response({"statusCode": status, "message": message}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def v1_response(data, *, count=None):
    body = {"data": data, "success": True}
    if count is not None:
        body["count"] = count
    return json_response(body)


def v1_error(summary: str, *, fields=None, status=200):
    """v1 reports business errors as HTTP 200 with ``success: false`` and a validation object."""
    validation = {
        "errorLogReference": str(uuid.uuid4()),
        "summary": summary,
        "exception": None,
        "exceptionDetails": None,
        "fields": fields or {},
        "batchItemErrors": [],
    }
    return json_response({"data": None, "success": False, "validation": validation}, status=status)
