"""One contender in its own process, so that its peak memory is its own.

    python -m bench.suggestions.contender {duckdb,spark,plain,sum,scipy,networkx} FOLLOWS OUT [...]

prints one JSON line: seconds, paths, rows and the contender's own details.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import pyarrow.dataset as pads
import pyarrow.parquet as pq


def _job(args: argparse.Namespace) -> dict[str, object]:
    """The job's own time is its busy phases (`Computed.busy`, as `JobReport` counts it):
    opening and closing the runner (for Spark, the JVM and the session) are apart, as
    start-up is for the other contenders."""
    from mayknow.suggestions.batch import EngineOptions, compute_to

    options = EngineOptions(
        threads=args.threads,
        memory_limit=args.memory_limit,
        driver_memory=args.driver_memory,
        master=args.master,
        batch_paths=args.batch_paths,
    )
    done = compute_to(
        args.out, [args.follows], engine=args.name, top_n=args.top_n,
        degree_cap=args.cap, options=options,
    )  # fmt: skip
    rows = pads.dataset(args.out, format="parquet").count_rows()
    return {
        "seconds": done.busy,
        "paths": done.paths,
        "rows": rows,
        "users": done.users,
        "edges": done.edges,
        "batches": done.batches,
        "phases": {k: round(v, 2) for k, v in done.seconds.items()},
        "steps": {k: round(v, 2) for k, v in done.steps.items()},
    }


def _plain(args: argparse.Namespace) -> dict[str, object]:
    from bench.suggestions.baselines import duckdb_plain

    seconds = duckdb_plain(
        args.follows, args.out, threads=args.threads, memory_limit=args.memory_limit,
        top_n=args.top_n, cap=args.cap,
    )  # fmt: skip
    return {"seconds": seconds, "rows": pads.dataset(args.out, format="parquet").count_rows()}


def _sum(args: argparse.Namespace) -> dict[str, object]:
    from bench.suggestions.baselines import duckdb_sum_only

    seconds, pairs = duckdb_sum_only(
        args.follows, args.out, threads=args.threads, memory_limit=args.memory_limit, cap=args.cap
    )
    return {"seconds": seconds, "pairs": pairs}


def _scipy(args: argparse.Namespace) -> dict[str, object]:
    from bench.suggestions.baselines import mutual_edges, scipy_top

    follows = pq.read_table(args.follows)
    started = time.perf_counter()
    table = scipy_top(mutual_edges(follows), top_n=args.top_n, cap=args.cap)
    seconds = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, args.out / "part-0.parquet")
    return {"seconds": seconds, "rows": table.num_rows}


def _networkx(args: argparse.Namespace) -> dict[str, object]:
    from bench.suggestions.baselines import mutual_edges, networkx_sample

    follows = pq.read_table(args.follows)
    mutual = mutual_edges(follows)
    table, seconds, paths = networkx_sample(
        mutual, viewers=args.sample, top_n=args.top_n, cap=args.cap
    )
    args.out.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, args.out / "part-0.parquet")
    return {"seconds": seconds, "rows": table.num_rows, "sample_paths": paths}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.suggestions.contender")
    parser.add_argument("name", choices=["duckdb", "spark", "plain", "sum", "scipy", "networkx"])
    parser.add_argument("follows", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--top-n", type=int, default=20)
    parser.add_argument("--cap", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="3GB")
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--master")
    parser.add_argument("--batch-paths", type=int)
    parser.add_argument("--sample", type=int, default=300)
    args = parser.parse_args()
    run = {
        "duckdb": _job, "spark": _job, "plain": _plain, "sum": _sum, "scipy": _scipy,
        "networkx": _networkx,
    }  # fmt: skip
    result = run[args.name](args)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
