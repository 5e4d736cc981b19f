"""Contract tests against recordings: for each endpoint the client uses, a real-shaped request
and response (``contract/*.json``, written from PowerOffice's reference with the spec's field
names and Norwegian values). The client must send exactly the recorded request (method, path,
query, body) and read the recorded response into the recorded values; every recorded request
and response, and every request the client actually sent, must conform to the vendored spec
(``pogo_sandbox.contract``), so a property the spec does not have fails here.

A recording: ``call`` (client method, keyword arguments, ``types`` for arguments that are not
plain JSON), ``request`` (``api``, ``method``, ``path`` relative to the API root, ``query``,
``body``), ``response`` (``status``, ``body``), ``expect`` (dotted attribute path of the result →
value; ``len`` for a list's length, ``""`` for the result itself) or ``raises``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import pytest

from integrations.poweroffice import errors
from pogo_sandbox.contract import validate_request, validate_response

from .fakes import response

HERE = Path(__file__).resolve().parent / "contract"
RECORDINGS = sorted(HERE.glob("*.json"))
JSON = "application/json"


def _load(path: Path, **kwargs) -> dict:
    return json.loads(path.read_text(encoding="utf-8"), **kwargs)


def _ids() -> list[str]:
    return [path.stem for path in RECORDINGS]


def _argument(value: Any, kind: str | None) -> Any:
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    return value


def _resolve(result: Any, dotted: str) -> Any:
    if dotted == "":
        return result
    if dotted == "len":
        return len(result)
    value = result
    for part in dotted.split("."):
        value = value[int(part)] if part.isdigit() else getattr(value, part)
    return value


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(actual, Decimal):
        return expected is not None and actual == Decimal(str(expected))
    if isinstance(actual, uuid.UUID):
        return str(actual) == str(expected)
    if isinstance(actual, datetime | date):
        return actual.isoformat() == expected or actual == _argument(expected, "datetime")
    if isinstance(actual, Enum):
        return actual.value == expected or actual.name == expected
    if isinstance(actual, tuple):
        return list(actual) == expected
    return actual == expected


def _body_bytes(body: Any) -> bytes | None:
    return None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")


def test_there_is_a_recording_for_every_v1_endpoint_the_client_calls():
    methods = {_load(path)["call"]["method"] for path in RECORDINGS}
    assert {
        "dc_is_active",
        "dc_available_invoices",
        "dc_create_case",
        "dc_list_cases",
        "dc_get_case",
        "dc_add_invoices",
        "dc_update_status",
        "dc_merge_cases",
        "dc_delete_case",
        "dc_matched_items_since",
    } <= methods


@pytest.mark.parametrize("path", RECORDINGS, ids=_ids())
def test_the_client_sends_exactly_the_recorded_request_and_reads_the_response(path, fake, pogo):
    rec = _load(path, parse_float=Decimal)
    request, answer, call = rec["request"], rec["response"], rec["call"]
    full_path = f"/{request['api']}{request['path']}"
    fake.script(
        request["method"], full_path, response(answer["status"], _plain_json(answer["body"]))
    )
    types = call.get("types", {})
    kwargs = {name: _argument(value, types.get(name)) for name, value in call["kwargs"].items()}

    if rec.get("raises"):
        with pytest.raises(getattr(errors, rec["raises"])):
            getattr(pogo, call["method"])(**kwargs)
        result = None
    else:
        result = getattr(pogo, call["method"])(**kwargs)
        if isinstance(result, Iterator):  # the listings read lazily
            result = list(result)

    [sent] = fake.api_calls()
    assert sent.method == request["method"]
    assert sent.path == full_path
    assert {name: values[0] for name, values in sent.query.items()} == request["query"]
    assert all(len(values) == 1 for values in sent.query.values())
    if request["body"] is None:
        assert not sent.body
    else:
        assert json.loads(sent.body, parse_float=Decimal) == request["body"]
        _assert_numbers_are_numbers(json.loads(sent.body, parse_float=Decimal), request["body"])
    for dotted, expected in rec["expect"].items():
        actual = _resolve(result, dotted)
        assert _same(actual, expected), f"{dotted}: {actual!r} != {expected!r}"
    # What the client really sent conforms to PowerOffice's spec (no property it lacks).
    assert (
        validate_request(
            request["api"],
            sent.method,
            request["path"],
            {name: values[0] for name, values in sent.query.items()},
            sent.body or None,
            sent.headers.get("Content-Type") if sent.body else None,
        )
        == []
    )


def _plain_json(body: Any) -> Any:
    """The recorded body with Decimals back as JSON numbers (the fake's ``json.dumps``)."""
    return json.loads(json.dumps(body, default=float))


def _assert_numbers_are_numbers(sent: Any, recorded: Any) -> None:
    """``"12500.00"`` is not ``12500.00``: a recorded number must be sent as a number."""
    if isinstance(recorded, dict):
        for key, value in recorded.items():
            _assert_numbers_are_numbers(sent[key], value)
    elif isinstance(recorded, list):
        for item, value in zip(sent, recorded, strict=True):
            _assert_numbers_are_numbers(item, value)
    elif isinstance(recorded, Decimal | int) and not isinstance(recorded, bool):
        assert isinstance(sent, Decimal | int) and not isinstance(sent, bool), (sent, recorded)


@pytest.mark.parametrize("path", RECORDINGS, ids=_ids())
def test_every_recording_conforms_to_the_vendored_spec(path):
    rec = _load(path)
    request, answer = rec["request"], rec["response"]
    body = _body_bytes(request["body"])

    assert (
        validate_request(
            request["api"],
            request["method"],
            request["path"],
            request["query"],
            body,
            JSON if body is not None else None,
        )
        == []
    )
    assert (
        validate_response(
            request["api"],
            request["method"],
            request["path"],
            answer["status"],
            _body_bytes(answer["body"]),
            JSON,
        )
        == []
    )


def test_a_planted_property_the_spec_lacks_is_reported():
    rec = _load(HERE / "v1_update_status.json")
    request = rec["request"]
    planted = {**request["body"], "updatedBalanceAgencyText": "14 920,75"}

    problems = validate_request(
        "v1", request["method"], request["path"], {}, _body_bytes(planted), JSON
    )

    assert any("updatedBalanceAgencyText" in problem for problem in problems), problems


def test_a_balance_sent_as_text_is_reported():
    """The bug of issue 17: ``updatedBalanceAgency`` as a JSON string."""
    rec = _load(HERE / "v1_update_status.json")
    request = rec["request"]
    as_text = {**request["body"], "updatedBalanceAgency": "14920.75"}

    problems = validate_request(
        "v1", request["method"], request["path"], {}, _body_bytes(as_text), JSON
    )

    assert any("updatedBalanceAgency" in problem for problem in problems), problems


def test_a_planted_response_property_is_reported():
    rec = _load(HERE / "v1_create_case.json")
    body = json.loads(json.dumps(rec["response"]["body"]))
    body["data"]["agencyComment"] = "ekstra"

    problems = validate_response("v1", "POST", rec["request"]["path"], 200, _body_bytes(body), JSON)

    assert problems
