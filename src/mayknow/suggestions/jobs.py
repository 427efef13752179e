"""The friend-of-friend batch job as the service runs it: over its own store, with the
configured degree cap, and an audit event in the transaction that replaces the table."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from mayknow.audit import service as audit
from mayknow.shared.clock import Clock
from mayknow.suggestions.batch import EngineOptions, JobReport, run_job

JOB_ACTOR = "job:friends_of_friends"


def refresh_friends_of_friends(
    store: Engine,
    *,
    clock: Clock,
    degree_cap: int,
    engine: Literal["duckdb", "spark"] = "duckdb",
    top_n: int = 20,
    slice_: tuple[int, int] | None = None,
    parquet_in: Path | None = None,
    options: EngineOptions | None = None,
    progress: bool = False,
) -> JobReport:
    """Recompute ``fof_candidates`` (all viewers, or one slice) and replace it atomically."""

    def audited(conn: Connection) -> None:
        with Session(bind=conn) as session:  # joins the replacing transaction
            audit.record(
                session,
                at=clock.now(),
                actor=JOB_ACTOR,
                action="fof_candidates_replaced",
                details={
                    "engine": engine,
                    "slice": f"{slice_[0]}/{slice_[1]}" if slice_ else "all",
                    "top_n": top_n,
                    "degree_cap": degree_cap,
                },
            )

    return run_job(
        store,
        engine=engine,
        top_n=top_n,
        degree_cap=degree_cap,
        slice_=slice_,
        parquet_in=parquet_in,
        options=options,
        progress=progress,
        clock=clock,
        before_commit=audited,
    )
