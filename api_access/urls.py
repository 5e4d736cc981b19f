from django.urls import path

from api_access import views

urlpatterns = [
    path("innstillinger/api-nokler/", views.api_keys, name="settings_api_keys"),
    path(
        "innstillinger/api-nokler/<int:api_key_id>/trekk-tilbake/",
        views.api_key_revoke,
        name="settings_api_key_revoke",
    ),
]
