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


def _proc_cpu_seconds(pid: int) -> float | None:
    """utime + stime of process ``pid`` (Linux /proc), None when it is gone."""
    import os

    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pids(port: int) -> list[int]:
    """The gunicorn master and workers serving 127.0.0.1:``port`` (Linux /proc)."""
    import os

    bind = f"127.0.0.1:{port}".encode()
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if bind in argv and any(arg.endswith(b"gunicorn") for arg in argv[:2]):
            pids.append(int(name))
    return pids


def database_backend_pids() -> list[int]:
    """PostgreSQL's server processes connected to this process's database (every client)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


class ProcessCpu:
    """CPU seconds spent by a changing set of processes between ``start()`` and ``stop()``:
    those seen at either end (a process born in between counts from zero; one that ended in
    between is lost, so keep the set long-lived: gunicorn's workers, CONN_MAX_AGE backends)."""

    def __init__(self, find_pids):
        self.find_pids = find_pids
        self.before: dict[int, float] = {}

    def start(self) -> None:
        self.before = {}
        for pid in self.find_pids():
            cpu = _proc_cpu_seconds(pid)
            if cpu is not None:
                self.before[pid] = cpu

    def stop(self) -> float:
        total = 0.0
        for pid in set(self.before) | set(self.find_pids()):
            cpu = _proc_cpu_seconds(pid)
            if cpu is not None:
                total += cpu - self.before.get(pid, 0.0)
        return total
