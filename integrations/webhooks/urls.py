from django.urls import path

from integrations.webhooks import views

urlpatterns = [
    path("innstillinger/webhooks/", views.webhooks, name="settings_webhooks"),
    path(
        "innstillinger/webhooks/<int:endpoint_id>/",
        views.webhook_detail,
        name="settings_webhook_detail",
    ),
    path(
        "innstillinger/webhooks/<int:endpoint_id>/deaktiver/",
        views.webhook_disable,
        name="settings_webhook_disable",
    ),
    path(
        "innstillinger/webhooks/leveringer/<int:delivery_id>/send-igjen/",
        views.webhook_delivery_replay,
        name="settings_webhook_delivery_replay",
    ),
]
