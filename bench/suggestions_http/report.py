"""The run's table, its verdict against the target, and the dated block for results.md."""

from __future__ import annotations

import datetime as dt
from importlib.metadata import version
from pathlib import Path

import bench.http.run as http_run
from bench.suggestions_http.check import Checked
from bench.suggestions_http.drive import Run

TARGET_P99_MS = 30.0  # issue #7: p99 under 30 ms at 200 requests/s
LABELS = {"health": "GET /v1/health", "suggestions": "GET /v1/suggestions"}
HEADER = """# GET /v1/suggestions over HTTP: results

Appended by `python -m bench.suggestions_http` (never by `--quick`). Each block is one
run on one machine. Compare ratios to health and server CPU ms/request across blocks;
absolute latencies only within a block, with its load average in view. README.md beside
this file says what each figure means.

"""


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.1f}×" if base > 0 else "n/a"


def table(runs: list[Run]) -> str:
    base = next((r for r in runs if r.target == "health"), None)
    rows = [
        "| run | offered | answered req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms "
        "| errors | server CPU ms/req | db CPU ms/req | vs health (p50, p99, CPU) "
        "| cores: workers; db; loadgen; other | conns/worker | load avg (1 min) at end |",
        "|" + "---|" * 15,
    ]
    for r in runs:
        vs = "baseline"
        if r.overloaded:
            vs = f"**overloaded**: {r.rps:,.0f} of {r.rate:g}/s answered"
        elif base is not None and r is not base:
            vs = ", ".join(
                (
                    _ratio(r.ms("p50"), base.ms("p50")),
                    _ratio(r.ms("p99"), base.ms("p99")),
                    _ratio(r.cpu_ms, base.cpu_ms),
                )
            )
        db_ms = "in-process" if r.db_cpu_ms is None else f"{r.db_cpu_ms:.2f}"
        db_cores = "in-process" if r.db_cores is None else f"{r.db_cores:.2f}"
        workers = "+".join(f"{c:.2f}" for c in r.worker_cores)
        rows.append(
            f"| {LABELS.get(r.target, r.target)} | {r.rate:g}/s × {r.seconds:g} s "
            f"| {r.rps:,.1f} | {r.ms('p50'):.2f} | {r.ms('p90'):.2f} | {r.ms('p99'):.2f} "
            f"| {r.ms('p999'):.2f} | {r.ms('max'):.1f} | {r.data['errors']} | {r.cpu_ms:.2f} "
            f"| {db_ms} | {vs} | {workers}; {db_cores}; {r.loadgen_cores:.2f}; "
            f"{r.other_cores:.2f} | {'/'.join(map(str, r.split))} | {r.loadavg[0]:.2f} |"
        )
    return "\n".join(rows)


def verdict(runs: list[Run], checked: Checked) -> list[str]:
    lines = []
    for r in runs:
        if r.target != "suggestions":
            continue
        ok = not r.overloaded and r.data["errors"] == 0 and r.ms("p99") < TARGET_P99_MS
        lines.append(
            f"- target (GET /v1/suggestions, {r.rate:g} req/s offered, p99 < "
            f"{TARGET_P99_MS:g} ms): **{'MET' if ok else 'MISSED'}**: p50 {r.ms('p50'):.1f} "
            f"ms, p99 {r.ms('p99'):.1f} ms, {r.rps:,.1f} req/s answered, "
            f"{r.data['errors']} errors, statuses {r.data['statuses']}"
        )
        lag = float(r.data.get("sched_lag_max_ms", 0.0))
        if lag > 5:
            lines.append(f"- the generator fell up to {lag:.0f} ms behind (counted as latency)")
    for r in runs:
        if r.other_cores > 0.5:
            lines.append(
                f"- {LABELS.get(r.target, r.target)}: {r.other_cores:.2f} cores busy with "
                "other work on the machine during the run: compare with care"
            )
    lines.append(f"- answers: {checked.summary()}")
    lines += [f"  - problem: {p}" for p in checked.problems[:10]]
    return lines


def machine_lines(db: str, loadavg_before: tuple[float, float, float], quiet: str) -> list[str]:
    m = http_run.machine()
    libs = f"{m['libs']}, duckdb {version('duckdb')}"
    return [
        f"- machine: {m['nproc']} CPUs (nproc), {m['cpu']}, Linux {m['kernel']}",
        f"- load average before: {' / '.join(f'{x:.2f}' for x in loadavg_before)} "
        f"(1/5/15 min); {quiet}",
        f"- Python {m['python']}; {libs}",
        f"- mayknow commit {m['commit']}",
        f"- database: {db}",
    ]


def block(
    title: str,
    setup: list[str],
    runs: list[Run],
    checked: Checked,
    profile_md: str,
) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(
        [
            f"## {now}: {title}",
            "",
            *setup,
            "",
            table(runs),
            "",
            *verdict(runs, checked),
            "",
            "Where one request's time goes (in-process, after the runs, server stopped):",
            "",
            profile_md,
            "",
            "",
        ]
    )


def append(path: Path, text: str) -> None:
    if not path.exists():
        path.write_text(HEADER)
    with path.open("a") as out:
        out.write(text)
