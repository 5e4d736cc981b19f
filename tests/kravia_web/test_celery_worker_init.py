"""A Celery worker process loads the URLconf when it starts, not in its first task, and then
puts what it has made out of the garbage collector's sight."""

import gc

from celery.signals import worker_process_init
from django.urls import clear_url_caches, get_resolver

import kravia_web.celery  # noqa: F401  (connects the receiver)


def test_worker_process_init_populates_the_url_resolver_then_freezes_what_it_made():
    clear_url_caches()
    assert get_resolver()._populated is False
    try:
        worker_process_init.send(sender=None)
        assert get_resolver()._populated is True
        assert gc.get_freeze_count() > 10_000
        resolver = get_resolver()  # made before the freeze: no collection walks it again
        assert gc.is_tracked(resolver) and all(o is not resolver for o in gc.get_objects())
    finally:
        gc.unfreeze()
