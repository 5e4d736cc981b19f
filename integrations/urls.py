from django.urls import path

from integrations import views

urlpatterns = [
    path(
        "innstillinger/kreditorer/<int:creditor_id>/poweroffice/",
        views.creditor_poweroffice,
        name="creditor_poweroffice",
    ),
    path(
        "innstillinger/kreditorer/<int:creditor_id>/poweroffice/gi-tilgang/",
        views.creditor_poweroffice_connect,
        name="creditor_poweroffice_connect",
    ),
    path(
        "innstillinger/kreditorer/<int:creditor_id>/poweroffice/oppdater/",
        views.creditor_poweroffice_refresh,
        name="creditor_poweroffice_refresh",
    ),
    path(
        "innstillinger/kreditorer/<int:creditor_id>/poweroffice/koble-fra/",
        views.creditor_poweroffice_disconnect,
        name="creditor_poweroffice_disconnect",
    ),
    path(
        "innstillinger/kreditorer/<int:creditor_id>/poweroffice/synkroniser/",
        views.creditor_poweroffice_sync,
        name="creditor_poweroffice_sync",
    ),
    path(
        "innstillinger/kreditorer/<int:creditor_id>/poweroffice/koble-til-igjen/",
        views.creditor_poweroffice_reconnect,
        name="creditor_poweroffice_reconnect",
    ),
    path(
        "utbetalinger/<int:settlement_id>/send-bilag/",
        views.settlement_voucher_retry_view,
        name="settlement_voucher_retry",
    ),
    path("integrasjon/", views.integration_status, name="integration_status"),
    path(
        "integrasjon/poweroffice/tilbake/", views.poweroffice_callback, name="poweroffice_callback"
    ),
    path(
        "koble-til-poweroffice/",
        views.poweroffice_connect_public,
        name="poweroffice_connect_public",
    ),
    path(
        "koble-til-poweroffice/tilbake/",
        views.poweroffice_connect_public_callback,
        name="poweroffice_connect_public_callback",
    ),
    path(
        "koble-til-poweroffice/ferdig/",
        views.poweroffice_connect_public_done,
        name="poweroffice_connect_public_done",
    ),
]
