"""The store under test: a synthetic population loaded in bulk, fof_candidates filled.

SQLite stores are cached (``CACHE/suggestions-sqlite-<tag>/``: store.db, its key ring in
data/, the population's Parquet files in population/, READY when complete), so a re-run
skips the load. PostgreSQL runs in a throwaway cluster (``scripts/pg-throwaway``) that is
loaded afresh and stopped at the end, unless a run keeps it (``--keep-pg``) and a later
one resumes it (``--reuse-pg``). The friend-of-friend rows are computed once per
population (``fof.computed``) and written into each store by the job's own write path.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine, text

from bench.population import Population, build, write
from bench.population.graph import Graph, Shape
from bench.population.load import load
from bench.suggestions_http import fof
from mayknow.db.engine import make_engine

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path("/tmp/mayknow-bench")  # noqa: S108 - the benchmarks' shared cache
READY = "READY"  # written last: a folder without it is loaded again from scratch


@dataclass(frozen=True)
class Prepared:
    url: str
    data_dir: Path
    population: Path  # users.parquet, follows.parquet, ...
    kind: str  # sqlite | postgresql
    info: dict[str, object]  # counts and timings of the preparation (or of the cached one)
    cluster: Path | None = None  # a throwaway PostgreSQL cluster's folder


def tag(users: int) -> str:
    return f"{users // 1_000_000}m" if users % 1_000_000 == 0 else f"{users // 1000}k"


def fof_rows(users: int, population: Path, cache: Path) -> tuple[Path, dict[str, object]]:
    """Compute (or reuse) the candidate rows for this population."""
    out = cache / f"fof-{tag(users)}" / "rows"
    out.mkdir(parents=True, exist_ok=True)
    computed = fof.computed(population / "follows.parquet", out)
    return out, computed


def _counts(engine: Engine) -> dict[str, int]:
    tables = ("users", "follows", "contact_edges", "consent_events", "fof_candidates")
    with engine.connect() as conn:
        return {
            t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() or 0)  # noqa: S608
            for t in tables
        }


def fill(
    url: str,
    data_dir: Path,
    population_dir: Path,
    users: int,
    cache: Path,
    say: Callable[[str], None],
) -> dict[str, object]:
    """Generate, load and publish the candidates into the (empty) store at ``url``."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    population = _population(users, population_dir, cache)
    timings["generate_s"] = time.perf_counter() - started
    say(f"  population ready in {timings['generate_s']:.0f} s; loading {url.split(':')[0]}")
    started = time.perf_counter()
    load(population, url, data_dir)
    timings["load_s"] = time.perf_counter() - started
    say(f"  loaded in {timings['load_s']:.0f} s; friend-of-friend rows ...")
    del population
    started = time.perf_counter()
    rows, computed = fof_rows(users, population_dir, cache)
    timings["fof_compute_wait_s"] = time.perf_counter() - started
    _same_follows(population_dir / "follows.parquet", computed)
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        written = fof.publish(engine, rows)
        timings["fof_publish_s"] = time.perf_counter() - started
        if engine.dialect.name == "postgresql":
            # What autovacuum does to tables this size in production, done now: without
            # it every first read of a row checks its transaction's status and dirties the
            # page, and no scan can be index-only (bench/contacts does the same)
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        counts = _counts(engine)
    finally:
        engine.dispose()
    say(f"  {written:,} fof rows published in {timings['fof_publish_s']:.0f} s")
    return {
        "counts": counts,
        "fof": computed,
        **{k: round(v, 1) for k, v in timings.items()},
    }


class _FromParquet(Population):
    """A population read back from the files ``write`` made (no latent graph needed)."""

    def __init__(self, folder: Path) -> None:
        shape = Shape(**json.loads((folder / "shape.json").read_text()))
        books = pq.read_table(folder / "address_books.parquet")
        super().__init__(cast(Graph, None), pq.read_table(folder / "users.parquet"), books, shape)
        self._follows = pq.read_table(folder / "follows.parquet")

    def follows(self) -> pa.Table:
        return self._follows


def _population(users: int, folder: Path, cache: Path) -> Population:
    """The seeded population; read back from the cached SQLite store's copy when it has
    one (same seed, same generator: the same members), else generated and written."""
    cached = cache / f"suggestions-sqlite-{tag(users)}" / "population"
    if cached != folder and (cached.parent / READY).exists():
        shutil.copytree(cached, folder, dirs_exist_ok=True)
        return _FromParquet(folder)
    population = build(users)
    write(population, folder)
    return population


def _same_follows(follows: Path, computed: dict[str, object]) -> None:
    """The rows were computed from these follows (or from a copy equal to them)."""
    source = Path(str(computed.get("follows", follows)))
    if source != follows and not pq.read_table(source).equals(pq.read_table(follows)):
        raise RuntimeError(f"fof rows were computed from {source}, which differs from {follows}")


def sqlite(users: int, cache: Path, say: Callable[[str], None], rebuild: bool = False) -> Prepared:
    folder = cache / f"suggestions-sqlite-{tag(users)}"
    if rebuild or not (folder / READY).exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        say(f"preparing a {users:,}-member SQLite store in {folder} (cached for re-runs)")
        url = f"sqlite:///{folder / 'store.db'}"
        info = fill(url, folder / "data", folder / "population", users, cache, say)
        (folder / READY).write_text(json.dumps(info, indent=2) + "\n")
    info = json.loads((folder / READY).read_text())
    url = f"sqlite:///{folder / 'store.db'}"
    return Prepared(url, folder / "data", folder / "population", "sqlite", info)


def sqlite_temp(users: int, workdir: Path, say: Callable[[str], None]) -> Prepared:
    """A tiny uncached store (quick mode)."""
    url = f"sqlite:///{workdir / 'store.db'}"
    info = fill(url, workdir / "data", workdir / "population", users, workdir, say)
    return Prepared(url, workdir / "data", workdir / "population", "sqlite", info)


@contextlib.contextmanager
def postgresql(
    users: int, cache: Path, say: Callable[[str], None], keep: bool = False, reuse: bool = False
) -> Iterator[Prepared]:
    """A throwaway cluster on loopback, loaded afresh; stopped (and removed) at the end.
    ``keep`` leaves it running; ``reuse`` resumes one kept by an earlier run instead of
    loading again (READY marks a complete load)."""
    folder = cache / f"suggestions-pg-{tag(users)}"
    cluster = folder / "cluster"
    script = str(ROOT / "scripts" / "pg-throwaway")
    resumed = reuse and (folder / READY).exists()
    if not resumed:
        subprocess.run([script, "stop", str(cluster)], timeout=120, check=False)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    started = subprocess.run(
        [script, "resume" if resumed else "start", str(cluster)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if started.returncode != 0:
        raise RuntimeError(f"scripts/pg-throwaway failed:\n{started.stderr[-2000:]}")
    url = started.stdout.strip().splitlines()[-1]
    say(f"throwaway PostgreSQL at {url} (cluster in {cluster}{', resumed' if resumed else ''})")
    try:
        if resumed:
            info = json.loads((folder / READY).read_text())
        else:
            info = fill(url, folder / "data", folder / "population", users, cache, say)
            (folder / READY).write_text(json.dumps(info, indent=2) + "\n")
        yield Prepared(url, folder / "data", folder / "population", "postgresql", info, cluster)
    finally:
        if not keep:
            subprocess.run([script, "stop", str(cluster)], timeout=120, check=False)
            shutil.rmtree(folder, ignore_errors=True)
            say("throwaway PostgreSQL stopped and removed")
