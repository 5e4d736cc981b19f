"""A database outage becomes a friendly 503 (page or JSON), never a stack trace."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.template.response import SimpleTemplateResponse

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
