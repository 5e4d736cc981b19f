"""One benchmark scenario in its own process (so its peak RSS is its own): ``python -m
bench.worker <scenario> --scale S --meta '{...}'``. Prints one JSON line (``BENCH {...}``).

Every scenario checks its result (row counts, statuses) and exits non-zero when it is wrong:
a figure is only reported for work that was actually done.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kravia_web.settings.base")

from bench.dunning_scenarios import (  # noqa: E402
    DUNNING_SCENARIOS,
    _due_ids,
    scenario_dunning,
    scenario_dunning_floor,
    scenario_dunning_parallel,
    scenario_dunning_part,
)
from bench.letter_engines import scenario_letters_engines  # noqa: E402 (Django settings first)
from bench.measure import (  # noqa: E402
    CheckFailed,
    ProcessCpu,
    check,
    count_sql,
    cpu_seconds,
    database_backend_pids,
    peak_rss_mb,
    server_pids,
)


class HttpLog:
    """Every response our PowerOffice client receives: (method, path, status)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen: list[tuple[str, str, int]] = []

    def install(self):
        import integrations.clients as clients

        original = clients.new_session

        def factory():
            session = original()
            session.hooks["response"].append(self.hook)
            return session

        clients.session_factory = factory

    def hook(self, response, *args, **kwargs):
        with self.lock:
            self.seen.append(
                (response.request.method, urlsplit(response.url).path, response.status_code)
            )

    def mark(self) -> int:
        return len(self.seen)

    def since(self, mark: int) -> list[tuple[str, str, int]]:
        return self.seen[mark:]


def resource_of(path: str) -> str:
    """/pogo/v2/Customers → Customers; token endpoints → token."""
    if "OAuth" in path:
        return "token"
    parts = [p for p in path.split("/") if p]
    return "/".join(parts[2:]) or path


# --- scenarios --------------------------------------------------------------------------------


def scenario_build(args, meta):
    from bench import data

    started = time.monotonic()
    meta.update(data.build_sandbox(args.scale, log=lambda m: print(m, file=sys.stderr)))
    meta.update(data.build_cases(args.scale, log=lambda m: print(m, file=sys.stderr)))
    meta["build_seconds"] = round(time.monotonic() - started, 1)
    return meta


def scenario_sync(args, meta):
    """Initial sync (customers + open invoices) over HTTP, then an incremental one."""
    from bench.data import sizes
    from collections_cases.models import Invoice
    from creditors.models import Debtor
    from integrations.models import PowerOfficeConnection, SyncRun
    from integrations.services.sync import sync_connection

    size = sizes(args.scale)
    http = HttpLog()
    http.install()
    connection = PowerOfficeConnection.objects.get(creditor_id=meta["sync_creditor_id"])
    with count_sql() as sql:
        started, cpu_started = time.monotonic(), cpu_seconds()
        run = sync_connection(connection_id=connection.pk)
        initial = time.monotonic() - started
        initial_cpu = cpu_seconds() - cpu_started
    check(run.status == SyncRun.Status.OK, f"initial sync: {run.status} {run.errors}")
    debtors = Debtor.objects.filter(creditor_id=meta["sync_creditor_id"]).count()
    invoices = Invoice.objects.filter(creditor_id=meta["sync_creditor_id"]).count()
    check(debtors == size["customers"], f"debtors {debtors} != {size['customers']}")
    check(invoices == size["invoices"], f"invoices {invoices} != {size['invoices']}")
    initial_requests = http.mark()
    initial_rss = peak_rss_mb()

    incremental = []
    per_resource = Counter()
    for _ in range(3):
        mark = http.mark()
        with count_sql() as sql_incremental:
            started = time.monotonic()
            run = sync_connection(connection_id=connection.pk)
            incremental.append(time.monotonic() - started)
        check(run.status == SyncRun.Status.OK, f"incremental: {run.status} {run.errors}")
        changed = {
            r: {k: v for k, v in c.items() if k in ("created", "updated")}
            for r, c in run.counts.items()
        }
        check(not any(changed.values()), f"incremental sync changed rows: {changed}")
        per_resource = Counter(resource_of(path) for _m, path, _s in http.since(mark))
    return {
        "initial_seconds": initial,
        "initial_cpu_seconds": initial_cpu,
        "initial_sql": sql["n"],
        "initial_requests": initial_requests,
        "rows": debtors + invoices,
        "initial_peak_rss_mb": initial_rss,
        "incremental_seconds": statistics.median(incremental),
        "incremental_sql": sql_incremental["n"],
        "incremental_requests_per_resource": dict(per_resource),
    }


