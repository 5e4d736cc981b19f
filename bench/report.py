"""The one table: medians of the runs, targets (scaled to the run's scale where they are
amounts of work), a floor or a baseline beside each figure and the ratio ours ÷ it.

A *floor* is a lower bound measured in the same run: the sync's bare requests + ``COPY``,
the fan-out's requests ÷ the key's 10/s, the dunning run's writes as plain set-based SQL
(``dunning_bound``). A *baseline* is a reference, not a bound: the dunning per-case ORM loop,
the pages' clients ÷ throughput (Little's law over our own throughput). The cell says which."""

from __future__ import annotations

import statistics


def _median(runs: list[dict], *path):
    values = []
    for run in runs:
        value = run
        for key in path:
            value = value[key]
        values.append(value)
    return statistics.median(values)


def _ok(condition: bool) -> str:
    return "yes" if condition else "**no**"


def table(results: dict[str, list[dict]], info: dict) -> str:
    scale = info["scale"]
    rows = []
    floor_sync = results.get("sync_floor")
    if "sync" in results:
        runs = results["sync"]
        ours = _median(runs, "initial_seconds")
        rss = _median(runs, "initial_peak_rss_mb")
        floor = _median(floor_sync, "seconds") if floor_sync else None
        target = 30 * scale
        rows.append(
            (
                "Initial sync over HTTP (customers + open invoices)",
                f"{runs[0]['rows']} rows",
                f"{ours:.2f} s; {_median(runs, 'initial_sql')} SQL for "
                f"{_median(runs, 'initial_requests')} requests"
                + (
                    f"; CPU {_median(runs, 'initial_cpu_seconds'):.1f} s"
                    if "initial_cpu_seconds" in runs[0]
                    else ""
                ),
                f"floor {floor:.2f} s (bare requests + COPY)" if floor else "–",
                f"{ours / floor:.1f}" if floor else "–",
                f"≤ {target:g} s (30 s × scale), RSS ≤ 400 MB, SQL O(pages)",
                _ok(ours <= target and rss <= 400),
                f"{rss:.0f}",
            )
        )
        inc = _median(runs, "incremental_seconds")
        per = runs[-1]["incremental_requests_per_resource"]
        rows.append(
            (
                "Incremental sync, nothing changed",
                "same",
                f"{inc:.2f} s; {_median(runs, 'incremental_sql')} SQL; requests: "
                + ", ".join(f"{k} {v}" for k, v in sorted(per.items())),
                "–",
                "–",
                "≤ 1 s, ≤ 3 requests per resource",
                _ok(inc <= 1 and max(per.values()) <= 3),
                "",
            )
        )
    if "fanout" in results:
        run = results["fanout"][0]
        within = run["seconds"] <= 1.10 * run["floor_seconds"]
        rows.append(
            (
                "Incremental sync fan-out, a few changes each",
                f"{run['creditors']} creditors, {run['workers']} workers",
                f"{run['seconds']:.1f} s; {run['requests']} requests "
                f"({run['requests_per_creditor']:.2f}/creditor, cold cycle "
                f"{run['cold_requests_per_creditor']:.2f}); max "
                f"{run['max_per_second_counted_by_sandbox']}/s at the sandbox; "
                f"{run['responses_429']} × 429",
                f"floor {run['floor_seconds']:.1f} s (requests ÷ 10/s)",
                f"{run['seconds'] / run['floor_seconds']:.2f}",
                "≤ 10 req/s, ≤ 1.10 × floor, ≤ 5 req/creditor",
                _ok(
                    within
                    and run["max_per_second_counted_by_sandbox"] <= 10
                    and run["requests_per_creditor"] <= 5
                ),
                f"{run['peak_rss_mb']:.0f}",
            )
        )
    rows += _dunning_rows(results, scale)
    if "letters" in results:
        runs = results["letters"]
        rate = _median(runs, "per_second")
        rows.append(
            (
                "Letter rendering (PDF), one process",
                f"{runs[0]['letters']} letters",
                f"{rate:.1f} letters/s"
                + (
                    f" ({_median(runs, 'per_cpu_second'):.1f} per CPU second)"
                    if "per_cpu_second" in runs[0]
                    else ""
                ),
                "–",
                "–",
                "≥ 40 letters/s per worker process",
                _ok(rate >= 40),
                f"{_median(runs, 'peak_rss_mb'):.0f}",
            )
        )
        if "mix_per_second" in runs[0]:
            mix = _median(runs, "mix_per_second")
            kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(runs[0]["mix_kinds"].items()))
            rows.append(
                (
                    "Letter rendering, the day's mix with Min side codes, one process",
                    f"{runs[0]['mix_letters']} letters ({kinds})",
                    f"{mix:.1f} letters/s ({_median(runs, 'mix_per_cpu_second'):.1f} per CPU "
                    "second)",
                    "–",
                    "–",
                    "≥ 40 letters/s per worker process",
                    _ok(mix >= 40),
                    "",
                )
            )
    if "settle" in results:
        runs = results["settle"]
        ours = _median(runs, "seconds")
        target = 20 * scale
        rows.append(
            (
                "Settlement run",
                f"{runs[0]['cases']} paid cases, {runs[0]['settlements']} creditors",
                f"{ours:.2f} s; {_median(runs, 'sql')} SQL; + statement PDFs "
                f"{_median(runs, 'statement_seconds'):.2f} s each, fanned out to workers",
                "–",
                "–",
                f"≤ {target:g} s (20 s × scale)",
                _ok(ours <= target),
                f"{_median(runs, 'peak_rss_mb'):.0f}",
            )
        )
    if "pages" in results:
        runs = results["pages"]
        clients = max(int(k.split("_c")[1]) for k in runs[0] if k.startswith("list_c"))
        for kind, label, limit, sql_limit in (
            ("list", "Case list page (filters + search)", 150, 12),
            ("case", "Case page", 100, None),
        ):
            p95 = _median(runs, f"{kind}_c{clients}", "p95_ms")
            one = _median(runs, f"{kind}_c1", "p95_ms")
            rps = _median(runs, f"{kind}_c{clients}", "rps")
            sql_max = max(run["sql_max"][kind] for run in runs)
            cpu = _median(runs, f"{kind}_c{clients}", "loadgen_cpu_pct")
            met = p95 <= limit and (sql_limit is None or sql_max <= sql_limit)
            server = ""
            if all("server_cpu_ms" in run[f"{kind}_c{clients}"] for run in runs):
                python_ms = _median(runs, f"{kind}_c{clients}", "server_cpu_ms")
                database_ms = _median(runs, f"{kind}_c{clients}", "database_cpu_ms")
                server = (
                    f"; server CPU a request {python_ms:.1f} ms + PostgreSQL {database_ms:.1f} ms"
                )
            rows.append(
                (
                    label,
                    f"{clients} clients, gunicorn × {info.get('server_workers', 2)}",
                    f"p95 {p95:.0f} ms ({rps:.0f} req/s); 1 client p95 {one:.0f} ms; "
                    f"≤ {sql_max} SQL; load generator {cpu:.0f} % CPU{server}",
                    f"baseline {1000 * clients / rps:.0f} ms (clients ÷ req/s; not a bound)",
                    f"{p95 / (1000 * clients / rps):.2f}",
                    f"p95 ≤ {limit} ms" + (f", ≤ {sql_limit} SQL" if sql_limit else ""),
                    _ok(met),
                    "",
                )
            )
    head = (
        f"Scale {scale:g} · {info['cores']} cores · {info['machine']} · Python {info['python']}"
        f" · median of {info['runs']} runs · {info['at']} · load averages "
        f"{info['load_averages'][0]} → {info['load_averages'][-1]}\n\n"
    )
    lines = [
        "| Scenario | Size | Ours (median) | Floor or baseline | Ours ÷ it | Target | Met "
        "| Peak RSS MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return head + "\n".join(lines) + "\n" + engines_table(results)


#: What each engine of ``letters_engines`` keeps from one letter to the next.
ENGINE_CACHES = {
    "weasyprint": "font configuration and parsed stylesheet per thread",
    "weasyprint_cached_letterhead": "as weasyprint, and the letterhead drawn once (stamped)",
    "typst": "one Typst compiler per thread: fonts, parsed templates, its memoised layout",
    "reportlab": "fonts registered once",
}


def _text_checked(engine: dict) -> int:
    """Letters whose text passed the check: ``text_checked`` (facts found), or in runs from
    before the HTML letters were removed ``same_text`` (the same words as WeasyPrint's)."""
    return engine.get("text_checked", engine.get("same_text", 0))


def engines_table(results: dict[str, list[dict]]) -> str:
    """The ``letters_engines`` comparison: each engine on the same letters (medians)."""
    if "letters_engines" not in results:
        return ""
    runs = results["letters_engines"]
    lines = [
        "",
        f"Letter engines, the same {runs[0]['letters']} letters, one process"
        " (end to end: contexts built from the database + drawing; render only: the drawing;"
        " each letter drawn once)",
        "",
        "| Engine | Letters/s end to end | Per CPU s end to end | Letters/s render only |"
        " Per CPU s render only | Bytes per letter | Text checked | What is cached |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in runs[0]["engines"]:
        lines.append(
            f"| {name} | {_median(runs, 'engines', name, 'per_second'):.1f}"
            f" | {_median(runs, 'engines', name, 'per_cpu_second'):.1f}"
            f" | {_median(runs, 'engines', name, 'render_per_second'):.1f}"
            f" | {_median(runs, 'engines', name, 'render_per_cpu_second'):.1f}"
            f" | {_median(runs, 'engines', name, 'bytes_per_letter'):,.0f}"
            f" | {_text_checked(runs[-1]['engines'][name])}/{runs[-1]['letters']}"
            f"{_not_drawn(runs[-1]['engines'][name])}"
            f" | {ENGINE_CACHES.get(name, '')} |"
        )
    return "\n".join(lines) + "\n"


def _not_drawn(engine: dict) -> str:
    """A candidate that lays out only some letters: how many it left (timed without them)."""
    left = engine.get("not_drawn", 0)
    return f" ({left} it cannot lay out, not timed)" if left else ""


def _dunning_reference(results) -> tuple[float | None, str]:
    """The dunning run's floor (set-based SQL) when measured, else the per-case baseline."""
    if "dunning_bound" in results:
        bound = _median(results["dunning_bound"], "seconds")
        text = f"floor {bound:.2f} s (set-based SQL)"
        if "dunning_floor" in results:
            text += f"; baseline {_median(results['dunning_floor'], 'seconds'):.2f} s (ORM loop)"
        return bound, text
    if "dunning_floor" in results:
        base = _median(results["dunning_floor"], "seconds")
        return base, f"baseline {base:.2f} s (per-case ORM loop)"
    return None, "–"


def _dunning_rows(results, scale) -> list[tuple]:
    rows = []
    reference, reference_text = _dunning_reference(results)
    target = 30 * scale
    if "dunning" in results:
        runs = results["dunning"]
        ours = _median(runs, "seconds")
        size = f"{runs[0]['cases']} due cases"
        if "letters" in runs[0]:
            size += (
                f" (every step: {runs[0]['letters']} letters, "
                f"{runs[0].get('status_pushes', 0)} status pushes)"
            )
        rows.append(
            (
                "Daily dunning run (decide + record steps)",
                size,
                f"{ours:.2f} s; {_median(runs, 'sql') / runs[0]['cases']:.2f} SQL/case"
                + (
                    f"; CPU {_median(runs, 'cpu_ms_per_case'):.2f} ms/case (Python "
                    f"{_median(runs, 'cpu_py_s'):.1f} s + PostgreSQL {_median(runs, 'cpu_pg_s'):.1f} s)"
                    if "cpu_ms_per_case" in runs[0]
                    else ""
                ),
                reference_text,
                f"{ours / reference:.2f}" if reference else "–",
                f"≤ {target:g} s (30 s × scale)",
                _ok(ours <= target),
                f"{_median(runs, 'peak_rss_mb'):.0f}",
            )
        )
    if "dunning_letters" in results:
        runs = results["dunning_letters"]
        total = _median(runs, "total_seconds")
        letters, procs = runs[0]["letters"], runs[0]["processes"]
        rate = letters / _median(runs, "letters_seconds")
        rows.append(
            (
                "Dunning incl. letters (run, then every letter rendered, stored and sent)",
                f"{runs[0]['cases']} due cases, {letters} letters, {procs} letter processes",
                f"{total:.1f} s end to end (run {_median(runs, 'seconds'):.1f} s + letters "
                f"{_median(runs, 'letters_seconds'):.1f} s: {rate:.1f} letters/s, "
                f"CPU {1000 * _median(runs, 'letters_cpu_s') / letters:.0f} ms/letter)",
                "–",
                "–",
                "reported (letters: ≥ 40/s per process)",
                _ok(rate / procs >= 40),
                f"{_median(runs, 'peak_rss_mb'):.0f}",
            )
        )
    if "dunning_parallel" in results:
        runs = results["dunning_parallel"]
        ours = _median(runs, "seconds")
        rows.append(
            (
                f"Dunning run, {runs[0]['processes']} processes side by side",
                f"{runs[0]['cases']} due cases",
                f"{ours:.2f} s (split {runs[-1]['split']})",
                reference_text,
                f"{ours / reference:.2f}" if reference else "–",
                f"≤ {target:g} s (30 s × scale)",
                _ok(ours <= target),
                "",
            )
        )
    return rows


SCALES = (0.01, 0.1, 0.5, 1.0)


def _per_unit(results: dict[str, list[dict]]) -> dict[str, str]:
    """Cost per unit of work at one scale: what must stay flat for the cost to be linear."""
    cells = {}
    if "sync" in results:
        runs = results["sync"]
        rows = runs[0]["rows"]
        cpu = (
            f", CPU {1000 * _median(runs, 'initial_cpu_seconds') / rows:.3f}"
            if "initial_cpu_seconds" in runs[0]
            else ""
        )
        cells["Initial sync, ms per row: wall, our CPU (SQL per 1 000 rows)"] = (
            f"{1000 * _median(runs, 'initial_seconds') / rows:.3f}{cpu} "
            f"({1000 * _median(runs, 'initial_sql') / rows:.1f})"
        )
        cells["Initial sync, peak RSS MB"] = f"{_median(runs, 'initial_peak_rss_mb'):.0f}"
        cells["Incremental sync, s"] = f"{_median(runs, 'incremental_seconds'):.2f}"
    if "fanout" in results:
        run = results["fanout"][0]
        cells["Fan-out, ms per request (requests per creditor)"] = (
            f"{1000 * run['seconds'] / run['requests']:.0f} ({run['requests_per_creditor']:.2f})"
        )
    if "dunning" in results:
        runs = results["dunning"]
        cases = runs[0]["cases"]
        cells["Dunning, ms per case (SQL per case)"] = (
            f"{1000 * _median(runs, 'seconds') / cases:.2f} ({_median(runs, 'sql') / cases:.2f})"
        )
    if "dunning_letters" in results:
        runs = results["dunning_letters"]
        cells["Dunning incl. letters, ms per case"] = (
            f"{1000 * _median(runs, 'total_seconds') / runs[0]['cases']:.2f}"
        )
    if "letters" in results:
        cells["Letters, letters/s"] = f"{_median(results['letters'], 'per_second'):.1f}"
    if "settle" in results:
        runs = results["settle"]
        creditors, cases = runs[0]["settlements"], runs[0]["cases"]
        cells["Settlement, ms per case (SQL per creditor)"] = (
            f"{1000 * _median(runs, 'seconds') / cases:.3f} ({_median(runs, 'sql') / creditors:.1f})"
        )
    if "pages" in results:
        runs = results["pages"]
        for kind, label in (("list", "Case list"), ("case", "Case page")):
            cells[f"{label}, 1-client p95 ms"] = f"{_median(runs, f'{kind}_c1', 'p95_ms'):.0f}"
    return cells


def scaling(by_scale: dict[float, dict[str, list[dict]]]) -> str:
    scales = [s for s in SCALES if s in by_scale]
    per_scale = {s: _per_unit(by_scale[s]) for s in scales}
    labels = list(dict.fromkeys(label for s in scales for label in per_scale[s]))
    lines = [
        "| Cost per unit | " + " | ".join(f"{100 * s:g} %" for s in scales) + " |",
        "|---" * (len(scales) + 1) + "|",
    ]
    for label in labels:
        lines.append(
            f"| {label} | " + " | ".join(per_scale[s].get(label, "–") for s in scales) + " |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    """``python -m bench.report [--dir var/bench]``: the table of the latest runs at each scale
    and the scaling table (cost per unit of work at 1, 10, 50 and 100 %)."""
    import argparse
    import json
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m bench.report")
    parser.add_argument("--dir", default=str(Path(__file__).resolve().parent.parent / "var/bench"))
    args = parser.parse_args(argv)
    by_scale = {}
    for scale in SCALES:
        path = Path(args.dir) / f"results_{f'{scale:g}'.replace('.', '_')}.json"
        if path.exists():
            data = json.loads(path.read_text())
            by_scale[scale] = data["results"]
            print(table(data["results"], data["info"]))
    if not by_scale:
        print(f"no results in {args.dir}: run python -m bench first")
        return 1
    print(scaling(by_scale))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
