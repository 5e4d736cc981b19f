"""How a service queues a Celery task without importing the task's module.

Tasks import services (a task is a thin wrapper around one service call); a service that
schedules a task names it by its dotted path, and the task module is imported here, at call
time. So no service module imports a tasks module, and the import graph has no circle between
them (``tests/test_architecture.py``).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.module_loading import import_string


def enqueue(task: str, *args, **kwargs) -> None:
    """``delay(*args, **kwargs)`` of the Celery task at the dotted path ``task``, now."""
    import_string(task).delay(*args, **kwargs)


def enqueue_on_commit(task: str, *args, robust: bool = True, **kwargs) -> None:
    """:func:`enqueue` once the current transaction commits. ``robust``: a broker that is down
    must not break the committed change (the sweeps pick such rows up later)."""
    transaction.on_commit(lambda: enqueue(task, *args, **kwargs), robust=robust)