def scenario_sync_floor(args, meta):
    """The floor: the same pages fetched with bare ``requests`` + a COPY of the same rows."""
    import requests
    from django.conf import settings
    from django.db import connection, transaction

    from bench.data import sizes
    from integrations.models import PowerOfficeConnection
    from integrations.poweroffice.client import DEFAULT_PAGE_SIZE

    size = sizes(args.scale)
    client_key = PowerOfficeConnection.objects.get(creditor_id=meta["sync_creditor_id"]).client_key
    session = requests.Session()
    started, cpu_started = time.monotonic(), cpu_seconds()
    token = session.post(
        settings.POWEROFFICE_V2_TOKEN_URL,
        data={"grant_type": "client_credentials"},
        auth=(settings.POWEROFFICE_APPLICATION_KEY, client_key),
        headers={"Ocp-Apim-Subscription-Key": settings.POWEROFFICE_SUBSCRIPTION_KEY},
        timeout=30,
    ).json()["access_token"]
    headers = {
        "Authorization": f"Bearer {token}",
        "Ocp-Apim-Subscription-Key": settings.POWEROFFICE_SUBSCRIPTION_KEY,
    }
    counts = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE floor_customer (id bigint, number bigint, name text, email text,"
            " org text, changed text) ON COMMIT DROP"
        )
        cursor.execute(
            "CREATE TEMP TABLE floor_invoice (id uuid, customer bigint, no bigint, due text,"
            " total numeric, balance numeric, changed text) ON COMMIT DROP"
        )
        for path, table, params, row in (
            (
                "/Customers",
                "floor_customer",
                {},
                lambda c: (
                    c["Id"],
                    c["Number"],
                    c["Name"],
                    c.get("EmailAddress") or "",
                    c.get("OrganizationNumber") or "",
                    c["LastChangedDateTimeOffset"],
                ),
            ),
            (
                "/OutgoingInvoices",
                "floor_invoice",
                {"onlyUnpaidInvoices": "true"},  # the spec's name (the sandbox refuses others)
                lambda i: (
                    i["Id"],
                    i["CustomerId"],
                    i["InvoiceNo"],
                    i["DueDate"],
                    i["TotalAmount"],
                    i["Balance"],
                    i["LastChangedDateTimeOffset"],
                ),
            ),
        ):
            page, total = 1, 0
            while True:
                response = session.get(
                    f"{settings.POWEROFFICE_V2_BASE_URL}{path}",
                    params={**params, "PageNumber": page, "PageSize": DEFAULT_PAGE_SIZE},
                    headers=headers,
                    timeout=30,
                )
                if response.status_code == 429:
                    time.sleep(float(response.headers.get("Retry-After", 1)))
                    continue
                response.raise_for_status()
                body = response.json() if response.status_code != 204 else []
                buffer = io.StringIO()
                for item in body:
                    buffer.write("\t".join(str(v).replace("\t", " ") for v in row(item)) + "\n")
                buffer.seek(0)
                cursor.copy_from(buffer, table)
                total += len(body)
                if len(body) < DEFAULT_PAGE_SIZE:
                    break
                page += 1
            counts[table] = total
    seconds = time.monotonic() - started
    cpu = cpu_seconds() - cpu_started
    check(counts["floor_customer"] == size["customers"], f"floor customers {counts}")
    check(counts["floor_invoice"] == size["invoices"], f"floor invoices {counts}")
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rows": sum(counts.values()),
        "peak_rss_mb": peak_rss_mb(),
    }


