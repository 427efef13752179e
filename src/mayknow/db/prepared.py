"""Hot read statements: compiled once per dialect, then run on the driver's own cursor.

SQLAlchemy's execution path (parameter processing, result objects, events) costs tens of
microseconds a statement; on the hottest reads (the session behind every request, the
profile, consent and settings checks) that was most of the request. A ``Prepared``
statement keeps SQLAlchemy's compiler and type conversions, and skips the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

from mayknow.db.engine import LONE_READ
from mayknow.db.ops import insert_in
from mayknow.db.uow import Queryable

Row = tuple[Any, ...]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: tuple[str, ...] | None  # parameter names in order (SQLite) or None (named)
    defaults: dict[str, Any]  # values the statement carries itself (LIMIT 1)
    binds: dict[str, Callable[[Any], Any]]
    expanding: frozenset[str]  # ``IN`` lists, their items converted one by one
    written_out: bool  # the lists are written out in the SQL (else passed as arrays)
    results: tuple[Callable[[Any], Any] | None, ...]


class Prepared:
    """A SELECT run straight on the driver. An expanding parameter (``IN :ids``) takes a
    non-empty sequence; the caller answers an empty one without asking the database.

    On PostgreSQL an ``IN`` list is passed as one array (``= ANY(%(ids)s)``), so the
    statement's text is the same for every length and psycopg prepares it once; SQLite
    has no arrays, and the list is written out there."""

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def all(self, db: Queryable, **params: Any) -> list[Row]:
        connection = _connection(db)
        compiled, sql, arguments = self._bound(connection, params)
        rows = _driver(connection).execute(sql, arguments).fetchall()
        return self._converted(compiled, rows)

    def batches(self, db: Queryable, size: int, **params: Any) -> Iterator[list[Row]]:
        """The rows in lists of at most ``size``, read as they are needed: a scan of a
        whole table without holding it in memory (on PostgreSQL through a server-side
        cursor, which lives as long as the caller's transaction)."""
        connection = _connection(db)
        compiled, sql, arguments = self._bound(connection, params)
        driver = _driver(connection)
        named = connection.dialect.name == "postgresql"
        cursor = driver.cursor(name="mayknow_batches") if named else driver.cursor()
        try:
            cursor.execute(sql, arguments)
            while rows := cursor.fetchmany(size):
                yield self._converted(compiled, rows)
        finally:
            cursor.close()

    def _bound(
        self, connection: Connection, params: dict[str, Any]
    ) -> tuple[_Compiled, str, Sequence[Any] | dict[str, Any]]:
        """The compiled statement, its SQL for these values, and the values as the driver
        takes them."""
        compiled = self._compiled.get(connection.dialect.name) or self._compile(connection.dialect)
        values = {**compiled.defaults, **params}
        for name in compiled.expanding:
            values[name] = list(values[name])
            if not values[name]:
                raise ValueError(f"{name!r} is empty: answer without asking the database")
        for name, process in compiled.binds.items():
            value = values[name]
            values[name] = (
                [process(v) for v in value] if name in compiled.expanding else process(value)
            )
        if compiled.written_out:
            return compiled, *_expanded(compiled, values)
        order = compiled.positional
        return compiled, compiled.sql, values if order is None else [values[n] for n in order]

    @staticmethod
    def _converted(compiled: _Compiled, rows: Sequence[Any]) -> list[Row]:
        if not any(compiled.results):
            return [tuple(row) for row in rows]
        return [
            tuple(v if p is None else p(v) for p, v in zip(compiled.results, row, strict=True))
            for row in rows
        ]

    def one_or_none(self, db: Queryable, **params: Any) -> Row | None:
        rows = self.all(db, **params)
        if len(rows) > 1:
            raise LookupError("more than one row where at most one was expected")
        return rows[0] if rows else None

    def scalars(self, db: Queryable, **params: Any) -> list[Any]:
        return [row[0] for row in self.all(db, **params)]

    def scalar(self, db: Queryable, **params: Any) -> Any:
        row = self.one_or_none(db, **params)
        return None if row is None else row[0]

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        binds = _bind_processors(compiled, dialect)
        defaults = {name: b.value for name, b in compiled.binds.items() if not b.required}
        expanding = frozenset(name for name, b in compiled.binds.items() if b.expanding)
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in self.statement.selected_columns
        )
        positional = tuple(compiled.positiontup or ()) if compiled.positional else None
        sql, written_out = compiled.string, bool(expanding)
        if expanding and dialect.name == "postgresql":
            sql, written_out = _as_arrays(compiled, dialect, expanding), False
        elif expanding and positional is None:
            raise NotImplementedError(f"{dialect.name}: IN lists need ?-marks or arrays")
        made = _Compiled(sql, positional, defaults, binds, expanding, written_out, results)
        self._compiled[dialect.name] = made
        return made


