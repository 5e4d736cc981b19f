"""The dunning scenarios (``python -m bench.worker <name>``), each checking what it did.

* ``dunning``: the daily run over the due cases of :mod:`bench.dunning_mix` (every step),
  decide and record: its wall time, our CPU and the PostgreSQL backend's (``/proc``). Checked:
  each step's number of cases and each letter kind's number of letters as the mix expects,
  nothing still due, no errors, a status push queued for every case of a connected creditor
  it changed (still open).
* ``dunning_letters``: the same run, then every letter it queued rendered, stored and sent as
  the letter tasks do (``deliver_letters_task`` for each batch of the run's deliveries, in
  ``--procs`` processes side by side, no broker): "dunning incl. letters", end to end.
* ``dunning_parallel``: ``--procs`` runs side by side (``SKIP LOCKED`` shares the cases).
* ``dunning_bound``: a lower bound on the run's writes — the same kinds of rows (a letter
  and its delivery for each case the run writes a letter for, a fee and an interest entry per
  invoice, an event per case, the next step) written by plain set-based SQL in one
  transaction, no rules, no amounts computed, no status pushes.
* ``dunning_baseline``: a plain per-case ORM loop (lock, a letter, a fee entry, an event,
  the next step; one transaction per case). A baseline, not a bound (the set-based run is far
  under it).
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import os
import subprocess
import sys
import time

from bench.measure import check, count_sql, peak_rss_mb

#: The next actions whose step is a letter (and *venter godkjenning* of legal steps: a new
#: betalingsoppfordring), as the bound selects them without the rules.
LETTER_ACTIONS = ("send_inkassovarsel", "send_betalingsoppfordring", "send_varsel_rettslig")


def _due_ids(on):
    from collections_cases.dunning.services import due_q
    from collections_cases.models import CollectionCase

    return list(
        CollectionCase.objects.filter(due_q(on)).order_by("pk").values_list("pk", flat=True)
    )


def _pg_cpu() -> float:
    """The CPU seconds of this connection's PostgreSQL backend (same machine)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as fh:
            parts = fh.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def _run_checked(meta) -> dict:
    """The measured dunning run and its checks."""
    from django.db.models import Count

    from collections_cases.dunning.services import dunning_run
    from collections_cases.models import CollectionCase, Letter
    from integrations.models import OutboxMessage

    on = dt.date.fromisoformat(meta["on"])
    due = _due_ids(on)
    connected = set(
        CollectionCase.objects.filter(pk__in=due, pogo_case_id__isnull=False).values_list(
            "pk", flat=True
        )
    )
    outbox_before = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first()
    # As a Celery worker process does when it starts (the URLconf loaded, the startup's
    # objects frozen out of the garbage collector's sight).
    from kravia_web.process import process_ready

    process_ready()
    pg0 = _pg_cpu()
    with count_sql() as sql:
        started, cpu0 = time.monotonic(), time.process_time()
        result = dunning_run(on=on)
        seconds = time.monotonic() - started
        cpu = time.process_time() - cpu0
    pg = _pg_cpu() - pg0
    letters = dict(
        Letter.objects.filter(sent_on=on).values_list("kind").annotate(n=Count("pk")).order_by()
    )
    expected = meta.get("dunning_expected")
    check(not result.errors, f"dunning: errors {result.errors[:3]}")
    check(not result.held, f"dunning: held {result.held[:3]}")
    if expected:
        steps = {k: v for k, v in result.steps.items() if v}
        check(steps == expected["steps"], f"dunning: steps {steps} != {expected['steps']}")
        check(letters == expected["letters"], f"dunning: letters {letters} != {expected}")
    else:  # a base built before the mix: one inkassovarsel per case
        check(sum(letters.values()) == len(due), f"dunning: {letters} for {len(due)} cases")
    check(not _due_ids(on), "dunning: cases still due after the run")
    open_connected = set(
        CollectionCase.objects.filter(pk__in=connected)
        .exclude(status=CollectionCase.Status.CLOSED)
        .values_list("pk", flat=True)
    )
    pushed = set(
        OutboxMessage.objects.filter(
            pk__gt=outbox_before or 0, kind=OutboxMessage.Kind.UPDATE_STATUS
        ).values_list("case_id", flat=True)
    )
    missing = open_connected - pushed
    check(not missing, f"dunning: no status push for {len(missing)} connected cases")
    check(bool(pushed) == bool(connected), "dunning: status pushes")
    return {
        "seconds": seconds,
        "cases": len(due),
        "sql": sql["n"],
        "cpu_py_s": cpu,
        "cpu_pg_s": pg,
        "cpu_ms_per_case": 1000 * (cpu + pg) / max(len(due), 1),
        "letters": sum(letters.values()),
        "letters_by_kind": letters,
        "steps": dict(result.steps),
        "status_pushes": len(pushed),
        "connected_cases": len(connected),
    }


