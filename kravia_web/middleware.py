"""Request-wide behaviour: the chosen language, and a database outage as a friendly 503."""

import logging
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.template.response import SimpleTemplateResponse
from django.urls import reverse
from django.utils import translation
from django.views import defaults

logger = logging.getLogger(__name__)

_UNAVAILABLE = (OperationalError, InterfaceError)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        # Every OperationalError / InterfaceError (connection refused, server gone, SQLite file
        # busy) means "try again shortly": none of them is the user's fault.
        if not isinstance(exception, _UNAVAILABLE):
            return None
        logger.error("Database unavailable while serving %s: %s", request.path, exception)
        return unavailable_response(request)


def server_error(request):
    """``handler500``: an outage met outside a view (loading the session or the user in a
    middleware) is a 503 too; ``process_exception`` above sees only the views' exceptions."""
    exception = sys.exc_info()[1]
    if isinstance(exception, _UNAVAILABLE):
        logger.error("Database unavailable while serving %s: %s", request.path, exception)
        if request.path_info == reverse("healthz"):
            from kravia_web.health import healthz  # its own checks: which part is down

            return healthz(request)
        return unavailable_response(request)
    return defaults.server_error(request)


def unavailable_response(request):
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(
            {
                "error": {
                    "code": "service_unavailable",
                    "message": "Tjenesten er midlertidig utilgjengelig. Prøv igjen om litt.",
                }
            },
            status=503,
            headers={"Retry-After": "30"},
        )
    response = SimpleTemplateResponse("503.html", status=503, headers={"Retry-After": "30"})
    return response.render()


class ChosenLanguageMiddleware(LocaleMiddleware):
    """Norwegian unless the visitor picked another language with the switch (cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language, which shows English
    to most Norwegians (many run English browsers); the product speaks bokmål by default.
    """

    def process_request(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
