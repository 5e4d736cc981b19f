"""The Celery app: configured from Django settings under the ``CELERY_`` namespace."""

import os

from celery import Celery
from celery.signals import worker_process_init

from kravia_web.process import process_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kravia_web.settings.base")

app = Celery("kravia_web")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def worker_process_ready(**kwargs):
    """A worker process, once started, before its first task (``kravia_web.process``)."""
    process_ready()
