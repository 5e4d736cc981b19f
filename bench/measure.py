"""What every scenario measures with: checks, SQL counts, CPU time and peak RSS."""

from __future__ import annotations

import resource
import threading
from contextlib import contextmanager


class CheckFailed(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def count_sql():
    """Count the SQL statements this process sends (every connection, every thread)."""
    from django.db import connections
    from django.db.backends.signals import connection_created

    counter = {"n": 0}
    lock = threading.Lock()

    def wrapper(execute, sql, params, many, context):
        with lock:
            counter["n"] += 1
        return execute(sql, params, many, context)

    def install(connection, **_kwargs):
        # The wrapper list belongs to Django's connection object, which outlives the database
        # connection it opens: add it once (a reconnect would otherwise count every statement
        # twice).
        if wrapper not in connection.execute_wrappers:
            connection.execute_wrappers.append(wrapper)

    for conn in connections.all():
        conn.execute_wrappers.append(wrapper)
    connection_created.connect(install)
    try:
        yield counter
    finally:
        connection_created.disconnect(install)
        for conn in connections.all():
            if wrapper in conn.execute_wrappers:
                conn.execute_wrappers.remove(wrapper)