class PreparedInsert:
    """``INSERT … ON CONFLICT DO NOTHING`` of many rows into one table, compiled once per
    dialect and handed to the driver's ``executemany``."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}

    def many(self, db: Queryable, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        connection = _connection(db)
        dialect = connection.dialect
        sql, order, binds = self._compiled.get(dialect.name) or self._compile(dialect)
        converted: dict[tuple[str, Any], Any] = {}  # rows share most values (one timestamp)

        def convert(key: str, value: Any) -> Any:
            if key not in binds:
                return value
            if (key, value) not in converted:
                converted[key, value] = binds[key](value)
            return converted[key, value]

        processed = [{k: convert(k, v) for k, v in row.items()} for row in rows]
        arguments: list[Any] = (
            processed if order is None else [[row[k] for k in order] for row in processed]
        )
        _driver(connection).cursor().executemany(sql, arguments)

    def _compile(self, dialect: Dialect) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
        statement = insert_in(dialect.name, self.table).on_conflict_do_nothing()
        compiled = statement.compile(dialect=dialect, column_keys=list(self.table.columns.keys()))
        binds = _bind_processors(compiled, dialect)
        order = tuple(compiled.positiontup or ()) if compiled.positional else None
        made = (compiled.string, order, binds)
        self._compiled[dialect.name] = made
        return made


def _connection(db: Queryable) -> Connection:
    return db.connection() if isinstance(db, Session) else db


def _bind_processors(compiled: SQLCompiler, dialect: Dialect) -> dict[str, Callable[[Any], Any]]:
    """How SQLAlchemy converts each parameter's value for this driver (datetimes on SQLite)."""
    found: dict[str, Callable[[Any], Any]] = {}
    for name, bind in compiled.binds.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            found[name] = process
    return found


def _as_arrays(compiled: SQLCompiler, dialect: Dialect, expanding: frozenset[str]) -> str:
    """The SQL with each ``IN`` list taken as one array parameter of the column's type."""
    sql = compiled.string
    for name in expanding:
        item = dialect.type_compiler_instance.process(compiled.binds[name].type)
        array = f"CAST(%({name})s AS {item}[])"
        sql = sql.replace(f"NOT IN (__[POSTCOMPILE_{name}])", f"<> ALL ({array})")
        sql = sql.replace(f"IN (__[POSTCOMPILE_{name}])", f"= ANY ({array})")
        if f"__[POSTCOMPILE_{name}]" in sql:
            raise NotImplementedError(f"{name!r}: only [NOT] IN lists are supported")
    return sql


def _expanded(compiled: _Compiled, values: dict[str, Any]) -> tuple[str, list[Any]]:
    """The SQL with each ``IN`` list written out as ?-marks, and the values in order."""
    assert compiled.positional is not None  # checked in _compile
    sql = compiled.sql
    for name in compiled.expanding:
        sql = sql.replace(f"__[POSTCOMPILE_{name}]", ", ".join("?" * len(values[name])))
    arguments = [
        v
        for name in compiled.positional
        for v in (values[name] if name in compiled.expanding else [values[name]])
    ]
    return sql, arguments


def _driver(connection: Connection) -> Any:
    """The driver connection, inside the transaction the caller's unit of work expects: a
    lone read runs as its own snapshot; anything else begins as SQLAlchemy would."""
    if not connection.in_transaction() and not connection.get_execution_options().get(
        LONE_READ, False
    ):
        connection.begin()
    return connection.connection.driver_connection
