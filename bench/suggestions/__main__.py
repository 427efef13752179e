"""Benchmark: all-users top-20 friend-of-friend, the job against a plain DuckDB query,
SciPy and networkx, and beside them DuckDB summing the job's paths and nothing else.

    python -m bench.suggestions                    # 1M users (DuckDB, plain, SciPy,
                                                   # networkx) + 100k users (Spark
                                                   # local[2], DuckDB, plain)
    python -m bench.suggestions --quick            # seconds; prints, records nothing

Each contender runs in its own process under /usr/bin/time -v; peak memory is the
largest resident set of the process tree (psutil, every 0.2 s) and GNU time's maximum.
Throughput is in two-hop paths per second (the job's cost: sum of deg(w)^2 over non-hub
intermediaries w). Full runs append to bench/suggestions/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq

from bench.population import build
from bench.suggestions.measure import Measured, agree, measure

HERE = Path(__file__).resolve().parent
POPULATIONS = HERE.parent / "population" / "out"
RESULTS = HERE / "results.md"


def population(users: int, root: Path) -> tuple[Path, dict[str, int]]:
    tag = (
        f"{users // 1_000_000}m"
        if users % 1_000_000 == 0
        else f"{users // 1000}k"
        if users % 1000 == 0
        else str(users)
    )
    folder = root / tag
    follows, shape = folder / "follows.parquet", folder / "shape.json"
    if not follows.exists():
        folder.mkdir(parents=True, exist_ok=True)
        made = build(users, books=False)
        pq.write_table(made.follows(), follows)
        shape.write_text(json.dumps(made.shape.__dict__))
    return follows, json.loads(shape.read_text())


def row(name: str, users: int, m: Measured, paths: int, note: str = "") -> str:
    rate = paths / m.seconds / 1e6 if m.seconds else 0.0
    return (
        f"| {name} | {users:,} | {paths / 1e6:,.1f}M | {m.seconds:,.1f} | {m.cpu:,.1f} "
        f"| {rate:,.2f}M | {m.peak_gib:.2f} | {note} |"
    )


# Under 3 GB the plain query runs out of memory at 1M users (its window sorts ~0.7B
# groups); the calibration ran it without a limit too (8.4 GB peak).
PLAIN_MEMORY = "16GB"
PLAIN = f"plain DuckDB query (2 threads, {PLAIN_MEMORY} limit)"
DIFFERS = "DIFFERS from DuckDB"
SUM_ONLY = "DuckDB sum of every path, nothing else (2 threads, 3 GB limit)"
SUM_NOTE = "the job's paths summed per (viewer, candidate): no ranking, no reasons, no output"

HEADER = (
    "| contender | users | paths | wall s | cpu s | paths/s | peak GiB | notes |\n"
    "|---|---|---|---|---|---|---|---|"
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.suggestions", description=__doc__)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--spark-users", type=int, default=100_000)
    parser.add_argument(
        "--skip", default="", help="comma list: duckdb,sum,plain,scipy,networkx,spark"
    )
    parser.add_argument("--sample", type=int, default=300, help="networkx viewers")
    parser.add_argument("--quick", action="store_true", help="2,000 users, no Spark, no record")
    parser.add_argument("--populations", type=Path, default=POPULATIONS)
    parser.add_argument("--work", type=Path, default=HERE / "out")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    if args.quick:
        args.users, args.sample, skip = 2000, 50, skip | {"spark"}

    lines, notes = [HEADER], []
    follows, shape = population(args.users, args.populations)
    paths = shape["paths"]
    work = args.work / str(args.users)
    duck = None
    if "duckdb" not in skip:
        duck = measure("duckdb", follows, work / "duckdb", ["--memory-limit", "3GB"])
        lines.append(row("job on DuckDB (2 threads, 3 GB limit)", args.users, duck, paths))
    if "sum" not in skip:
        bare = measure("sum", follows, work / "sum", ["--memory-limit", "3GB"])
        note = f"{SUM_NOTE}; {int(bare.extra.get('pairs', 0)):,} pairs"
        note += _ratio("job / this", duck, bare) if duck else ""
        lines.append(row(SUM_ONLY, args.users, bare, paths, note))
    if "plain" not in skip:
        plain = measure("plain", follows, work / "plain", ["--memory-limit", PLAIN_MEMORY])
        same = agree(work / "duckdb", work / "plain", exact=True) if duck else None
        note = _same(same) + (_ratio("plain / job", plain, duck) if duck else "")
        lines.append(row(PLAIN, args.users, plain, paths, note))
    if "scipy" not in skip:
        sci = measure("scipy", follows, work / "scipy", [])
        same = agree(work / "duckdb", work / "scipy") if duck else None
        lines.append(row("SciPy A·W·A, row blocks", args.users, sci, paths, _same(same)))
    if "networkx" not in skip:
        nxm = measure("networkx", follows, work / "networkx", ["--sample", str(args.sample)])
        sample_paths = int(nxm.extra.get("sample_paths", 0)) or 1
        full = nxm.seconds * paths / sample_paths
        same = agree(work / "duckdb", work / "networkx", subset=True) if duck else None
        est = Measured(full, full, nxm.peak_gib, nxm.extra)  # one thread: cpu = wall
        note = f"{args.sample} viewers ({sample_paths:,} paths) in {nxm.seconds:.1f} s, "
        lines.append(row("networkx, extrapolated", args.users, est, paths, note + _same(same)))
    if "spark" not in skip:
        lines += _spark_rows(args.spark_users, args.populations, args.work, skip)
    report = "\n".join(lines)
    print(report)
    if not args.quick:
        _record(report, shape, argv if argv is not None else sys.argv[1:], notes)
    if DIFFERS in report:  # recorded all the same: a wrong answer is a result too
        raise SystemExit("a contender's rows differ from the job's (the notes column)")


def _spark_rows(users: int, populations: Path, work: Path, skip: set[str]) -> list[str]:
    """The Spark job on the smaller graph, with the DuckDB job (and the plain query)
    beside it in the same run."""
    follows, shape = population(users, populations)
    work = work / str(users)
    ref = measure("duckdb", follows, work / "duckdb", [])
    spark = measure("spark", follows, work / "spark", ["--driver-memory", "4g"])
    same = agree(work / "duckdb", work / "spark", exact=True)
    paths = shape["paths"]
    lines = [row("job on DuckDB (2 threads)", users, ref, paths)]
    if "plain" not in skip:
        plain = measure("plain", follows, work / "plain", ["--memory-limit", PLAIN_MEMORY])
        note = _same(agree(work / "duckdb", work / "plain", exact=True))
        note += _ratio("plain / DuckDB job", plain, ref)
        note += _ratio("plain / Spark job", plain, spark)
        lines.append(row(PLAIN, users, plain, paths, note))
    lines.append(row("job on Spark local[2]", users, spark, paths, _same(same)))
    return lines


def _ratio(label: str, numerator: Measured, denominator: Measured) -> str:
    """Two contenders' seconds in the same run, as a ratio: the machine's mood moves it
    less than it moves seconds (README: where one reads a target)."""
    if not denominator.seconds:
        return ""
    return f"; {label} = {numerator.seconds / denominator.seconds:.2f}"


def _same(same: bool | None) -> str:
    return "" if same is None else ("rows identical to DuckDB's" if same else DIFFERS)


def _record(report: str, shape: dict[str, int], argv: list[str], notes: list[str]) -> None:
    load = os.getloadavg()
    head = (
        f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — `python -m bench.suggestions "
        f"{' '.join(argv)}`\n\n"
        f"Machine: {os.cpu_count()} cores, {platform.python_version()}, load average at the "
        f"end {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}. Graph: {json.dumps(shape)}\n\n"
    )
    with RESULTS.open("a") as handle:
        handle.write(head + report + "\n" + "".join(f"\n{n}" for n in notes))


if __name__ == "__main__":
    main()
