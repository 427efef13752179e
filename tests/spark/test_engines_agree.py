"""DuckDB and Spark run the same job definition and give identical rows, bit for bit."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from bench.population import build

from mayknow.suggestions.batch import EngineOptions, compute_to

pytestmark = pytest.mark.spark

USERS = 600  # small: Spark pays seconds per step, whatever the size
KEY = [("viewer_id", "ascending"), ("candidate_id", "ascending")]


@pytest.fixture(scope="module")
def follows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    population = build(USERS, seed=7, books=False)
    path = tmp_path_factory.mktemp("population") / "follows.parquet"
    pq.write_table(population.follows(), path)
    return path


def rows(out: Path) -> pa.Table:
    table = pads.dataset(out, format="parquet").to_table()
    schema = pa.schema([pa.field(f.name, pa.int64()) for f in table.schema])
    return table.cast(schema).replace_schema_metadata(None).sort_by(KEY)


def both(
    follows: Path,
    out: Path,
    batch_paths: int | None = None,
    broadcast_rows: int = EngineOptions.broadcast_rows,
    **kwargs: object,
) -> tuple[pa.Table, pa.Table]:
    results = []
    for engine in ("duckdb", "spark"):
        options = EngineOptions(
            threads=2,
            memory_limit="1GB",
            driver_memory="1g",
            batch_paths=batch_paths,
            broadcast_rows=broadcast_rows,
        )
        compute_to(out / engine, [follows], engine=engine, options=options, **kwargs)  # type: ignore[arg-type]
        results.append(rows(out / engine))
    return results[0], results[1]


def test_duckdb_and_spark_give_identical_rows_on_a_generated_population(
    follows: Path, tmp_path: Path
) -> None:
    duck, spark = both(follows, tmp_path, top_n=20, degree_cap=100)
    assert duck.num_rows > USERS  # most members have 20 candidates
    assert duck.equals(spark)


def test_duckdb_and_spark_agree_on_a_slice_in_small_batches_without_the_broadcast_hint(
    follows: Path, tmp_path: Path
) -> None:
    """The plan for second hops too many to broadcast (here: any): Spark joins as it sees fit."""
    duck, spark = both(
        follows, tmp_path / "slice", batch_paths=20_000, broadcast_rows=0, top_n=5, slice_=(1, 3)
    )
    assert duck.num_rows > 0
    assert duck.equals(spark)
    viewers = duck.column("viewer_id").to_pylist()
    assert all(v % 3 == 1 for v in viewers)
