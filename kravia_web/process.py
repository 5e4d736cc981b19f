"""What a Celery worker process does once it has started, before its first task (connected
in ``kravia_web.celery``; the benchmark's worker-like scenarios call it too)."""

import gc


def process_ready() -> None:
    """:func:`load_urlconf`, then :func:`freeze_startup_objects`."""
    load_urlconf()
    freeze_startup_objects()


def load_urlconf() -> None:
    """Load the URLconf now, not in the first request or task: the first ``reverse()`` (a
    notification's case link, say) imports every view module, 1–2.5 s that would otherwise land
    in whichever came first — the daily dunning run, often."""
    from django.urls import get_resolver

    get_resolver().reverse_dict  # noqa: B018  (populates the resolver)


def freeze_startup_objects() -> None:
    """Move what the process has made so far (Django, the models, the URLconf: most of its
    objects, and they live as long as it does) out of the garbage collector's sight
    (``gc.freeze``). Every full collection would otherwise walk all of them again: in the
    letter tasks that was 3–4 ms of a letter's 30 ms, in the dunning run a fifth of its
    time. Objects made later are collected as before."""
    gc.collect()
    gc.freeze()
