"""``OrganizationSettings`` and ``ClientIntegrationInformation``."""

from pogo_sandbox.models import DEFAULT_PRIVILEGES

from . import auth, serializers
from .endpoints import v2_endpoint

GO_SUBSCRIPTIONS = ["Accounting", "Invoicing", "Reminders"]


@v2_endpoint(privilege="OrganizationSettings_Read")
def organization_settings(request):
    return serializers.organization_settings(request.company)


@v2_endpoint()
def client_integration_information(request):
    subscription = request.subscription
    wanted = sorted(set(DEFAULT_PRIVILEGES) | set(subscription.privileges or []))
    return {
        "ClientId": str(request.company.pk),
        "ClientName": request.company.name,
        "ActiveClientSubscriptions": GO_SUBSCRIPTIONS,
        "ValidPrivileges": [p for p in wanted if auth.has_privilege(subscription, p)],
        "InvalidPrivileges": [p for p in wanted if not auth.has_privilege(subscription, p)],
    }
