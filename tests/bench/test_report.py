"""The benchmark's report: the per-scale table and the scaling table (cost per unit of work)."""

import json

from bench import report


def _results(scale):
    cases = int(40_000 * scale)
    return {
        "dunning": [
            {"seconds": 0.5 * cases / 1000, "sql": 3 * cases, "cases": cases, "peak_rss_mb": 90},
            {"seconds": 0.7 * cases / 1000, "sql": 3 * cases, "cases": cases, "peak_rss_mb": 95},
            {"seconds": 0.6 * cases / 1000, "sql": 3 * cases, "cases": cases, "peak_rss_mb": 99},
        ],
        "letters": [{"per_second": 12.0, "letters": 10, "peak_rss_mb": 150}],
        "settle": [
            {
                "seconds": 10.0 * scale,
                "sql": 40 * int(1000 * scale),
                "settlements": int(1000 * scale),
                "cases": int(50_000 * scale),
                "statement_seconds": 0.2,
                "peak_rss_mb": 100,
            }
        ],
    }


def test_table_marks_targets_scaled_to_the_run():
    info = {
        "scale": 0.1,
        "cores": 2,
        "machine": "x",
        "python": "3.11",
        "runs": 3,
        "load_averages": ["1", "2"],
        "at": "now",
    }
    text = report.table(_results(0.1), info)
    dunning = next(line for line in text.splitlines() if line.startswith("| Daily dunning"))
    assert "2.40 s" in dunning  # the median of 2.0, 2.8, 2.4
    assert "≤ 3 s (30 s × scale)" in dunning and "| yes |" in dunning
    letters = next(line for line in text.splitlines() if line.startswith("| Letter"))
    assert "| **no** |" in letters


def test_scaling_table_gives_cost_per_unit_at_each_scale(tmp_path, capsys):
    for scale, name in ((0.1, "0_1"), (1.0, "1")):
        (tmp_path / f"results_{name}.json").write_text(
            json.dumps(
                {
                    "info": {
                        "scale": scale,
                        "cores": 2,
                        "machine": "x",
                        "python": "3",
                        "runs": 1,
                        "load_averages": ["0"],
                        "at": "t",
                    },
                    "results": _results(scale),
                }
            )
        )
    text = report.scaling({0.1: _results(0.1), 1.0: _results(1.0)})
    assert "| Cost per unit | 10 % | 100 % |" in text
    assert "| Dunning, ms per case (SQL per case) | 0.60 (3.00) | 0.60 (3.00) |" in text
    assert "| Settlement, ms per case (SQL per creditor) | 0.200 (40.0) | 0.200 (40.0) |" in text
    assert report.main(["--dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "Scale 0.1 ·" in printed and "Scale 1 ·" in printed  # both files found
    assert "| Cost per unit | 10 % | 100 % |" in printed


def test_the_dunning_rows_say_floor_or_baseline_and_report_the_letters_end_to_end():
    info = {
        "scale": 0.1,
        "cores": 2,
        "machine": "x",
        "python": "3.11",
        "runs": 1,
        "load_averages": ["1", "2"],
        "at": "now",
    }
    results = _results(0.1)
    results["dunning_floor"] = [{"seconds": 20.0, "cases": 4000, "sql": 1}]
    text = report.table(results, info)
    row = next(line for line in text.splitlines() if line.startswith("| Daily dunning"))
    assert "baseline 20.00 s (per-case ORM loop)" in row and "floor" not in row

    results["dunning_bound"] = [{"seconds": 0.8, "cases": 4000}]
    results["dunning_letters"] = [
        {
            "seconds": 2.0,
            "letters_seconds": 85.0,
            "total_seconds": 87.0,
            "letters": 3400,
            "letters_cpu_s": 170.0,
            "processes": 2,
            "cases": 4000,
            "peak_rss_mb": 120,
        }
    ]
    text = report.table(results, info)
    row = next(line for line in text.splitlines() if line.startswith("| Daily dunning"))
    assert "floor 0.80 s (set-based SQL); baseline 20.00 s (ORM loop)" in row
    assert "| 3.00 |" in row  # 2.40 s ÷ the floor's 0.80 s
    letters = next(line for line in text.splitlines() if line.startswith("| Dunning incl."))
    assert "87.0 s end to end (run 2.0 s + letters 85.0 s: 40.0 letters/s" in letters
    assert "CPU 50 ms/letter" in letters and "| **no** |" in letters  # 20 per process
    assert "| Scenario | Size | Ours (median) | Floor or baseline | Ours ÷ it |" in text


def test_the_letter_engines_table_gives_each_engine_its_rates():
    engine = {
        "per_second": 30.0,
        "per_cpu_second": 40.0,
        "render_per_second": 200.0,
        "render_per_cpu_second": 250.0,
        "bytes_per_letter": 52149.0,
        "text_checked": 100,
    }
    results = {
        "letters_engines": [
            {
                "letters": 100,
                "engines": {
                    "typst": engine,
                    # a run from before the HTML letters were removed: same_text
                    "weasyprint": {
                        **{key: value for key, value in engine.items() if key != "text_checked"},
                        "per_second": 8.0,
                        "same_text": 99,
                    },
                },
            }
        ]
    }

    text = report.engines_table(results)

    typst = next(line for line in text.splitlines() if line.startswith("| typst"))
    assert "| 30.0 | 40.0 | 200.0 | 250.0 | 52,149 | 100/100 |" in typst
    weasyprint = next(line for line in text.splitlines() if line.startswith("| weasyprint"))
    assert weasyprint.startswith("| weasyprint | 8.0 |") and "| 99/100 |" in weasyprint
    assert report.engines_table({}) == ""


def test_the_letters_row_of_the_day_s_mix_is_judged_on_its_own():
    info = {"scale": 1, "cores": 2, "machine": "x", "python": "3", "runs": 1}
    info |= {"load_averages": ["0"], "at": "t"}
    run = {"per_second": 50.0, "per_cpu_second": 51.0, "letters": 1000, "peak_rss_mb": 150}
    run |= {"mix_letters": 1000, "mix_kinds": {"inkassovarsel": 600, "varsel_rettslig": 400}}
    for mix, met in ((39.0, "| **no** |"), (41.0, "| yes |")):
        rows = report.table(
            {"letters": [run | {"mix_per_second": mix, "mix_per_cpu_second": mix}]}, info
        )
        line = next(x for x in rows.splitlines() if x.startswith("| Letter rendering, the day"))
        assert f"{mix:.1f} letters/s" in line and "600 inkassovarsel, 400 varsel_rettslig" in line
        assert met in line
