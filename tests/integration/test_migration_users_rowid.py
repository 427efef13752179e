"""Migration 0009 rebuilds SQLite's users table around the rowid: every row of every table
survives it (foreign keys are off while the old table is dropped, so nothing cascades),
and the account id is the rowid afterwards."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select, text

from mayknow import bootstrap, config
from mayknow.accounts.sms import OutboxSender
from mayknow.db.engine import make_engine
from mayknow.db.migrate import downgrade, upgrade
from mayknow.schema import metadata
from mayknow.shared.clock import FakeClock


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
            for t in metadata.sorted_tables
        }


def _populate(engine: Engine, data_dir: Path) -> list[int]:
    settings = config.Settings(data_dir=data_dir, db=str(engine.url), dev=True)
    clock, outbox = FakeClock(), OutboxSender()
    container = bootstrap.build(settings, clock=clock, sms=outbox, engine=engine, migrate=False)
    ids = []
    for i in range(3):
        phone = f"+86139000077{i:02d}"
        clock.advance(seconds=61)
        container.accounts.request_code(phone, "127.0.0.1")
        code = outbox.last_code(phone)
        assert code is not None
        signed_in = container.accounts.register(
            phone, code, f"成员{i}", container.consent.policy_version, "127.0.0.1", "api"
        )
        ids.append(signed_in.user_id)
    container.graph.follow(ids[2], ids[0])
    return ids


def test_the_users_table_is_rebuilt_around_the_rowid_and_nothing_is_lost(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'before-0009.db'}")
    try:
        upgrade(engine, "0008")
        ids = _populate(engine, tmp_path / "data")
        before = _counts(engine)
        assert (before["users"], before["follows"], before["consent_events"]) == (3, 1, 3)
        upgrade(engine)
        assert _counts(engine) == before
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, rowid FROM users ORDER BY id")).all()
            assert [tuple(r) for r in rows] == [(i, i) for i in sorted(ids)]
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # on again
        downgrade(engine, "0008")
        assert _counts(engine) == before
        upgrade(engine)
        assert _counts(engine) == before
    finally:
        engine.dispose()
