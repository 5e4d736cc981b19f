"""A Celery worker process loads the URLconf when it starts, not in its first task, and then
puts what it has made out of the garbage collector's sight (``kravia_web.process``)."""

import gc

import pytest
from celery.signals import worker_process_init
from django.urls import clear_url_caches, get_resolver

import kravia_web.celery  # noqa: F401  (connects the receiver)


@pytest.fixture
def fresh():
    clear_url_caches()
    gc.unfreeze()
    assert get_resolver()._populated is False and gc.get_freeze_count() == 0
    yield
    gc.unfreeze()


def _frozen_with_the_resolver():
    resolver = get_resolver()  # made before the freeze: no collection walks it again
    return (
        resolver._populated
        and gc.get_freeze_count() > 10_000
        and gc.is_tracked(resolver)
        and all(o is not resolver for o in gc.get_objects())
    )


def test_a_celery_worker_process_is_made_ready_when_it_starts(fresh):
    worker_process_init.send(sender=None)

    assert _frozen_with_the_resolver()
