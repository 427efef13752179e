"""run_job: read the follows, compute the candidates on DuckDB or Spark, replace the table."""

from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine

from mayknow.db.engine import make_engine
from mayknow.shared.clock import Clock, SystemClock
from mayknow.suggestions.batch.engines import EngineOptions, open_runner
from mayknow.suggestions.batch.io import BeforeCommit, export_follows, replace_candidates
from mayknow.suggestions.batch.plan import Batch, Computed, busy, compute
from mayknow.suggestions.batch.progress import BatchBar

_SYSTEM_CLOCK = SystemClock()


@dataclass
class JobReport:
    engine: str
    users: int  # members with at least one mutual connection
    edges: int  # mutual connections (undirected)
    viewers: int  # viewers of this run with at least one two-hop path
    paths: int  # two-hop paths through non-hub intermediaries enumerated
    batches: int
    rows: int  # rows written to fof_candidates
    seconds: dict[str, float] = field(default_factory=dict)  # read, prepare, score, ...

    @property
    def paths_per_second(self) -> float:
        seconds = busy(self.seconds)
        return self.paths / seconds if seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "paths_per_second": round(self.paths_per_second)}


def run_job(
    store: str | Engine,
    *,
    engine: Literal["duckdb", "spark"] = "duckdb",
    top_n: int = 20,
    degree_cap: int = 1000,
    slice_: tuple[int, int] | None = None,
    parquet_in: Path | None = None,
    master: str | None = None,
    progress: bool = True,
    clock: Clock = _SYSTEM_CLOCK,
    options: EngineOptions | None = None,
    work_dir: Path | None = None,
    before_commit: BeforeCommit | None = None,
) -> JobReport:
    """Compute every viewer's top friend-of-friend candidates and replace fof_candidates.

    store: SQLAlchemy URL or Engine of the mayknow store (the rows are written there).
    parquet_in: read the follows from this Parquet file or folder (columns follower_id,
      followee_id) instead of the store. slice_=(k, n): only viewers with id % n == k.
    options: engine tuning (threads, memory limit, driver memory, batch size); `master`
      overrides options.master. work_dir: where temporary files go (default: system temp).
    before_commit: called inside the replacing transaction, just before it commits.
    """
    options = options or EngineOptions()
    if master is not None:
        options = EngineOptions(**{**asdict(options), "master": master})
    owned = isinstance(store, str)
    db = make_engine(store) if isinstance(store, str) else store
    seconds: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="mayknow-fof-", dir=work_dir) as tmp:
            folder = Path(tmp)
            started = time.perf_counter()
            follows = _inputs(db, parquet_in, folder / "in")
            seconds["read"] = time.perf_counter() - started
            computed = _compute(
                engine, options, follows, folder, top_n, degree_cap, slice_, progress
            )
            seconds.update(computed.seconds)
            started = time.perf_counter()
            rows = replace_candidates(
                db,
                folder / "out",
                computed_at=clock.now(),
                slice_=slice_,
                before_commit=before_commit,
            )
            seconds["write"] = time.perf_counter() - started
    finally:
        if owned:
            db.dispose()
    return JobReport(
        engine=engine,
        users=computed.users,
        edges=computed.edges,
        viewers=computed.viewers,
        paths=computed.paths,
        batches=computed.batches,
        rows=rows,
        seconds={k: round(v, 3) for k, v in seconds.items()},
    )


def compute_to(
    out: Path,
    follows: list[Path],
    *,
    engine: Literal["duckdb", "spark"] = "duckdb",
    top_n: int = 20,
    degree_cap: int = 1000,
    slice_: tuple[int, int] | None = None,
    options: EngineOptions | None = None,
    progress: bool = False,
    work_dir: Path | None = None,
) -> Computed:
    """The job without a store: follows Parquet in, candidate rows as Parquet in `out`."""
    with tempfile.TemporaryDirectory(prefix="mayknow-fof-", dir=work_dir) as tmp:
        folder = Path(tmp)
        computed = _compute(
            engine, options or EngineOptions(), follows, folder, top_n, degree_cap, slice_, progress
        )
        out.mkdir(parents=True, exist_ok=True)
        for part in sorted((folder / "out").glob("*.parquet")):
            part.replace(out / part.name)
    return computed


def _inputs(db: Engine, parquet_in: Path | None, folder: Path) -> list[Path]:
    if parquet_in is None:
        return export_follows(db, folder)
    if parquet_in.is_dir():
        return sorted(parquet_in.glob("*.parquet"))
    return [parquet_in]


def _compute(
    engine: Literal["duckdb", "spark"],
    options: EngineOptions,
    follows: list[Path],
    folder: Path,
    top_n: int,
    degree_cap: int,
    slice_: tuple[int, int] | None,
    progress: bool,
) -> Computed:
    bar = BatchBar(enabled=progress, label=f"fof {engine}")
    started = time.perf_counter()
    runner = open_runner(engine, options, folder / "engine")  # Spark: the JVM and session
    opened = time.perf_counter() - started
    try:
        computed = compute(
            runner,
            follows,
            folder / "out",
            top_n=top_n,
            degree_cap=degree_cap,
            slice_=slice_,
            batch_paths=options.batch_paths,
            on_plan=bar.start,
            on_batch=bar.advance,
        )
    finally:
        started = time.perf_counter()
        runner.close()
        bar.close()
    computed.seconds = {"start": opened, **computed.seconds, "stop": time.perf_counter() - started}
    return computed


__all__ = ["Batch", "JobReport", "compute_to", "run_job"]
