"""Drive the job's steps on one runner: prepare, cut the viewers into batches, score each
batch, export. The same sequence runs on every engine; only the runner differs."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from mayknow.suggestions.batch.engines import Runner
from mayknow.suggestions.batch.sql import (
    OUTPUT,
    WEIGHTS,
    Step,
    TopKey,
    batch_steps,
    prepare_steps,
)

SCALE = 1e9
OUTPUT_SCHEMA = pa.schema(
    [
        ("viewer_id", pa.int64()),
        ("candidate_id", pa.int64()),
        ("score", pa.int64()),
        ("mutual_count", pa.int64()),
        ("via1", pa.int64()),
        ("via2", pa.int64()),
        ("via3", pa.int64()),
    ]
)

Progress = Callable[[int, int], None]  # (viewers done in this batch, paths done in it)
# the phases that are the job's work; opening and closing the runner ("start", "stop")
# and reading or writing the store are timed apart
BUSY = ("prepare", "score", "export")


def busy(seconds: dict[str, float]) -> float:
    """The seconds of the job's own work in a phase -> seconds map."""
    return sum(seconds.get(k, 0.0) for k in BUSY)


def weight(degree: int) -> int:
    """An intermediary's Adamic-Adar weight in fixed point: round(1e9 / ln(degree))."""
    return round(SCALE / math.log(degree))


def weights_step(degree_cap: int) -> Step:
    """The weights as an inline VALUES table: the same integers for every engine."""
    rows = ", ".join(f"({d}, {weight(d)})" for d in range(2, max(degree_cap, 2) + 1))
    if degree_cap < 2:  # no intermediary counts: an empty table of the same shape
        rows = "(0, 0)"
    return Step("weights", WEIGHTS.format(rows=rows))


@dataclass
class Computed:
    users: int = 0  # members with at least one mutual connection
    edges: int = 0  # mutual connections (undirected)
    viewers: int = 0  # viewers with at least one two-hop path
    paths: int = 0  # two-hop paths through non-hub intermediaries, from these viewers
    batches: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # BUSY, with start and stop
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step, summed

    @property
    def busy(self) -> float:
        return busy(self.seconds)

    def run(self, runner: Runner, step: Step) -> None:
        started = time.perf_counter()
        runner.run(step)
        elapsed = time.perf_counter() - started
        self.steps[step.name] = self.steps.get(step.name, 0.0) + elapsed


@dataclass(frozen=True)
class Batch:
    lo: int  # dense viewer ix, inclusive
    hi: int  # exclusive
    viewers: int
    paths: int


def cut(ix: np.ndarray, paths: np.ndarray, per_batch: int) -> list[Batch]:
    """Consecutive viewer ranges of about `per_batch` paths each (a heavy viewer alone)."""
    if ix.size == 0:
        return []
    group = (np.cumsum(paths) - paths) // max(per_batch, 1)  # where each viewer starts
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    ends = np.r_[starts[1:], ix.size]
    sums = np.add.reduceat(paths, starts)
    bounds = np.r_[ix[starts], ix[-1] + 1]
    return [
        Batch(int(bounds[i]), int(bounds[i + 1]), int(ends[i] - starts[i]), int(sums[i]))
        for i in range(starts.size)
    ]


def plan_batches(runner: Runner, per_batch: int) -> list[Batch]:
    cost = runner.fetch("SELECT v, paths FROM cost ORDER BY v")
    ix = cost.column("v").to_numpy().astype(np.int64)
    paths = cost.column("paths").to_numpy().astype(np.int64)
    return cut(ix, paths, per_batch)


def compute(
    runner: Runner,
    follows: Sequence[Path],
    out: Path,
    *,
    top_n: int,
    degree_cap: int,
    slice_: tuple[int, int] | None,
    batch_paths: int | None = None,
    on_plan: Callable[[list[Batch]], None] | None = None,
    on_batch: Callable[[Batch], None] | None = None,
) -> Computed:
    """Run the job on `runner`; the rows go to Parquet files in `out`."""
    if top_n < 1:
        raise ValueError("top_n must be at least 1")
    report, started = Computed(), time.perf_counter()
    runner.register_parquet("follows_raw", follows)
    report.run(runner, weights_step(degree_cap))
    for step in prepare_steps(slice_, top_n):
        report.run(runner, step)
    sizes = runner.fetch("SELECT count(*) AS users, sum(deg) AS ends, max(deg) AS top FROM nodes")
    report.users = int(sizes.column("users")[0].as_py() or 0)
    report.edges = int(sizes.column("ends")[0].as_py() or 0) // 2
    max_weight = weight(2) if degree_cap >= 2 else 0  # weights fall with the degree
    key = TopKey.fitting(report.users, int(sizes.column("top")[0].as_py() or 0), max_weight)
    batches = plan_batches(runner, batch_paths or runner.default_batch_paths)
    hop = runner.fetch("SELECT count(*) AS n FROM hop").column("n")[0].as_py() or 0
    broadcast_hop = hop <= runner.broadcast_rows
    report.viewers = sum(b.viewers for b in batches)
    report.paths = sum(b.paths for b in batches)
    report.batches = len(batches)
    report.seconds["prepare"] = time.perf_counter() - started
    if on_plan is not None:
        on_plan(batches)
    started = time.perf_counter()
    for batch in batches:
        steps = batch_steps(runner.dialect, batch.lo, batch.hi, top_n, broadcast_hop, key)
        for step in steps:
            report.run(runner, step)
        if on_batch is not None:
            on_batch(batch)
    report.seconds["score"] = time.perf_counter() - started
    started = time.perf_counter()
    if batches:
        runner.export(OUTPUT, out)
    else:
        out.mkdir(parents=True, exist_ok=True)
        pq.write_table(OUTPUT_SCHEMA.empty_table(), out / "part-0.parquet")
    report.seconds["export"] = time.perf_counter() - started
    return report
