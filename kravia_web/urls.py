from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from kravia_web.health import healthz

admin.site.site_header = "Kravia – saksbehandling"
admin.site.site_title = "Kravia saksbehandling"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Public: the debtor on Min side (no Kundeweb login) switches language too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api_access.api.urls")),
    path("", include("creditors.urls")),
    path("", include("integrations.urls")),
    path("", include("collections_cases.urls")),
    path("", include("collections_cases.dashboard.urls")),
    path("", include("collections_cases.letters.urls")),
    path("", include("collections_cases.settlements.urls")),
    path("", include("collections_cases.portal.urls")),
    path("", include("api_access.urls")),
    path("", include("integrations.webhooks.urls")),
]

if settings.POWEROFFICE_SANDBOX:
    urlpatterns.append(path("pogo/", include("pogo_sandbox.urls")))

handler500 = "kravia_web.middleware.server_error"
