"""Small statements every repository needs, written once for both dialects."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Executable
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def affected(session: Session, statement: Executable) -> int:
    """Run a DELETE or UPDATE and return how many rows it touched."""
    return int(cast("CursorResult[Any]", session.execute(statement)).rowcount)


def insert_for(session: Session, model: Any) -> sqlite.Insert | postgresql.Insert:
    """An INSERT that understands ON CONFLICT, on SQLite and PostgreSQL alike."""
    return insert_in(session.get_bind().dialect.name, model)


def insert_in(dialect_name: str, model: Any) -> sqlite.Insert | postgresql.Insert:
    """The same, for a dialect known by name."""
    if dialect_name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)