def scenario_fanout(args, meta):
    """1 000 connected creditors: a first (cold) cycle, a few changes each in Go, then the
    measured cycle; syncs run side by side as Celery workers would (``--workers`` threads
    in one process, sharing the token cache and the Redis rate limiter)."""
    from django.conf import settings
    from django.db import connections
    from django.utils import timezone

    from integrations.models import PowerOfficeConnection, SyncRun
    from integrations.services.sync import sync_connection
    from pogo_sandbox import domain
    from pogo_sandbox.models import Customer as PogoCustomer
    from pogo_sandbox.models import OutgoingInvoice as PogoInvoice

    http = HttpLog()
    http.install()
    ids = list(
        PowerOfficeConnection.objects.exclude(creditor_id=meta["sync_creditor_id"])
        .filter(creditor__name__startswith="Fanout")
        .order_by("pk")
        .values_list("pk", flat=True)
    )

    def one(connection_id):
        try:
            return sync_connection(connection_id=connection_id)
        finally:
            connections.close_all()

    def cycle():
        mark = http.mark()
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            runs = list(pool.map(one, ids))
        seconds = time.monotonic() - started
        bad = [(r.connection_id, r.status, r.errors) for r in runs if r.status != SyncRun.Status.OK]
        check(not bad, f"fan-out syncs failed: {bad[:3]}")
        return runs, seconds, http.since(mark), time.time() - seconds

    cold_runs, cold_seconds, cold_http, _ = cycle()
    # A few changes each, made in Go: two customers renamed, one invoice part-paid.
    now = timezone.now()
    companies = {}
    for customer in PogoCustomer.objects.filter(company__name__startswith="Fanout").order_by("pk"):
        companies.setdefault(customer.company_id, []).append(customer.pk)
    renamed = [pk for pks in companies.values() for pk in pks[:2]]
    for pk in renamed:
        PogoCustomer.objects.filter(pk=pk).update(name=f"Endret kunde {pk} AS", last_changed=now)
    paid = []
    for company_id in companies:
        invoice = PogoInvoice.objects.filter(company_id=company_id).order_by("invoice_no").first()
        PogoInvoice.objects.filter(pk=invoice.pk).update(
            balance=invoice.balance - 100, balance_last_changed=now, last_changed=now
        )
        paid.append(invoice.pk)
    time.sleep(1.1)  # the exclusive ``…GreaterThan`` filter: be past the change's second
    runs, seconds, seen, started_at = cycle()
    updated_customers = sum(r.counts.get("customers", {}).get("updated", 0) for r in runs)
    updated_invoices = sum(r.counts.get("invoices", {}).get("updated", 0) for r in runs)
    check(updated_customers == len(renamed), f"customers updated {updated_customers}")
    check(updated_invoices == len(paid), f"invoices updated {updated_invoices}")
    per_creditor = len(seen) / len(ids)
    counts = domain.request_counts(settings.POWEROFFICE_SUBSCRIPTION_KEY)
    window = [n for second, n in counts.items() if second >= int(started_at)]
    too_many = sum(1 for _m, _p, status in seen if status == 429)
    floor = len(seen) / settings.POWEROFFICE_RATE_LIMIT_PER_SECOND
    return {
        "creditors": len(ids),
        "workers": args.workers,
        "cold_seconds": cold_seconds,
        "cold_requests_per_creditor": len(cold_http) / len(ids),
        "seconds": seconds,
        "requests": len(seen),
        "requests_per_creditor": per_creditor,
        "per_resource": dict(Counter(resource_of(p) for _m, p, _s in seen)),
        "max_per_second_counted_by_sandbox": max(window or [0]),
        "responses_429": too_many,
        "floor_seconds": floor,
    }


