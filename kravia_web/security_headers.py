"""Content-Security-Policy (django-csp, settings ``CONTENT_SECURITY_POLICY``) and the one header
neither django-csp nor Django's SecurityMiddleware sets: ``Permissions-Policy``.

Kundeweb serves no inline script (static/js/app.js wires every behaviour through data
attributes), so scripts come from our own origin only. Inline ``style`` attributes remain in a
few templates, hence ``'unsafe-inline'`` for styles only: CSS cannot run code. Forms post to our
own origin; ``form-action`` also names PowerOffice Go's onboarding origins, because «Gi tilgang»
posts here and is answered with a redirect to Go's ``TemporaryUrl``, and Chromium checks a
form's redirects against ``form-action`` too. The API's Swagger UI and Redoc pages
(drf-spectacular's templates, which start their viewers with an inline script and Redoc with a
blob: worker) get :data:`DOCS_CSP_UPDATE` on top (``csp_update`` in api_access/api/urls.py);
they show only the public schema.
"""

from urllib.parse import urlsplit

from csp.constants import NONE, SELF, UNSAFE_INLINE

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
DOCS_CSP_UPDATE = {"script-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"]}


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def content_security_policy(*, site_url: str, onboarding_origins: list[str]) -> dict:
    """``CONTENT_SECURITY_POLICY`` for django-csp (built in settings)."""
    form_action = [SELF]
    for source in [_origin(site_url), *onboarding_origins]:
        if source and source not in form_action:
            form_action.append(source)
    return {
        "DIRECTIVES": {
            "default-src": [SELF],
            "script-src": [SELF],
            "style-src": [SELF, UNSAFE_INLINE],
            "img-src": [SELF, "data:"],
            "font-src": [SELF, "data:"],
            "connect-src": [SELF],
            "object-src": [NONE],
            "base-uri": [SELF],
            "frame-ancestors": [NONE],
            "form-action": form_action,
        }
    }


class SecurityHeadersMiddleware:
    """``Permissions-Policy`` on every response (the CSP is django-csp's CSPMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
