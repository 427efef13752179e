"""Engines for the embedded SQLite file and for PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from mayknow.config import Settings

WRITE = "mayknow_write"
# A connection that runs one read statement: on SQLite no BEGIN is sent, since a lone
# statement is its own snapshot (autocommit); on PostgreSQL the unit of work runs such
# reads in autocommit too (UnitOfWork.__init__).
LONE_READ = "mayknow_lone_read"


def make_engine(url: str, pool_size: int = Settings.db_pool_size) -> Engine:
    """The engine for ``url``. On PostgreSQL a fixed pool of ``pool_size`` connections: a
    request beyond it waits (up to 30 s) instead of opening one more backend to compete
    for the same cores."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(
        url, pool_pre_ping=True, pool_size=pool_size, max_overflow=0, pool_timeout=30
    )


def _sqlite_engine(url: str) -> Engine:
    memory = url in {"sqlite://", "sqlite:///:memory:"}
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        poolclass=NullPool if memory else None,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writing transaction takes the write lock up front, so two writers never
        # both read a state and then collide when upgrading to write.
        options = conn.get_execution_options()
        if options.get(LONE_READ, False):
            return
        # Straight to the driver: the statement needs none of SQLAlchemy's execution path.
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute("BEGIN IMMEDIATE" if options.get(WRITE, False) else "BEGIN")

    return engine
