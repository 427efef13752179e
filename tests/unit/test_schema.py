from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from mayknow.db.base import PRIVACY_KEY, PersonalData
from mayknow.schema import metadata


def test_every_column_declares_whether_it_holds_personal_data() -> None:
    undeclared = [
        f"{t.name}.{c.name}"
        for t in metadata.sorted_tables
        for c in t.columns
        if PRIVACY_KEY not in c.info
    ]
    assert undeclared == []


def test_personal_data_declarations_are_complete() -> None:
    for table in metadata.sorted_tables:
        for column in table.columns:
            declared = column.info[PRIVACY_KEY]
            if declared is None:
                continue
            assert isinstance(declared, PersonalData)
            assert declared.basis in {"contract", "legal_obligation"} or declared.basis.startswith(
                "consent:"
            ), column
            assert declared.category, column
            assert declared.purpose, column
            assert declared.retention, column


def test_migrations_build_exactly_the_declared_tables(engine: Engine) -> None:
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_migrations_ship_inside_the_package() -> None:
    import mayknow

    versions = Path(mayknow.__file__).parent / "migrations" / "versions"
    assert any(versions.glob("0001_*.py"))