def scenario_dunning(args, meta):
    out = _run_checked(meta)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def _children(name: str, args, meta, parts: int) -> list[dict]:
    """``parts`` worker processes of scenario ``name`` side by side, each told its part."""
    command = [sys.executable, "-m", "bench.worker", name, "--scale", str(args.scale)]
    children = [
        subprocess.Popen(  # noqa: S603
            [*command, "--meta", json.dumps({**meta, "part": k, "parts": parts})],
            stdout=subprocess.PIPE,
            text=True,
        )
        for k in range(parts)
    ]
    results = []
    for child in children:
        out, _err = child.communicate()
        check(child.returncode == 0, f"{name} failed: {out[-500:]}")
        line = next(x for x in out.splitlines() if x.startswith("BENCH "))
        results.append(json.loads(line[6:]))
    return results


def scenario_dunning_letters_part(args, meta):
    """One process's share of the letters: the batch delivery task's body
    (``deliver_letters_task``) for each batch of deliveries, as the run queued them."""
    from collections_cases.dunning.services import dunning_run
    from collections_cases.letters.tasks import deliver_letters_task
    from collections_cases.models import LetterDelivery
    from kravia_web.process import process_ready

    process_ready()  # as a Celery worker process, before its first task
    batch_size = inspect.signature(dunning_run).parameters["batch_size"].default
    ids = [
        pk
        for pk in LetterDelivery.objects.filter(
            letter__sent_on=meta["on"], status=LetterDelivery.Status.QUEUED
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        if pk % meta["parts"] == meta["part"]
    ]
    started = time.process_time()
    outcomes: dict[str, int] = {}
    for start in range(0, len(ids), batch_size):
        for outcome, n in deliver_letters_task(ids[start : start + batch_size]).items():
            outcomes[outcome] = outcomes.get(outcome, 0) + n
    return {"letters": len(ids), "outcomes": outcomes, "cpu_s": time.process_time() - started}


def scenario_dunning_letters(args, meta):
    """The run, then every letter it queued rendered, stored and sent (``--procs``
    processes, as letter workers would)."""
    from django.core.files.storage import default_storage

    from collections_cases.models import Letter, LetterDelivery

    run = _run_checked(meta)
    started = time.monotonic()
    parts = _children("dunning_letters_part", args, meta, args.procs)
    letters_seconds = time.monotonic() - started
    on = meta["on"]
    done = sum(p["letters"] for p in parts)
    check(done == run["letters"], f"letters: {done} deliveries for {run['letters']} letters")
    failed = {k: v for p in parts for k, v in p["outcomes"].items() if k != "sent"}
    check(not failed, f"letters: outcomes {failed}")
    unsent = LetterDelivery.objects.filter(letter__sent_on=on).exclude(
        status=LetterDelivery.Status.SENT
    )
    check(not unsent.exists(), f"letters: {unsent.count()} deliveries not sent")
    stored = list(Letter.objects.filter(sent_on=on).exclude(pdf="").values_list("pdf", flat=True))
    check(len(stored) == run["letters"], f"letters: {len(stored)} PDFs stored")
    with default_storage.open(stored[0], "rb") as handle:
        check(handle.read(4) == b"%PDF", "letters: not a PDF")
    for name in stored:  # the run's copy of the database is dropped: so are its files
        default_storage.delete(name)
    return {
        **run,
        "letters_seconds": letters_seconds,
        "letters_cpu_s": sum(p["cpu_s"] for p in parts),
        "processes": args.procs,
        "total_seconds": run["seconds"] + letters_seconds,
        "peak_rss_mb": peak_rss_mb(),
    }


def scenario_dunning_part(args, meta):
    """One of several dunning runs side by side (see ``dunning_parallel``)."""
    from collections_cases.dunning.services import dunning_run
    from kravia_web.process import process_ready

    process_ready()  # as a Celery worker process, before its first task

    result = dunning_run(on=dt.date.fromisoformat(meta["on"]))
    return {"processed": result.processed}


def scenario_dunning_parallel(args, meta):
    """``--procs`` dunning runs at once, as several Celery workers would run the daily task:
    each locks a case with ``SKIP LOCKED`` and re-checks that it is due, so they share the
    cases without waiting for each other and none is stepped twice."""
    from collections_cases.models import Letter

    on = dt.date.fromisoformat(meta["on"])
    due = len(_due_ids(on))
    started = time.monotonic()
    processed = [p["processed"] for p in _children("dunning_part", args, meta, args.procs)]
    seconds = time.monotonic() - started
    letters = Letter.objects.filter(sent_on=on).count()
    expected = meta.get("dunning_expected")
    want = sum(expected["letters"].values()) if expected else due
    check(letters == want, f"dunning parallel: {letters} letters, expected {want}")
    check(sum(processed) == due, f"dunning parallel: processed {processed} for {due}")
    check(not _due_ids(on), "dunning parallel: cases still due")
    return {"seconds": seconds, "cases": due, "processes": args.procs, "split": processed}


def scenario_dunning_floor(args, meta):
    """The baseline: a plain per-case ORM loop doing a step's writes — lock the case, a
    letter, a fee entry, an event, the next step — one transaction per case, no rules."""
    from django.db import transaction

    from collections_cases.models import CaseEvent, CollectionCase, LedgerEntry, Letter

    on = dt.date.fromisoformat(meta["on"])
    ids = _due_ids(on)
    started = time.monotonic()
    with count_sql() as sql:
        for case_id in ids:
            with transaction.atomic():
                case = CollectionCase.objects.select_for_update().get(pk=case_id)
                Letter.objects.create(
                    case=case,
                    kind=Letter.Kind.INKASSOVARSEL,
                    step="baseline",  # a case of the mix may have had its inkassovarsel
                    sent_on=on,
                    deadline=on + dt.timedelta(days=14),
                    fee="35.00",
                    amounts={"principal": "1000.00"},
                )
                LedgerEntry.objects.create(
                    case=case, kind=LedgerEntry.Kind.FEE, amount="35.00", booked_on=on
                )
                CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.LETTER, message="IV")
                case.status = CollectionCase.Status.ACTIVE
                case.next_action = CollectionCase.NextAction.SEND_BETALINGSOPPFORDRING
                case.next_action_date = on + dt.timedelta(days=17)
                case.save(update_fields=["status", "next_action", "next_action_date", "updated_at"])
    seconds = time.monotonic() - started
    check(Letter.objects.filter(sent_on=on).count() == len(ids), "baseline: letters")
    check(not _due_ids(on), "baseline: cases still due")
    return {"seconds": seconds, "cases": len(ids), "sql": sql["n"]}


def scenario_dunning_bound(args, meta):
    from bench.dunning_bound import write_set_based

    on = dt.date.fromisoformat(meta["on"])
    ids = _due_ids(on)
    pg0 = _pg_cpu()
    started, cpu0 = time.monotonic(), time.process_time()
    rows = write_set_based(ids, on)
    seconds = time.monotonic() - started
    cpu, pg = time.process_time() - cpu0, _pg_cpu() - pg0
    expected = meta.get("dunning_expected")
    if expected:
        want = sum(expected["letters"].values())
        check(rows["letters"] == want, f"bound: {rows['letters']} letters, the run {want}")
    check(not _due_ids(on), "bound: cases still due")
    return {"seconds": seconds, "cases": len(ids), "cpu_py_s": cpu, "cpu_pg_s": pg, **rows}


DUNNING_SCENARIOS = {
    "dunning_letters": scenario_dunning_letters,
    "dunning_letters_part": scenario_dunning_letters_part,
    "dunning_bound": scenario_dunning_bound,
}
