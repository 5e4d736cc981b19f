"""A Celery worker process loads the URLconf when it starts, not in its first task."""

from celery.signals import worker_process_init
from django.urls import clear_url_caches, get_resolver

import kravia_web.celery  # noqa: F401  (connects the receiver)


def test_worker_process_init_populates_the_url_resolver():
    clear_url_caches()
    assert get_resolver()._populated is False
    worker_process_init.send(sender=None)
    assert get_resolver()._populated is True
