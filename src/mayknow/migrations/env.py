"""Alembic environment: runs against the engine that mayknow hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, create_engine

from mayknow.schema import metadata

config = context.config
engine = config.attributes.get("engine")
if not isinstance(engine, Engine):  # invoked by the alembic command line
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
