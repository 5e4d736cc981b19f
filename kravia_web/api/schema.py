"""OpenAPI: the API key scheme for drf-spectacular (imported by the URL root)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "kravia_web.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "kv_<prefix>_<secret>",
            "description": "A per-creditor API key from Kundeweb: Innstillinger → API-nøkler.",
        }
