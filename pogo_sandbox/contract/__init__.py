"""PowerOffice's published API contract, enforced on the sandbox's traffic.

``validate_request`` and ``validate_response`` check one exchange against the vendored OpenAPI
documents (``poweroffice-go-v2.yaml``, PowerOffice's own v2 spec; ``poweroffice-go-v1-
debtcollection.yaml``, written from PowerOffice's v1 reference; see ``ORIGIN.md``) with
``openapi-core`` and return a list of violations, each naming the field
(``VoucherLines[0].VatId: required``); an empty list means the exchange conforms.

Loaded once per process, lazily. At load time every object schema that does not say otherwise
gets ``additionalProperties: false``: PowerOffice's DTOs are closed C# classes, so a property the
spec does not name is one the real API would not send, and one it would not bind on a request
(the sandbox refuses it rather than ignore it). Schemas that say ``additionalProperties`` (the
ProblemDetails' ``{}``) keep what they say. The files themselves are unchanged copies.

Paths are matched case-insensitively, as Go's routing does; a path may be given relative to
the API root (``/Customers``) or with the sandbox's prefix (``/pogo/v2/Customers``).
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
SPEC_FILES = {
    "v2": HERE / "poweroffice-go-v2.yaml",
    "v1": HERE / "poweroffice-go-v1-debtcollection.yaml",
}
HOST = "https://pogo.invalid"

# Token endpoints are helper-owned elsewhere and not part of these documents.
_PREFIX = re.compile(r"^(?:/pogo)?(?:/v[12])?(?=/)", re.IGNORECASE)

__all__ = [
    "Operation",
    "closed_schemas",
    "find_operation",
    "validate_request",
    "validate_response",
]


@dataclass(frozen=True)
class Operation:
    api: str
    method: str  # upper case
    path: str  # the spec's path template, e.g. /Customers/{id}

    def __str__(self) -> str:
        return f"{self.api} {self.method} {self.path}"


def closed_schemas(node: Any) -> Any:
    """A copy of ``node`` in which every object schema lacking ``additionalProperties`` is closed."""
    if isinstance(node, dict):
        out = {key: closed_schemas(value) for key, value in node.items()}
        is_object_schema = out.get("type") == "object" or (
            "properties" in out and isinstance(out["properties"], dict)
        )
        if is_object_schema and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [closed_schemas(item) for item in node]
    return node


def _explode_object_query_parameters(spec: dict) -> None:
    """Replace each exploded object query parameter by one parameter per property.

    Under OpenAPI's default query serialization (``style: form, explode: true``) an object
    parameter such as ``resourceParameter: ResourceParameters`` *is* its properties on the query
    string (``?PageNumber=2&PageSize=50``); spelling that out lets each property be cast and
    checked on its own (openapi-core 0.19 skips exploded objects). Same contract, no change in
    meaning.
    """
    for path_item in spec.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "parameters" not in operation:
                continue
            out = []
            for parameter in operation["parameters"]:
                resolved = _resolve(spec, parameter)
                schema = _resolve(spec, resolved.get("schema", {}))
                if (
                    resolved.get("in") == "query"
                    and schema.get("type") == "object"
                    and resolved.get("explode", True)
                    and resolved.get("style", "form") == "form"
                ):
                    for name, prop in schema.get("properties", {}).items():
                        if prop.get("readOnly"):
                            continue  # MaxPageSize: the server's, not the caller's
                        prop = {k: v for k, v in prop.items() if k not in ("example",)}
                        out.append({"in": "query", "name": name, "schema": prop})
                else:
                    out.append(parameter)
            operation["parameters"] = out


def _json_patch_values_are_any_json(spec: dict) -> None:
    """``Operation.value`` is C#'s ``object`` (any JSON value: ``"replace"`` of an e-mail address
    sends a string), which the spec generator wrote as ``type: object``."""
    operation = spec.get("components", {}).get("schemas", {}).get("Operation")
    if operation and "value" in operation.get("properties", {}):
        operation["properties"]["value"] = {"nullable": True}


def _strict_validators():
    """openapi-core's v3.0 validators, except that a JSON body is validated as sent.

    openapi-core 0.19 casts every body to the schema's types before validating it (a known
    issue, python-openapi/openapi-core#706), so ``"12.50"`` would pass for a number; JSON
    carries its own types, so a JSON body is not cast. Query and path values (strings on the
    wire) are still cast, as they must be.
    """
    from openapi_core.validation.request.validators import V30RequestValidator
    from openapi_core.validation.response.validators import V30ResponseValidator

    def _get_content_schema_value_and_schema(self, raw, content, mimetype=None):
        mime_type, parameters, media_type = self._find_media_type(content, mimetype)
        deserialised = self._deserialise_media_type(media_type, mime_type, parameters, raw)
        if "schema" not in media_type:
            return deserialised, None
        schema = media_type / "schema"
        if "json" in mime_type:
            return deserialised, schema
        return self._cast(schema, deserialised), schema

    def _deserialise(self, media_type, mimetype, parameters, value):
        if mimetype.startswith("multipart/"):
            # openapi-core 0.19 cannot parse a multipart body (it asserts on the parts); the
            # one multipart operation (VoucherPages) is checked for its media type only, and
            # its view requires the ``file`` field.
            return {}
        return (
            type(self)
            .__mro__[1]
            ._deserialise_media_type(self, media_type, mimetype, parameters, value)
        )

    namespace = {
        "_get_content_schema_value_and_schema": _get_content_schema_value_and_schema,
        "_deserialise_media_type": _deserialise,
    }
    request = type("StrictV30RequestValidator", (V30RequestValidator,), namespace)
    response = type("StrictV30ResponseValidator", (V30ResponseValidator,), namespace)
    return request, response


def _json_loads(value: bytes | str, **parameters: Any) -> Any:
    return json.loads(value)


class _Contract:
    def __init__(self, api: str):
        from openapi_core import Config, OpenAPI

        self.api = api
        with open(SPEC_FILES[api], encoding="utf-8") as handle:
            self.raw = yaml.safe_load(handle)
        spec = closed_schemas(copy.deepcopy(self.raw))
        _explode_object_query_parameters(spec)
        _json_patch_values_are_any_json(spec)
        # One fixed server; the paths are relative to the API root.
        spec["servers"] = [{"url": HOST}]
        self.spec = spec
        request_cls, response_cls = _strict_validators()
        self.openapi = OpenAPI.from_dict(
            spec,
            config=Config(
                request_validator_cls=request_cls,
                response_validator_cls=response_cls,
                # JSON Patch documents (PATCH /Customers/{id}) are JSON.
                extra_media_type_deserializers={"application/json-patch+json": _json_loads},
            ),
        )
        self.templates: list[tuple[tuple[str, ...], str]] = []
        for template in spec.get("paths", {}):
            segments = tuple(s for s in template.split("/") if s)
            self.templates.append((segments, template))
        # Literal segments beat parameters: /JournalEntryVouchers/BankJournals before /{id}.
        self.templates.sort(
            key=lambda item: (-sum(1 for s in item[0] if not s.startswith("{")), item[1])
        )

    def match(self, path: str) -> tuple[str, str, dict[str, str]] | None:
        """``(template, canonical path, path params)`` for ``path``, matched case-insensitively."""
        segments = [s for s in path.split("/") if s]
        for template_segments, template in self.templates:
            if len(template_segments) != len(segments):
                continue
            params: dict[str, str] = {}
            canonical = []
            for want, got in zip(template_segments, segments, strict=True):
                if want.startswith("{") and want.endswith("}"):
                    params[want[1:-1]] = got
                    canonical.append(got)
                elif want.lower() == got.lower():
                    canonical.append(want)
                else:
                    break
            else:
                return template, "/" + "/".join(canonical), params
        return None

    def operation(self, method: str, template: str) -> dict | None:
        return self.spec["paths"].get(template, {}).get(method.lower())


_contracts: dict[str, _Contract] = {}
_lock = threading.Lock()


def contract(api: str) -> _Contract:
    if api not in SPEC_FILES:
        raise ValueError(f"Unknown API {api!r}: expected 'v1' or 'v2'")
    found = _contracts.get(api)
    if found is None:
        with _lock:
            found = _contracts.get(api)
            if found is None:
                found = _contracts[api] = _Contract(api)
    return found


def _relative(path: str) -> str:
    path = path.split("?", 1)[0]
    return _PREFIX.sub("", path, count=1) or "/"


def find_operation(api: str, method: str, path: str) -> Operation | None:
    """The spec operation serving ``method path``, or ``None`` when the spec has none."""
    spec = contract(api)
    matched = spec.match(_relative(path))
    if matched is None or spec.operation(method, matched[0]) is None:
        return None
    return Operation(api, method.upper(), matched[0])


# ---------------------------------------------------------------------------------------------
# Error formatting


def _json_path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _join(prefix: str, name: str) -> str:
    if not name:
        return prefix
    if not prefix:
        return name
    if name.startswith("["):
        return prefix + name
    return f"{prefix}.{name}"


_QUOTED = re.compile(r"'([^']*)'")


def _schema_error_messages(error: Any, prefix: str) -> list[str]:
    """``jsonschema`` errors (with their best sub-errors for oneOf/anyOf) as ``path: problem``."""
    where = _join(prefix, _json_path(error.absolute_path))
    kind = error.validator
    if kind == "required":
        names = _QUOTED.findall(error.message) or [error.message]
        return [f"{_join(where, names[0])}: required"]
    if kind == "additionalProperties":
        names = _QUOTED.findall(error.message.split("(", 1)[-1])
        return [f"{_join(where, name)}: unknown property" for name in names] or [
            f"{where or '(body)'}: {error.message}"
        ]
    if kind == "type":
        wanted = error.validator_value
        got = type(error.instance).__name__
        got = {"str": "string", "int": "integer", "float": "number", "dict": "object"}.get(
            got, "null" if error.instance is None else got
        )
        return [f"{where or '(body)'}: expected {wanted}, got {got}"]
    if kind == "format":
        return [f"{where or '(body)'}: not a valid {error.validator_value}: {error.instance!r}"]
    if kind == "enum":
        return [f"{where or '(body)'}: not one of {error.validator_value}: {error.instance!r}"]
    if kind in ("oneOf", "anyOf") and error.context:
        # Report the alternative that came closest (fewest errors), not every alternative.
        branches: dict[Any, list[Any]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        closest = min(branches.values(), key=len)
        out: list[str] = []
        for sub in closest:
            out.extend(_schema_error_messages(sub, prefix))
        return out
    if kind == "allOf" and error.context:
        out = []
        for sub in error.context:
            out.extend(_schema_error_messages(sub, prefix))
        return out
    return [f"{where or '(body)'}: {error.message}"]


def _exception_messages(exc: BaseException, *, location: str = "") -> list[str]:
    from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
    from openapi_core.validation.request.exceptions import (
        MissingRequiredParameter,
        MissingRequiredRequestBody,
        ParameterValidationError,
    )
    from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

    if isinstance(exc, MissingRequiredParameter):
        return [f"{exc.name}: required ({exc.location} parameter)"]
    if isinstance(exc, MissingRequiredRequestBody):
        return ["(body): required"]
    if isinstance(exc, ParameterValidationError):
        cause = exc.__cause__
        if isinstance(cause, InvalidSchemaValue):
            out = []
            for error in cause.schema_errors:
                out.extend(_schema_error_messages(error, exc.name))
            return out
        from openapi_core.casting.schemas.exceptions import CastError

        if isinstance(cause, CastError):
            return [f"{exc.name}: expected {cause.type}, got {cause.value!r}"]
        detail = str(cause) if cause is not None else str(exc)
        return [f"{exc.name}: {detail}"]
    cause = exc.__cause__
    if isinstance(exc, InvalidSchemaValue):
        out = []
        for error in exc.schema_errors:
            out.extend(_schema_error_messages(error, location))
        return out
    if isinstance(cause, InvalidSchemaValue):
        return _exception_messages(cause, location=location)
    if isinstance(exc, MediaTypeNotFound) or isinstance(cause, MediaTypeNotFound):
        found = exc if isinstance(exc, MediaTypeNotFound) else cause
        return [f"(content type): {found.mimetype!r} is not one of {found.availableMimetypes}"]
    if cause is not None and not isinstance(cause, type(exc)):
        return [f"{location or '(body)'}: {cause}"]
    return [f"{location or '(request)'}: {exc}"]


# ---------------------------------------------------------------------------------------------
# Requests


def _query_items(query: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    if not query:
        return items
    if hasattr(query, "lists"):
        for key, values in query.lists():
            items.extend((key, str(v)) for v in values)
        return items
    for key, value in query.items():
        if isinstance(value, (list, tuple)):
            items.extend((key, str(v)) for v in value)
        elif value is not None:
            items.append((key, str(value)))
    return items


def _declared_query(spec: _Contract, template: str, operation: dict) -> dict[str, str]:
    """Lower-cased name → spec spelling of every query parameter the operation binds."""
    names: dict[str, str] = {}
    path_level = spec.spec["paths"][template].get("parameters", [])
    for parameter in [*path_level, *operation.get("parameters", [])]:
        parameter = _resolve(spec.spec, parameter)
        if parameter.get("in") == "query":
            names[parameter["name"].lower()] = parameter["name"]
    return names


def _resolve(document: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def validate_request(
    api: str,
    method: str,
    path: str,
    query: Mapping[str, Any] | None = None,
    body: bytes | None = None,
    content_type: str | None = None,
) -> list[str]:
    """Violations of the spec by one request (empty: it conforms).

    Query names bind case-insensitively (ASP.NET's model binding does; the client's
    ``PageNumber`` is the spec's ``resourceParameter.PageNumber``), but a name the operation
    does not declare is refused: the real API ignores it, and a silently ignored filter is a bug
    on the client's side that we would rather see here (stricter than Go is fine, laxer is not).
    Body property names are exact: a camelCase name where the spec says PascalCase is an
    unknown property.
    """
    from openapi_core.testing import MockRequest

    spec = contract(api)
    relative = _relative(path)
    matched = spec.match(relative)
    if matched is None:
        return [f"(path): {method.upper()} {relative} is not in the {api} spec"]
    template, canonical, path_params = matched
    operation = spec.operation(method, template)
    if operation is None:
        return [f"(method): {method.upper()} is not an operation of {template} in the {api} spec"]

    violations: list[str] = []
    declared = _declared_query(spec, template, operation)
    args: list[tuple[str, str]] = []
    for key, value in _query_items(query):
        spelled = declared.get(key.lower())
        if spelled is None:
            violations.append(f"{key}: unknown query parameter")
            continue
        args.append((spelled, value))

    from werkzeug.datastructures import ImmutableMultiDict

    content_type = (content_type or "").strip()
    if body and not content_type:
        content_type = "application/json"
    request = MockRequest(
        HOST,
        method.lower(),
        canonical,
        path_pattern=template,
        view_args=path_params,
        data=body or b"",
        content_type=content_type.lower(),
    )
    request.parameters.query = ImmutableMultiDict(args)
    if body and "json" in content_type.lower():
        try:
            json.loads(body)
        except ValueError as exc:
            return violations + [f"(body): not valid JSON: {exc}"]
    for error in spec.openapi.request_validator.iter_errors(request):
        violations.extend(_exception_messages(error))
    return _unique(violations)


# ---------------------------------------------------------------------------------------------
# Responses


def _problem_schema(spec: _Contract) -> dict | None:
    return spec.spec.get("components", {}).get("schemas", {}).get("ProblemDetails")


def _validate_schema(spec: _Contract, schema: dict, data: Any, prefix: str = "") -> list[str]:
    from openapi_schema_validator import OAS30Validator, oas30_format_checker
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    registry = Registry().with_resource(
        "urn:pogo-spec", Resource.from_contents(spec.spec, default_specification=DRAFT4)
    )
    if "$ref" in schema and schema["$ref"].startswith("#"):
        schema = {"$ref": "urn:pogo-spec" + schema["$ref"]}
    validator = OAS30Validator(schema, registry=registry, format_checker=oas30_format_checker)
    out: list[str] = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        out.extend(_schema_error_messages(error, prefix))
    return out


def validate_response(
    api: str,
    method: str,
    path: str,
    status: int,
    body: bytes | None,
    content_type: str | None = None,
) -> list[str]:
    """Violations of the spec by one response (empty: it conforms).

    Statuses the spec documents with a body are validated against that body's schema. v2
    errors the spec lists without a body (401/403/404/429/default) must still be ProblemDetails
    (application/json or application/problem+json) or, for the gateway's own refusals, the
    API gateway's ``{"statusCode", "message"}``.
    """
    from openapi_core.testing import MockRequest, MockResponse

    spec = contract(api)
    relative = _relative(path)
    matched = spec.match(relative)
    if matched is None:
        return [f"(path): {method.upper()} {relative} is not in the {api} spec"]
    template, canonical, path_params = matched
    operation = spec.operation(method, template)
    if operation is None:
        return [f"(method): {method.upper()} is not an operation of {template} in the {api} spec"]
    content_type = (content_type or "").split(";", 1)[0].strip().lower()
    responses = operation.get("responses", {})
    documented = responses.get(str(status), responses.get("default"))
    if documented is None:
        if status >= 400 and body:
            # Any API may answer an error the spec does not list (a 404 of an unknown token,
            # the gateway's 401, a 5xx); its body must still be the API's error shape.
            return _validate_error_body(spec, status, body, content_type)
        if status >= 400:
            return []
        return [f"(status): {status} is not a documented response of {method.upper()} {template}"]
    documented = _resolve(spec.spec, documented)
    content = documented.get("content")
    if not content:
        if not body:
            return []
        if status >= 400:
            return _validate_error_body(spec, status, body, content_type)
        if "json" not in content_type:
            # A file (VoucherDocumentation/Download's zip or PDF): the spec's generator leaves
            # binary bodies out, so there is nothing to check but that it is not JSON.
            return []
        return [f"(body): {status} of {method.upper()} {template} has no JSON body in the spec"]
    if status >= 400 and content_type == "application/problem+json":
        # ASP.NET writes ProblemDetails as application/problem+json; the spec lists the same
        # schema under application/json.
        content_type = "application/json"
    request = MockRequest(
        HOST, method.lower(), canonical, path_pattern=template, view_args=path_params
    )
    response = MockResponse(body or b"", status_code=status, content_type=content_type)
    violations: list[str] = []
    for error in spec.openapi.response_validator.iter_errors(request, response):
        violations.extend(_exception_messages(error))
    return _unique(violations)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


GATEWAY_ERROR = {
    "type": "object",
    "properties": {"statusCode": {"type": "integer"}, "message": {"type": "string"}},
    "required": ["statusCode", "message"],
    "additionalProperties": False,
}


def _validate_error_body(spec: _Contract, status: int, body: bytes, content_type: str) -> list[str]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        return [f"(body): not valid JSON: {exc}"]
    if content_type not in ("application/json", "application/problem+json"):
        return [f"(content type): {content_type!r} for an error body"]
    if spec.api == "v1":
        return _validate_schema(spec, {"$ref": "#/components/schemas/ErrorEnvelope"}, data)
    if status in (401, 429) and isinstance(data, dict) and "statusCode" in data:
        return _validate_schema(spec, GATEWAY_ERROR, data)
    if _problem_schema(spec) is None:
        return []
    return _validate_schema(spec, {"$ref": "#/components/schemas/ProblemDetails"}, data)
