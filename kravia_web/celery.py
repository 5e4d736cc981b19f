"""The Celery app: configured from Django settings under the ``CELERY_`` namespace."""

import gc
import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kravia_web.settings.base")

app = Celery("kravia_web")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def worker_process_ready(**kwargs):
    """A worker process, once started, before its first task: :func:`load_urlconf`, then
    :func:`freeze_startup_objects`."""
    load_urlconf()
    freeze_startup_objects()


def load_urlconf():
    """Each worker process loads the URLconf when it starts, not in its first task: the first
    ``reverse()`` (a notification's case link, say) imports every view module, 1–2.5 s that
    would otherwise land in whichever task came first — the daily dunning run, often."""
    from django.urls import get_resolver

    get_resolver().reverse_dict  # noqa: B018  (populates the resolver)


def freeze_startup_objects():
    """Move what the process has made so far (Django, the models, the URLconf: most of its
    objects, and they live as long as it does) out of the garbage collector's sight
    (``gc.freeze``). Every full collection would otherwise walk all of them again: in the
    letter tasks that was 3–4 ms of a letter's 30 ms. Objects made later are collected as
    before."""
    gc.collect()
    gc.freeze()