def _bench_letters(scale, on):
    """The letters scenarios' letters: the dunning step recorded for the first due cases."""
    from django.db import transaction

    from bench.data import sizes
    from collections_cases.dunning.services import _step_one
    from collections_cases.models import Letter

    n = sizes(scale)["letters"]
    for case_id in _due_ids(on)[:n]:
        with transaction.atomic():
            _step_one(case_id, on)
    # Loaded as the delivery task loads its letter (letters.services._claim): with the case,
    # its debtor and its creditor.
    letters = list(
        Letter.objects.filter(sent_on=on)
        .select_related("case", "case__debtor", "case__creditor")
        .order_by("pk")
    )
    check(len(letters) == n, f"letters: {len(letters)} != {n}")
    return letters


def scenario_letters(args, meta):
    from collections_cases.letters.documents.letters import letter_render

    on = dt.date.fromisoformat(meta["on"])
    letters = _bench_letters(args.scale, on)
    n = len(letters)
    letter_render(letters[0])  # fonts and templates loaded once per worker process
    from kravia_web.process import process_ready

    process_ready()  # as the Celery worker process that draws them, before its tasks
    started, cpu_started = time.monotonic(), time.process_time()
    total = 0
    for letter in letters:
        pdf = letter_render(letter)
        check(pdf.startswith(b"%PDF"), "letters: not a PDF")
        total += len(pdf)
    seconds = time.monotonic() - started
    cpu = time.process_time() - cpu_started  # wall time is noisy on a shared 2-core machine
    return {
        "seconds": seconds,
        "letters": n,
        "per_second": n / seconds,
        "cpu_seconds": cpu,
        "per_cpu_second": n / cpu,
        "bytes": total,
        **_letters_mix(on, n),
    }


