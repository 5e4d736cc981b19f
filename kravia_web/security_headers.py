"""Content-Security-Policy and the headers Django's SecurityMiddleware does not set.

Kundeweb serves no inline script (static/js/app.js wires every behaviour through data
attributes), so scripts come from our own origin only. Inline ``style`` attributes remain in a
few templates, hence ``'unsafe-inline'`` for styles only: CSS cannot run code. The API's
Swagger UI and Redoc pages (drf-spectacular's templates, which start their viewers with an
inline script and Redoc with a blob: worker) get the same policy plus exactly those two
allowances; they show only the public schema.
"""

from django.urls import NoReverseMatch, reverse

BASE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
}
DOCS_POLICY = {
    **BASE_POLICY,
    "script-src": "'self' 'unsafe-inline'",
    "worker-src": "'self' blob:",
}
DOCS_URL_NAMES = ("api_docs", "api_redoc")
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def render_policy(policy: dict[str, str]) -> str:
    return "; ".join(f"{directive} {sources}" for directive, sources in policy.items())


def _docs_paths() -> tuple[str, ...]:
    paths = []
    for name in DOCS_URL_NAMES:
        try:
            paths.append(reverse(name))
        except NoReverseMatch:
            continue
    return tuple(paths)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.base = render_policy(BASE_POLICY)
        self.docs = render_policy(DOCS_POLICY)
        self.docs_paths: tuple[str, ...] | None = None

    def __call__(self, request):
        response = self.get_response(request)
        if self.docs_paths is None:  # URLconf is not importable in __init__
            self.docs_paths = _docs_paths()
        policy = self.docs if request.path in self.docs_paths else self.base
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
