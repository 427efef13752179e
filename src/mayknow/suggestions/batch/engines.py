"""The two engines that run the job's SQL: DuckDB (embedded) and Spark (PySpark).

A runner knows how to register inputs, materialise a step, fetch a small result and
export the final rows to Parquet. It knows nothing of friends of friends.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import pyarrow as pa

from mayknow.suggestions.batch.sql import Dialect, Step

if TYPE_CHECKING:
    import duckdb

EngineName = Literal["duckdb", "spark"]

QUIET_LOG4J = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


@dataclass(frozen=True)
class EngineOptions:
    threads: int | None = None  # DuckDB threads; Spark local[N] when no master is given
    memory_limit: str = "3GB"  # DuckDB's memory limit (it spills to temp_dir beyond it)
    master: str | None = None  # Spark master URL; default local[threads or 2]
    driver_memory: str = "4g"
    shuffle_partitions: int | None = None  # default 4 per local core, 200 on a cluster
    batch_paths: int | None = None  # two-hop paths per batch of viewers
    # Spark: send the second hops to every task while they are at most this many rows
    # (about 50 bytes each in the broadcast); beyond, the paths are shuffled instead
    broadcast_rows: int = 10_000_000


class Runner(Protocol):
    dialect: Dialect
    default_batch_paths: int
    broadcast_rows: int  # the largest `hop` the job asks the engine to broadcast

    def register_parquet(self, name: str, files: Sequence[Path]) -> None: ...
    def run(self, step: Step) -> None: ...
    def fetch(self, sql: str) -> pa.Table: ...
    def export(self, sql: str, out: Path) -> None: ...
    def close(self) -> None: ...


class DuckDBRunner:
    dialect: Dialect = "duckdb"
    default_batch_paths = 6_000_000
    broadcast_rows = 0  # DuckDB plans its own joins: the hints are comments to it

    def __init__(self, options: EngineOptions, temp_dir: Path) -> None:
        import duckdb

        spill = temp_dir / "duckdb-spill"
        spill.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {
            "memory_limit": options.memory_limit,
            "temp_directory": str(spill),
            "enable_external_access": True,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
        if options.threads:
            config["threads"] = options.threads
        self.con: duckdb.DuckDBPyConnection = duckdb.connect(":memory:", config=config)
        self.con.execute("SET enable_progress_bar = false")
        self._appended: set[str] = set()

    def register_parquet(self, name: str, files: Sequence[Path]) -> None:
        listed = ", ".join(_quote(str(f)) for f in files)
        query = f"SELECT * FROM read_parquet([{listed}])"  # noqa: S608 - our own file names
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {query}")

    def run(self, step: Step) -> None:
        if step.kind == "view":
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW {step.name} AS {step.sql}")
        elif step.kind == "reused":
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {step.name} AS {step.sql}")
        elif step.kind == "append" and step.name in self._appended:
            self.con.execute(f"INSERT INTO {step.name} {step.sql}")
        else:
            order = f" ORDER BY {step.order}" if step.order else ""
            body = f"SELECT * FROM ({step.sql}) q{order}"  # noqa: S608 - the job's own SQL
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {step.name} AS {body}")
            if step.kind == "append":
                self._appended.add(step.name)

    def fetch(self, sql: str) -> pa.Table:
        table: pa.Table = self.con.sql(sql).to_arrow_table()
        return table

    def export(self, sql: str, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        target = _quote(str(out / "part-0.parquet"))
        self.con.execute(f"COPY ({sql}) TO {target} (FORMAT parquet, ROW_GROUP_SIZE 262144)")

    def close(self) -> None:
        self.con.close()


class SparkRunner:
    dialect: Dialect = "spark"
    # Few, large batches: every batch broadcasts `hop` afresh to its two queries (about
    # 2 s each for the 100k-user graph's 1.9M rows), and its sum and top-N still fit a
    # 4 GB driver at this size (an 85M-path batch spilled and took 30 % longer).
    default_batch_paths = 50_000_000

    def __init__(self, options: EngineOptions, temp_dir: Path) -> None:
        from pyspark.sql import SparkSession

        cores = options.threads or 2
        master = options.master or f"local[{cores}]"
        local = master.startswith("local")
        if local:
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        py4j = logging.getLogger("py4j")  # logs every gateway call at DEBUG otherwise
        if py4j.level == logging.NOTSET:
            py4j.setLevel(logging.WARNING)
        partitions = options.shuffle_partitions or (4 * cores if local else 200)
        self.broadcast_rows = options.broadcast_rows
        temp_dir.mkdir(parents=True, exist_ok=True)
        log4j = temp_dir / "log4j2.properties"
        log4j.write_text(QUIET_LOG4J)
        self.temp_dir = temp_dir
        builder: Any = SparkSession.builder
        self.spark = (
            builder.master(master)
            .appName("mayknow-fof")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", str(partitions))
            .config("spark.driver.memory", options.driver_memory)
            .config("spark.local.dir", str(temp_dir / "spark-local"))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.autoBroadcastJoinThreshold", str(64 << 20))
            # The job's hints fix its plan (sql.py); adaptive execution re-plans each stage,
            # 1.1-1.2x slower at 100k users on local[2] (docs/suggestions.md)
            .config("spark.sql.adaptive.enabled", "false")
            .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{log4j}")
            .getOrCreate()
        )
        self.spark.sparkContext.setLogLevel("ERROR")
        self._kept: dict[str, Any] = {}

    def register_parquet(self, name: str, files: Sequence[Path]) -> None:
        self.spark.read.parquet(*[str(f) for f in files]).createOrReplaceTempView(name)

    def run(self, step: Step) -> None:
        from pyspark import StorageLevel

        frame = self.spark.sql(step.sql)
        if step.kind in ("view", "reused"):
            frame.createOrReplaceTempView(step.name)
            return
        if step.kind == "append":
            folder = str(self.temp_dir / "steps" / step.name)
            frame.write.mode("append").parquet(folder)
            self.spark.read.parquet(folder).createOrReplaceTempView(step.name)
            return
        # cache() keeps the table's measured size, so later joins can broadcast it;
        # a checkpoint would hide it and turn every join into a sort-merge join.
        old = self._kept.pop(step.name, None)
        kept = frame.persist(StorageLevel.MEMORY_AND_DISK)
        kept.count()
        kept.createOrReplaceTempView(step.name)
        if old is not None:
            old.unpersist()
        self._kept[step.name] = kept

    def fetch(self, sql: str) -> pa.Table:
        table: pa.Table = self.spark.sql(sql).toArrow()
        return table

    def export(self, sql: str, out: Path) -> None:
        self.spark.sql(sql).write.mode("overwrite").parquet(str(out))

    def close(self) -> None:
        for frame in self._kept.values():
            frame.unpersist()
        self._kept.clear()
        self.spark.stop()
        shutil.rmtree(self.temp_dir / "spark-local", ignore_errors=True)


def open_runner(name: EngineName, options: EngineOptions, temp_dir: Path) -> Runner:
    if name == "duckdb":
        return DuckDBRunner(options, temp_dir)
    if name == "spark":
        return SparkRunner(options, temp_dir)
    raise ValueError(f"unknown engine {name!r}: duckdb or spark")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
