"""Run the benchmarks: ``python -m bench --scale 0.01`` (``make bench-quick``) or ``--scale 1``
(``make bench``). See docs/performance.md.

For each scale a base database ``bench_kravia_<scale>`` is migrated and filled once (kept for
later runs; ``--rebuild`` makes it again). Every run of a scenario starts from a fresh copy of
it (``CREATE DATABASE … TEMPLATE``), so runs are alike and the median means something. Scenarios
that speak HTTP get a gunicorn serving the whole site (Kundeweb and the sandbox at ``/pogo/``)
on 127.0.0.1; our PowerOffice client talks to it exactly as to PowerOffice Go.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg2
from psycopg2 import sql as pgsql

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
OUT = ROOT / "var" / "bench"
PG = {"host": "127.0.0.1", "user": "postgres", "dbname": "postgres"}
REDIS_DB = 11  # and 12 (the broker); --slot N uses two others (redis_db)
SLOT = 0  # set by --slot: several harnesses side by side (own run database, Redis dbs, output)
#: The base databases' name prefix: ``BENCH_DB=bench_mine`` gives a checkout (a git worktree with
#: migrations of its own) base databases of its own, built without touching the others'.
PREFIX = os.environ.get("BENCH_DB", "bench_kravia")
HTTP_SCENARIOS = {"sync", "sync_floor", "fanout", "pages"}
ORDER = [
    "sync",
    "sync_floor",
    "fanout",
    "dunning",
    "dunning_bound",
    "dunning_floor",
    "dunning_parallel",
    "dunning_letters",
    "letters",
    "letters_engines",
    "settle",
    "pages",
]


def tag(scale: float) -> str:
    return f"{scale:g}".replace(".", "_")


def admin(statement: str, *names: str) -> None:
    conn = psycopg2.connect(**PG)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(pgsql.SQL(statement).format(*map(pgsql.Identifier, names)))
    conn.close()


def vacuum(name: str) -> None:
    conn = psycopg2.connect(**{**PG, "dbname": name})
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    conn.close()


def database_exists(name: str) -> bool:
    conn = psycopg2.connect(**PG)
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        found = cursor.fetchone() is not None
    conn.close()
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_db() -> int:
    return {0: REDIS_DB, 1: 3, 2: 5, 3: 7, 4: 9, 5: 13}[SLOT]  # 0 and 1 are .ci/run's


def environment(database: str, port: int) -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="kravia_web.settings.base",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database}",
        REDIS_URL=f"redis://127.0.0.1:6379/{redis_db()}",
        CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{redis_db() + 1}",
        SITE_URL=f"http://127.0.0.1:{port}",
        DEBUG="false",
        MEDIA_ROOT=str(OUT / "media"),
        POWEROFFICE_SANDBOX="true",
        # Letters sent by e-mail in dunning_letters: built, not kept (40 000 PDFs in memory)
        EMAIL_URL="dummymail://",
        # Contract checks of the sandbox's responses cost ~1 s per 5 000-row page; the test
        # suite runs them, the benchmark measures Kundeweb.
        POGO_SANDBOX_VALIDATE_RESPONSES="false",
        PYTHONPATH=str(ROOT),
    )
    return env


def flush_redis() -> None:
    import redis

    for db in (redis_db(), redis_db() + 1):
        redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()


class Server:
    """gunicorn on 127.0.0.1 serving the site; 2 sync workers (the machine's cores)."""

    def __init__(self, env: dict, port: int, workers: int):
        self.env, self.port, self.workers = env, port, workers
        self.process = None

    def __enter__(self):
        self.process = subprocess.Popen(  # noqa: S603
            [
                str(Path(PYTHON).parent / "gunicorn"),
                "kravia_web.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--timeout",
                "120",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2)  # noqa: S310
                return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not come up")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=30)


def worker(scenario: str, args, env: dict, meta: dict) -> dict:
    command = [
        PYTHON,
        "-m",
        "bench.worker",
        scenario,
        "--scale",
        str(args.scale),
        "--meta",
        json.dumps(meta),
        "--workers",
        str(args.workers),
        "--procs",
        str(args.procs),
        "--clients",
        str(args.clients),
        "--duration",
        str(args.duration),
    ]
    if args.profile:
        command += ["--profile", str(OUT / f"{scenario}_{tag(args.scale)}.prof")]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[6:])
    sys.stderr.write(done.stdout[-3000:] + done.stderr[-5000:])
    raise SystemExit(f"scenario {scenario} failed (exit {done.returncode})")


@contextlib.contextmanager
def base_lock(scale: float):
    """Held while the base database is migrated or copied: harnesses run side by side (--slot)."""
    path = ROOT / "var" / "bench" / f"base_{tag(scale)}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def build(args, base: str) -> dict:
    # Shared by the slots of one prefix.
    meta_file = ROOT / "var" / "bench" / f"meta_{PREFIX}_{tag(args.scale)}.json"
    if database_exists(base) and meta_file.exists() and not args.rebuild:
        # Migrations added since the build (a schema change, a stored column's backfill) are
        # applied to the base once; a lock keeps harnesses side by side from racing.
        with base_lock(args.scale):
            env = environment(base, 8000)
            pending = subprocess.run(  # noqa: S603
                [PYTHON, "manage.py", "migrate", "--check", "-v", "0"], cwd=ROOT, env=env
            ).returncode
            if pending:
                subprocess.run(  # noqa: S603
                    [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
                    cwd=ROOT,
                    env=env,
                    check=True,
                )
                # A migration's backfill rewrites rows and clears the visibility map: until
                # autovacuum comes by, index-only scans would read the heap (a deep Saker page
                # 2 → 37 ms at full scale). Production's autovacuum does this in time; here the
                # copies are made at once, so the base is vacuumed now.
                vacuum(base)
        return json.loads(meta_file.read_text())
    if SLOT and PREFIX == "bench_kravia":
        raise SystemExit(
            f"build {base} first without --slot (python -m bench --scale {args.scale})"
        )
    admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", base)
    admin("CREATE DATABASE {}", base)
    env = environment(base, 8000)
    subprocess.run(  # noqa: S603
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    print(f"building the data set at scale {args.scale} …", file=sys.stderr)
    meta = worker("build", args, env, {})
    vacuum(base)  # as after a migration (above): the copies start with a set visibility map
    meta_file.write_text(json.dumps(meta))
    return meta


def run_scenario(scenario: str, args, base: str, meta: dict) -> dict:
    copy = f"{base}_run{SLOT or ''}"
    admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", copy)
    with base_lock(args.scale):  # a template must have no other session (a migrate)
        admin("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY", copy, base)
    flush_redis()
    port = free_port()
    env = environment(copy, port)
    try:
        if scenario in HTTP_SCENARIOS:
            with Server(env, port, args.server_workers):
                return worker(scenario, args, env, meta)
        return worker(scenario, args, env, meta)
    finally:
        admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", copy)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--scale", type=float, default=1.0, choices=[0.01, 0.1, 0.5, 1.0])
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario (median)")
    parser.add_argument("--only", default="", help="comma-separated scenarios")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--workers", type=int, default=4, help="fan-out: syncs side by side")
    parser.add_argument("--procs", type=int, default=2, help="dunning: runs side by side")
    parser.add_argument("--server-workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--clients", type=int, default=20, help="pages: concurrent clients")
    parser.add_argument("--duration", type=float, default=10.0, help="pages: seconds per load")
    parser.add_argument("--profile", action="store_true", help="cProfile each scenario")
    parser.add_argument(
        "--slot",
        type=int,
        default=0,
        choices=range(6),
        help="1-5: run beside other harnesses (own run database, Redis dbs, var/bench/slotN)",
    )
    args = parser.parse_args(argv)
    global OUT, SLOT
    if args.slot:
        SLOT, OUT = args.slot, OUT / f"slot{args.slot}"
    OUT.mkdir(parents=True, exist_ok=True)
    base = f"{PREFIX}_{tag(args.scale)}"
    meta = build(args, base)
    scenarios = [s for s in ORDER if not args.only or s in args.only.split(",")]
    # Long by nature: the rate limit sets the fan-out's pace; the floor is a reference (one run).
    runs_of = {"fanout": 1, "dunning_floor": 1, "dunning_letters": 1}
    results: dict[str, list[dict]] = {}
    loads = [load_average()]
    for scenario in scenarios:
        results[scenario] = []
        for i in range(runs_of.get(scenario, args.runs)):
            started = time.monotonic()
            run = run_scenario(scenario, args, base, meta)
            run["at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
            run["load"] = load_average()
            results[scenario].append(run)
            partial = OUT / f"partial_{tag(args.scale)}.json"  # kept if a long run is stopped
            partial.write_text(json.dumps(results, indent=1))
            print(
                f"  {scenario} run {i + 1}: {time.monotonic() - started:.1f} s "
                f"(load {load_average()})",
                file=sys.stderr,
            )
            loads.append(load_average())
    from bench.report import table

    info = {
        "scale": args.scale,
        "cores": os.cpu_count(),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "runs": args.runs,
        "server_workers": args.server_workers,
        "load_averages": loads,
        "build_seconds": meta.get("build_seconds"),
        "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    text = table(results, info)
    print(text)
    (OUT / f"table_{tag(args.scale)}.md").write_text(text)
    # The latest runs of every scenario at this scale, merged over invocations (`--only`), for
    # `python -m bench.report` (the tables and the scaling table).
    merged_file = OUT / f"results_{tag(args.scale)}.json"
    merged = json.loads(merged_file.read_text())["results"] if merged_file.exists() else {}
    merged.update(results)
    merged_file.write_text(json.dumps({"info": info, "results": merged}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
