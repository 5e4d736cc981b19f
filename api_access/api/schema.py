"""OpenAPI: the API key scheme for drf-spectacular (imported by the URL root)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "api_access.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "kv_<prefix>_<secret>",
            "description": "A per-creditor API key from Kundeweb: Innstillinger → API-nøkler.",
        }


ERROR_SCHEMA = {
    "type": "object",
    "description": "Every failure: a machine-readable type, a message for people, and field "
    "errors (nested fields joined with dots; non_field_errors for the rest).",
    "properties": {
        "type": {"type": "string", "example": "validation_error"},
        "message": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["type", "message", "errors"],
}

COMMON_ERRORS = {
    "400": "Invalid input (validation_error, parse_error).",
    "401": "No API key, or an unknown or revoked one.",
    "403": "Session write without CSRF token, or a user without a creditor.",
    "404": "No such object for this creditor.",
    "429": "Rate limit reached; see Retry-After.",
}
POST_ERRORS = {
    "409": "A business rule refused the change (conflict), or the same Idempotency-Key is "
    "still being processed.",
    "415": "The body is not JSON.",
    "422": "The Idempotency-Key was used with a different request.",
}


def add_error_responses(result, generator, request, public):
    """``POSTPROCESSING_HOOKS``: the one error shape on every operation of the API, and the
    Idempotency-Key header on every POST."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "patch", "put", "delete"}:
                continue
            errors = dict(COMMON_ERRORS)
            if method in {"post", "patch"}:
                errors.update(POST_ERRORS)
            if method != "post":
                errors.pop("422", None)
            responses = operation.setdefault("responses", {})
            for status, description in errors.items():
                responses.setdefault(
                    status,
                    {"description": description, "content": {"application/json": {"schema": ref}}},
                )
            if method == "post":
                operation.setdefault("parameters", []).append(
                    {
                        "in": "header",
                        "name": "Idempotency-Key",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 255},
                        "description": "Same key + same request within 24 h → the stored "
                        "response, no second effect.",
                    }
                )
    return result
