"""The unit of work: a service opens one, does its work, and it commits or rolls back whole.

The change and the consent or audit row that records it share one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from mayknow.db.engine import LONE_READ, WRITE
from mayknow.db.turns import WriterTurns

# What read helpers accept: an ORM session (inside a service's unit of work) or a Core
# connection (hot read paths, ``UnitOfWork.reads``/``lone_read``).
Queryable = Session | Connection


class UnitOfWork:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Reads on PostgreSQL never end with ROLLBACK: psycopg drops the connection's
        # prepared statements at every ROLLBACK, so reads that ended with one were parsed
        # and planned afresh each time (half the database's CPU on GET /v1/suggestions).
        # - Core reads (the hot paths) run in autocommit. At PostgreSQL's isolation level,
        #   READ COMMITTED, each statement takes its own snapshot in a transaction or not,
        #   so a read-only transaction buys nothing and costs BEGIN and ROLLBACK.
        # - ORM reads are READ ONLY transactions that end with COMMIT (a write in one is
        #   an error, not a silent loss).
        # SQLite keeps its read transactions, rolled back: one snapshot for all statements.
        self._commit_reads = engine.dialect.name == "postgresql"
        self._reader = sessionmaker(
            bind=engine.execution_options(postgresql_readonly=True)
            if self._commit_reads
            else engine,
            expire_on_commit=False,
        )
        self._writer = sessionmaker(
            bind=engine.execution_options(**{WRITE: True}), expire_on_commit=False
        )
        self._core_reads = (
            engine.execution_options(isolation_level="AUTOCOMMIT") if self._commit_reads else engine
        )
        self._lone = self._core_reads.execution_options(**{LONE_READ: True})
        # SQLite reads a page cache in this process: a read by key costs less than a hop to
        # the thread pool, so async routes may run such reads on the event loop. Over a
        # network (PostgreSQL) a read waits on a socket, and goes to the thread pool.
        self.reads_inline = engine.dialect.name == "sqlite"
        database = engine.url.database
        self._turns = (
            WriterTurns(Path(database))
            if engine.dialect.name == "sqlite" and database not in (None, "", ":memory:")
            else None
        )

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits when the block ends without an exception."""
        with self._turn(), self._writer() as session, session.begin():
            yield session

    def _turn(self) -> AbstractContextManager[None]:
        return nullcontext() if self._turns is None else self._turns.turn()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A transaction that only reads: rolled back at the end on SQLite; on PostgreSQL
        read-only, and committed when the block ends without an exception."""
        with self._reader() as session:
            yield session
            if self._commit_reads:
                session.commit()

    @contextmanager
    def reads(self) -> Iterator[Connection]:
        """Reads on a Core connection, for hot paths that need no ORM objects: one read
        transaction, rolled back at the end, on SQLite; autocommit on PostgreSQL (see
        ``__init__``), where a write here would not be undone: write in ``write``."""
        with self._core_reads.connect() as connection:
            yield connection

    @contextmanager
    def lone_read(self) -> Iterator[Connection]:
        """A Core connection for exactly one read statement, which is its own snapshot: no
        BEGIN on either store. Two statements here would not see one state: use ``reads``."""
        with self._lone.connect() as connection:
            yield connection
