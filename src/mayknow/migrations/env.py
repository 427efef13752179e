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
    sqlite = connection.dialect.name == "sqlite"
    driver = connection.connection.driver_connection
    assert driver is not None
    if sqlite:  # a table rebuild (batch mode) must not cascade when it drops the old table;
        driver.execute("PRAGMA foreign_keys=OFF")  # only outside a transaction
    try:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=sqlite)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration broke {len(broken)} references")
        connection.commit()
    finally:
        if sqlite:
            driver.execute("PRAGMA foreign_keys=ON")
