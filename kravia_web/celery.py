"""The Celery app: configured from Django settings under the ``CELERY_`` namespace."""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kravia_web.settings.base")

app = Celery("kravia_web")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def load_urlconf(**kwargs):
    """Each worker process loads the URLconf when it starts, not in its first task: the first
    ``reverse()`` (a notification's case link, say) imports every view module, 1–2.5 s that
    would otherwise land in whichever task came first — the daily dunning run, often."""
    from django.urls import get_resolver

    get_resolver().reverse_dict  # noqa: B018  (populates the resolver)
