"""Mounted at /pogo/ when POWEROFFICE_SANDBOX is on.

api_urls: the v2 and v1 HTTP APIs (OAuth, Onboarding, Customers, ... DebtCollection).
screen_urls: Go's own screens (login, company picker, consent, settings, Inkasso menu, ...).
"""

from django.urls import include, path

urlpatterns = [
    path("", include("pogo_sandbox.api.urls")),
    path("", include("pogo_sandbox.screens.urls")),
]