def _letters_mix(on, n) -> dict:
    """The letters as the day's run writes them: the rest of the due cases stepped (every
    kind, several invoices, interest periods, earlier payments), ``n`` of its letters taken
    evenly across them and drawn as the debtor gets them, with a Min side code (the
    ``letters`` figure above is the first due cases' inkassovarsel alone, without one)."""
    from unittest import mock

    from collections_cases.dunning.services import dunning_run
    from collections_cases.letters.documents.letters import letter_render
    from collections_cases.models import Letter

    with mock.patch("kravia_web.enqueue.enqueue"):  # no broker: the letters are drawn here
        dunning_run(on=on)
    day = list(
        Letter.objects.filter(sent_on=on)
        .select_related("case", "case__debtor", "case__creditor")
        .order_by("pk")[n:]
    )
    check(len(day) >= n, f"letters mix: {len(day)} letters for {n}")
    letters = day[:: len(day) // n][:n]
    started, cpu_started = time.monotonic(), time.process_time()
    for letter in letters:
        check(letter_render(letter, access_code="K7QXM4TPR2").startswith(b"%PDF"), "not a PDF")
    seconds = time.monotonic() - started
    cpu = time.process_time() - cpu_started
    return {
        "mix_letters": len(letters),
        "mix_kinds": dict(Counter(letter.kind for letter in letters)),
        "mix_per_second": len(letters) / seconds,
        "mix_per_cpu_second": len(letters) / cpu,
    }


def scenario_settle(args, meta):
    from bench.data import sizes
    from collections_cases import rules
    from collections_cases.models import PaymentAllocation, Settlement
    from collections_cases.settlements.services import (
        settle,
        settlement_render_statement,
        statements_missing_ids,
    )

    size = sizes(args.scale)
    on = dt.date.fromisoformat(meta["on"])
    while not rules.is_banking_day(on):  # settlements are made on business days
        on -= dt.timedelta(days=1)
    with count_sql() as sql:
        started = time.monotonic()
        report = settle(on=on, render_statements=False)  # as settle_task: PDFs fanned out
        seconds = time.monotonic() - started
    check(
        len(report.created) == size["settle_creditors"],
        f"settle: {len(report.created)} settlements, skipped {list(report.skipped.items())[:3]}",
    )
    left = PaymentAllocation.objects.filter(settlement_line__isnull=True).count()
    check(left == 0, f"settle: {left} allocations left unsettled")
    # The statement PDFs, as the render tasks do them: a sample in this one process.
    ids = statements_missing_ids()
    check(len(ids) == len(report.created), f"settle: {len(ids)} statements to render")
    sample = Settlement.objects.filter(pk__in=ids[: max(3, len(ids) // 100)])
    render_started = time.monotonic()
    for settlement in sample.select_related("creditor"):
        settlement_render_statement(settlement=settlement)
        check(settlement.statement_pdf.read(4) == b"%PDF", "settle: statement is not a PDF")
    render_seconds = (time.monotonic() - render_started) / sample.count()
    return {
        "seconds": seconds,
        "statement_seconds": render_seconds,
        "settlements": len(report.created),
        "cases": size["paid_cases"],
        "sql": sql["n"],
        "peak_rss_mb": peak_rss_mb(),
    }


# --- pages ------------------------------------------------------------------------------------


def _session_cookie(meta) -> tuple[str, str]:
    from django.conf import settings
    from django.test import Client

    from creditors.models import User
    from creditors.selectors import ACTIVE_CREDITOR_SESSION_KEY

    client = Client()
    client.force_login(User.objects.get(email=meta["user_email"]))
    session = client.session
    session[ACTIVE_CREDITOR_SESSION_KEY] = meta["big_creditor_id"]
    session.save()
    return settings.SESSION_COOKIE_NAME, session.session_key


def _page_urls(meta, rng) -> dict[str, list[str]]:
    from collections_cases.models import CollectionCase

    cases = list(
        CollectionCase.objects.filter(creditor_id=meta["big_creditor_id"])
        .order_by("?")
        .values_list("pk", "number", "debtor__name")[:200]
    )
    lists = ["/saker/", "/saker/?sort=-balance", "/saker/?status=active&sort=debtor"]
    lists += [f"/saker/?side={rng.randrange(2, 200)}" for _ in range(5)]
    lists += [f"/saker/?q={number[-5:]}" for _pk, number, _n in cases[:10]]
    lists += [f"/saker/?q={name.replace(' ', '+')}" for _pk, _no, name in cases[10:20]]
    lists += ["/saker/?only_open=1&balance_min=1000&sort=-created"]
    lists += ["/saker/?debtor_kind=person&next_from=2020-01-01&sort=next_action"]
    detail = [f"/saker/{pk}/" for pk, _no, _n in cases]
    return {"list": lists, "case": detail}


def _sql_per_page(urls, cookie) -> list[tuple[str, int, int]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.cookies[cookie[0]] = cookie[1]
    counts = []
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        check(response.status_code == 200, f"{url}: {response.status_code}")
        counts.append((url, len(queries), len(response.content)))
    return counts


def _load(base: str, urls: list[str], cookie, *, clients: int, seconds: float, marker: bytes):
    """Closed loop like wrk: ``clients`` threads, each one keep-alive connection, sending the
    next request when the last answer is read. Returns latencies (s) and errors."""
    import http.client

    host = urlsplit(base)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def run(index):
        rng = random.Random(index)  # noqa: S311
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        headers = {"Cookie": f"{cookie[0]}={cookie[1]}", "Connection": "keep-alive"}
        mine = []
        while time.monotonic() < stop:
            url = rng.choice(urls)
            t0 = time.perf_counter()
            try:
                conn.request("GET", url, headers=headers)
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors.append(f"{url}: {exc!r}")
                conn.close()
                conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
                continue
            mine.append(time.perf_counter() - t0)
            if response.status != 200 or marker not in body:
                with lock:
                    errors.append(f"{url}: {response.status}")
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors


def _percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def scenario_pages(args, meta):
    from django.conf import settings

    rng = random.Random(3)  # noqa: S311
    cookie = _session_cookie(meta)
    urls = _page_urls(meta, rng)
    sql = {kind: _sql_per_page(group, cookie) for kind, group in urls.items()}
    result = {"sql_max": {k: max(n for _u, n, _b in v) for k, v in sql.items()}}
    result["sql_worst_url"] = {k: max(v, key=lambda row: row[1])[0] for k, v in sql.items()}
    # CPU of the server's processes per request: gunicorn (master + workers) and PostgreSQL's
    # backends of the run database. Unlike p95 on a shared machine, these do not move with the
    # load beside the run.
    port = urlsplit(settings.SITE_URL).port
    server_cpu = ProcessCpu(lambda: server_pids(port))
    database_cpu = ProcessCpu(database_backend_pids)
    for kind, group in urls.items():
        for clients in (1, args.clients):
            server_cpu.start()
            database_cpu.start()
            cpu0, wall0 = cpu_seconds(), time.monotonic()
            latencies, errors = _load(
                settings.SITE_URL,
                group,
                cookie,
                clients=clients,
                seconds=args.duration,
                marker=b"</html>",
            )
            wall = time.monotonic() - wall0
            loadgen_cpu = cpu_seconds() - cpu0
            python_cpu, database_cpu_s = server_cpu.stop(), database_cpu.stop()
            check(not errors, f"{kind}: {len(errors)} errors, e.g. {errors[:3]}")
            check(len(latencies) > 0, f"{kind}: no responses")
            result[f"{kind}_c{clients}"] = {
                "requests": len(latencies),
                "rps": len(latencies) / wall,
                "p50_ms": 1000 * _percentile(latencies, 50),
                "p95_ms": 1000 * _percentile(latencies, 95),
                "p99_ms": 1000 * _percentile(latencies, 99),
                "loadgen_cpu_pct": 100 * loadgen_cpu / wall,
                "server_cpu_ms": 1000 * python_cpu / len(latencies),
                "database_cpu_ms": 1000 * database_cpu_s / len(latencies),
            }
    return result


SCENARIOS = {
    "build": scenario_build,
    "sync": scenario_sync,
    "sync_floor": scenario_sync_floor,
    "fanout": scenario_fanout,
    "dunning": scenario_dunning,
    "dunning_floor": scenario_dunning_floor,
    "dunning_part": scenario_dunning_part,
    "dunning_parallel": scenario_dunning_parallel,
    "letters": scenario_letters,
    "letters_engines": lambda args, meta: scenario_letters_engines(
        args, meta, prepare_letters=_bench_letters, check=check
    ),
    "settle": scenario_settle,
    "pages": scenario_pages,
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    scenarios = {**SCENARIOS, **DUNNING_SCENARIOS}
    parser.add_argument("scenario", choices=sorted(scenarios))
    parser.add_argument("--scale", type=float, required=True)
    parser.add_argument("--meta", default="{}")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--profile", default="")
    args = parser.parse_args(argv)
    import django

    django.setup()
    meta = json.loads(args.meta)
    wall0, cpu0 = time.monotonic(), cpu_seconds()
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    try:
        result = scenarios[args.scenario](args, meta)
    except CheckFailed as exc:
        print(f"BENCH-CHECK-FAILED {args.scenario}: {exc}", flush=True)
        return 2
    finally:
        if args.profile:
            profiler.disable()
            profiler.dump_stats(args.profile)
    result.setdefault("peak_rss_mb", peak_rss_mb())
    result["process_wall"] = time.monotonic() - wall0
    result["process_cpu"] = cpu_seconds() - cpu0
    print("BENCH " + json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
