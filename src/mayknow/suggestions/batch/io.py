"""The job's way in and out of the store.

In: the follow edges, streamed from the store into Parquet files (PostgreSQL: COPY ...
TO STDOUT as CSV, parsed by Arrow; SQLite: a cursor read in chunks), or a Parquet export.

Out: the computed rows replace the viewers' rows in `fof_candidates` in ONE transaction.
They are first staged in a temporary table (outside any write lock on SQLite), then the
transaction deletes the old rows (all, or the slice's) and inserts the staged ones whose
two members still exist. Readers (SQLite WAL, PostgreSQL MVCC) see the old rows until
the commit; if anything fails before it, the old rows stay in force.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as pads
import pyarrow.parquet as pq
from sqlalchemy import Connection, DateTime, Engine, bindparam, text

from mayknow.db.engine import WRITE

CHUNK = 50_000
FOLLOWS_SCHEMA = pa.schema([("follower_id", pa.int64()), ("followee_id", pa.int64())])
COLUMNS = ("viewer_id", "candidate_id", "score", "mutual_count", "via1", "via2", "via3")
STAGE = "fof_stage"
BeforeCommit = Callable[[Connection], None]


# ---- in -------------------------------------------------------------------------------
def export_follows(engine: Engine, folder: Path) -> list[Path]:
    """Stream the store's follows into Parquet files in `folder`; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "follows.parquet"
    with pq.ParquetWriter(target, FOLLOWS_SCHEMA) as writer:
        batches = _pg_follows(engine) if _is_pg(engine) else _cursor_follows(engine)
        for batch in batches:
            writer.write_table(batch)
    return [target]


def _cursor_follows(engine: Engine) -> Iterator[pa.Table]:
    with engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute("SELECT follower_id, followee_id FROM follows")
            while rows := cursor.fetchmany(CHUNK * 4):
                follower, followee = zip(*rows, strict=True)
                yield pa.table(
                    [pa.array(follower, pa.int64()), pa.array(followee, pa.int64())],
                    schema=FOLLOWS_SCHEMA,
                )
        finally:
            cursor.close()


def _pg_follows(engine: Engine) -> Iterator[pa.Table]:
    sql = "COPY (SELECT follower_id, followee_id FROM follows) TO STDOUT (FORMAT csv)"
    options = pacsv.ReadOptions(column_names=list(FOLLOWS_SCHEMA.names))
    convert = pacsv.ConvertOptions(
        column_types=dict(zip(FOLLOWS_SCHEMA.names, FOLLOWS_SCHEMA.types, strict=True))
    )
    with engine.connect() as conn:
        raw: Any = conn.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            pending = io.BytesIO()
            for block in copy:
                pending.write(block)
                if pending.tell() >= 64 << 20:
                    head, tail = _split_lines(pending.getvalue())
                    yield pacsv.read_csv(io.BytesIO(head), options, convert_options=convert)
                    pending = io.BytesIO()
                    pending.write(tail)
            if pending.tell():
                yield pacsv.read_csv(
                    io.BytesIO(pending.getvalue()), options, convert_options=convert
                )


def _split_lines(data: bytes) -> tuple[bytes, bytes]:
    cut = data.rfind(b"\n") + 1
    return data[:cut], data[cut:]


# ---- out ------------------------------------------------------------------------------
def replace_candidates(
    engine: Engine,
    rows: Path,
    *,
    computed_at: datetime,
    slice_: tuple[int, int] | None,
    before_commit: BeforeCommit | None = None,
) -> int:
    """Replace the run's viewers' rows with the Parquet rows in `rows`; return the count."""
    with engine.connect() as conn:
        _create_stage(conn)
        with conn.begin():
            _stage(conn, rows)
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            if slice_ is None:
                conn.execute(text("DELETE FROM fof_candidates"))
            else:
                k, n = slice_
                conn.execute(
                    text("DELETE FROM fof_candidates WHERE viewer_id % :n = :k"), {"n": n, "k": k}
                )
            written = _publish(conn, computed_at)
            if before_commit is not None:
                before_commit(conn)
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGE}")
        conn.commit()
    return written


def _create_stage(conn: Connection) -> None:
    columns = ", ".join(f"{c} BIGINT" for c in COLUMNS)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGE}")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {STAGE} ({columns})")
    conn.commit()


def _stage(conn: Connection, rows: Path) -> None:
    dataset = pads.dataset(rows, format="parquet")
    batches = dataset.to_batches(columns=list(COLUMNS), batch_size=CHUNK * 4)
    if conn.dialect.name == "postgresql":
        _copy_in(conn, batches)
        return
    marks = ", ".join("?" for _ in COLUMNS)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for batch in batches:
            columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            insert = f"INSERT INTO {STAGE} VALUES ({marks})"  # noqa: S608 - constants
            cursor.executemany(insert, zip(*columns, strict=True))
    finally:
        cursor.close()


def _copy_in(conn: Connection, batches: Iterator[pa.RecordBatch]) -> None:
    raw: Any = conn.connection.driver_connection
    options = pacsv.WriteOptions(include_header=False)
    with raw.cursor() as cursor, cursor.copy(f"COPY {STAGE} FROM STDIN (FORMAT csv)") as copy:
        for batch in batches:
            buffer = io.BytesIO()
            pacsv.write_csv(batch, buffer, options)
            copy.write(buffer.getvalue())


def _publish(conn: Connection, computed_at: datetime) -> int:
    names = ", ".join(COLUMNS)
    picked = ", ".join(f"s.{c}" for c in COLUMNS)
    statement = text(
        f"INSERT INTO fof_candidates ({names}, computed_at) "  # noqa: S608 - constants
        f"SELECT {picked}, :at FROM {STAGE} s "
        "WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = s.viewer_id) "
        "AND EXISTS (SELECT 1 FROM users u WHERE u.id = s.candidate_id)"
    ).bindparams(bindparam("at", type_=DateTime(timezone=True)))
    result = conn.execute(statement, {"at": computed_at})
    return int(result.rowcount)


def _is_pg(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
