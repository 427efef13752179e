"""The friend-of-friend batch job, split in its two halves so one computation serves
both stores: ``compute_to`` (DuckDB, follows Parquet in, candidate rows out, cached on
disk) and ``replace_candidates`` (the job's own write path: staged, then one
transaction that replaces ``fof_candidates`` and records the job's audit event).

``mayknow jobs suggestions`` does exactly these two steps with the follows exported
from the store; here they are read from the population's Parquet file, which holds the
same rows (checked by ``store.py`` after loading).

    python -m bench.suggestions_http.fof FOLLOWS.parquet OUT_DIR   # compute only
"""

from __future__ import annotations

import fcntl
import json
import sys
import time
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from mayknow.audit import service as audit
from mayknow.shared.clock import SystemClock
from mayknow.suggestions.batch import EngineOptions, compute_to
from mayknow.suggestions.batch.io import replace_candidates
from mayknow.suggestions.jobs import JOB_ACTOR

LOCK = "compute.lock"
DONE = "computed.json"  # beside the rows, written last: marks a complete computation
TOP_N, DEGREE_CAP = 20, 1000  # the job's defaults (`mayknow jobs suggestions`)


def computed(follows: Path, out: Path, progress: bool = False) -> dict[str, object]:
    """Candidate rows for every viewer in ``out`` (cached: computed once per folder).

    An exclusive lock on ``out.parent / LOCK`` makes a concurrent run (the other store)
    wait for this computation instead of starting its own."""
    out.mkdir(parents=True, exist_ok=True)
    with (out.parent / LOCK).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _computed(follows, out, progress)


def _computed(follows: Path, out: Path, progress: bool) -> dict[str, object]:
    marker = out.parent / DONE
    if marker.exists():
        cached: dict[str, object] = json.loads(marker.read_text())
        return cached
    for stale in out.glob("*.parquet"):
        stale.unlink()
    started = time.perf_counter()
    result = compute_to(
        out,
        [follows],
        engine="duckdb",
        top_n=TOP_N,
        degree_cap=DEGREE_CAP,
        options=EngineOptions(threads=2, memory_limit="3GB"),
        progress=progress,
    )
    info: dict[str, object] = {
        "follows": str(follows),
        "viewers": result.viewers,
        "paths": result.paths,
        "batches": result.batches,
        "seconds": round(time.perf_counter() - started, 1),
    }
    marker.write_text(json.dumps(info))
    return info


def publish(store: Engine, rows: Path) -> int:
    """Replace the store's fof_candidates with ``rows``, as the job does; rows written."""
    clock = SystemClock()

    def audited(conn: Connection) -> None:
        with Session(bind=conn) as session:
            audit.record(
                session,
                at=clock.now(),
                actor=JOB_ACTOR,
                action="fof_candidates_replaced",
                details={"engine": "duckdb", "slice": "all", "top_n": TOP_N, "degree_cap": 1000},
            )

    return replace_candidates(
        store, rows, computed_at=clock.now(), slice_=None, before_commit=audited
    )


if __name__ == "__main__":
    print(json.dumps(computed(Path(sys.argv[1]), Path(sys.argv[2]), progress=True)))
