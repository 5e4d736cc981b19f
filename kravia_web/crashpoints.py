"""Test-controlled crash points: kill this process at a named place, to prove recovery.

``crash_point("voucher.after_proposal")`` does nothing unless the settings module switched
crash points on (only ``kravia_web.settings.test`` does; base and production leave them off, and
production forces them off) **and** ``KRAVIA_CRASH_POINT`` names this point **and** the marker
file ``KRAVIA_CRASH_MARKER`` does not exist yet. Then it creates the marker and sends itself
SIGKILL — no cleanup, no acknowledgement, as when a machine dies — so a restarted worker with
the same environment passes the point. tests/reliability/test_worker_crashes.py uses it.
"""

import os
import signal

from django.conf import settings


def crash_point(name: str) -> None:
    if not getattr(settings, "CRASH_POINTS_ENABLED", False):
        return
    if os.environ.get("KRAVIA_CRASH_POINT") != name:
        return
    marker = os.environ.get("KRAVIA_CRASH_MARKER", "")
    if not marker:
        return
    try:
        with open(marker, "x") as file:  # exclusive: only the first process to get here dies
            file.write(name)
    except FileExistsError:
        return
    os.kill(os.getpid(), signal.SIGKILL)
