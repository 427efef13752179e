"""The audit log keeps 3 years (issue #4): retention cuts the oldest events and moves the
chain's checkpoint, and the chain still proves every event that remains (a fake clock).
Events here are fictional."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, Executable, delete, func, insert, select, update
from typer.testing import CliRunner

from mayknow import bootstrap, config
from mayknow.audit import service as audit
from mayknow.audit.models import AuditEvent, AuditHead
from mayknow.bootstrap import Container
from mayknow.db.engine import make_engine
from mayknow.db.migrate import downgrade, upgrade
from mayknow.entrypoints.cli import app
from mayknow.shared.clock import FakeClock

THREE_YEARS = 1095  # days, the default of audit_retention_days


def _record(container: Container, count: int, at: datetime | None = None) -> None:
    """``count`` fictional events, recorded now (or stamped ``at``)."""
    with container.uow.write() as session:
        for n in range(count):
            audit.record(
                session,
                at=at or container.clock.now(),
                actor="ref-0000fictional",
                action="consent_granted",
                subject="ref-0000fictional",
                details={"purpose": "contacts_upload", "n": n},
            )


def _ids(container: Container) -> list[int]:
    with container.uow.read() as session:
        return list(session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def _newest(container: Container) -> AuditEvent:
    with container.uow.read() as session:
        return session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()


def _tamper(container: Container, *statements: Executable) -> None:
    with container.engine.begin() as conn:
        for statement in statements:
            conn.execute(statement)


# -- the cut ---------------------------------------------------------------------------
def test_events_older_than_three_years_go_and_newer_ones_stay(
    container: Container, clock: FakeClock
) -> None:
    _record(container, 4)  # ids 1-4
    clock.advance(days=400)
    _record(container, 2)  # ids 5-6
    clock.advance(days=THREE_YEARS - 400)  # ids 1-4 are exactly 3 years old: not older
    assert container.retention.purge() == {}
    clock.advance(seconds=1)
    assert container.retention.purge() == {"audit_events": 4}
    assert _ids(container) == [5, 6, 7]  # 7: the purge's own event, after the cut
    verdict = container.verify_audit()
    assert verdict.ok, verdict.problem
    assert (verdict.base_id, verdict.checked) == (4, 3)


def test_the_purge_event_follows_the_cut_and_names_the_checkpoint(
    container: Container, clock: FakeClock
) -> None:
    _record(container, 3)
    clock.advance(days=THREE_YEARS + 1)
    container.retention.purge()
    newest = _newest(container)
    assert (newest.id, newest.action) == (4, "retention_purge")
    assert json.loads(newest.details) == {"audit_events": 3, "audit_checkpoint": 3}
    with container.uow.read() as session:
        head = session.get(AuditHead, audit.HEAD_ID)
        assert head is not None
        assert (head.base_id, head.last_id) == (3, 4)
        assert head.base_hash == newest.prev_hash  # the checkpoint is the last event cut


def test_the_chain_verifies_across_two_cuts(container: Container, clock: FakeClock) -> None:
    _record(container, 3)  # ids 1-3
    clock.advance(days=365)
    _record(container, 2)  # ids 4-5
    clock.advance(days=THREE_YEARS - 365 + 1)
    assert container.retention.purge() == {"audit_events": 3}  # event 6 records it
    _record(container, 1)  # id 7
    clock.advance(days=366)
    assert container.retention.purge() == {"audit_events": 2}  # 4-5; 6 is a year old
    assert _ids(container) == [6, 7, 8]
    verdict = container.verify_audit()
    assert verdict.ok, verdict.problem
    assert (verdict.base_id, verdict.checked) == (5, 3)
    assert container.retention.purge() == {}  # idempotent: nothing more is old enough
    assert container.verify_audit().ok


def test_a_cut_takes_only_a_prefix_even_when_a_later_event_is_older(
    container: Container, clock: FakeClock
) -> None:
    start = clock.now()
    _record(container, 2)  # ids 1-2
    clock.advance(days=10)
    _record(container, 1)  # id 3, ten days younger
    _record(container, 1, at=start)  # id 4, stamped by a server whose clock lagged
    clock.advance(days=THREE_YEARS + 1 - 10)  # 1, 2 and 4 are older than 3 years; 3 is not
    assert container.retention.purge() == {"audit_events": 2}
    assert _ids(container) == [3, 4, 5]
    assert container.verify_audit().ok


def test_the_retention_setting_takes_effect(
    settings: config.Settings, engine: Engine, clock: FakeClock
) -> None:
    thirty = dataclasses.replace(settings, audit_retention_days=30)
    container = bootstrap.build(thirty, clock=clock, engine=engine, migrate=False)
    _record(container, 2)
    clock.advance(days=31)
    assert container.retention.purge() == {"audit_events": 2}
    assert container.verify_audit().ok


def test_a_retention_under_a_day_is_refused() -> None:
    with pytest.raises(ValueError, match="audit_retention_days must be at least 1"):
        config.load(None, {"MAYKNOW_AUDIT_RETENTION_DAYS": "0"})


# -- what verification still catches after a cut ---------------------------------------
def _after_a_cut(container: Container, clock: FakeClock) -> None:
    """Events 1-3 cut (checkpoint 3); 4-8 remain, and 9 records the purge."""
    _record(container, 3)
    clock.advance(days=THREE_YEARS - 10)
    _record(container, 5)
    clock.advance(days=11)
    assert container.retention.purge() == {"audit_events": 3}
    assert _ids(container) == [4, 5, 6, 7, 8, 9]
    assert container.verify_audit().ok


def _swap_5_and_6(container: Container) -> None:
    with container.engine.begin() as conn:
        rows = {
            r.id: r._mapping
            for r in conn.execute(select(AuditEvent).where(AuditEvent.id.in_([5, 6])))
        }
        for this, other in ((5, 6), (6, 5)):
            values = {k: v for k, v in rows[other].items() if k != "id"}
            conn.execute(update(AuditEvent).where(AuditEvent.id == this).values(**values))


TAMPERING: dict[str, tuple[Callable[[Container], None], str]] = {
    "edited": (
        lambda c: _tamper(c, update(AuditEvent).where(AuditEvent.id == 6).values(details="{}")),
        "event 6 was altered",
    ),
    "first after the checkpoint removed": (
        lambda c: _tamper(c, delete(AuditEvent).where(AuditEvent.id == 4)),
        "event 4 is missing",
    ),
    "middle removed": (
        lambda c: _tamper(c, delete(AuditEvent).where(AuditEvent.id == 7)),
        "event 7 is missing",
    ),
    "reordered": (_swap_5_and_6, "event 5 does not follow event 4"),
    "newest removed": (
        lambda c: _tamper(c, delete(AuditEvent).where(AuditEvent.id >= 8)),
        "the newest events after event 7 were removed",
    ),
    "an old event put back behind the checkpoint": (
        lambda c: _tamper(
            c,
            insert(AuditEvent).values(
                id=2,
                at=c.clock.now(),
                actor="retention",
                action="nothing_happened",
                subject=None,
                details="{}",
                prev_hash=bytes(32),
                hash=bytes(32),
            ),
        ),
        "event 2 precedes the checkpoint",
    ),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_tampering_with_what_remains_is_detected_after_a_cut(
    kind: str, container: Container, clock: FakeClock
) -> None:
    _after_a_cut(container, clock)
    tamper, problem = TAMPERING[kind]
    tamper(container)
    verdict = container.verify_audit()
    assert not verdict.ok
    assert verdict.problem == problem
    assert verdict.base_id == 3


def test_removing_events_in_the_middle_fails_and_retention_keeps_the_evidence(
    container: Container, clock: FakeClock
) -> None:
    _record(container, 6)  # ids 1-6
    _tamper(container, delete(AuditEvent).where(AuditEvent.id.in_([3, 4])))  # not a prefix
    assert container.verify_audit().problem == "event 3 is missing"
    clock.advance(days=THREE_YEARS + 1)
    assert container.retention.purge() == {"audit_events": 2}  # 1-2: up to the gap only
    assert _ids(container) == [5, 6, 7]
    verdict = container.verify_audit()
    assert verdict.problem == "event 3 is missing"
    assert verdict.base_id == 2


def test_an_old_prefix_removed_by_hand_is_detected_and_not_laundered(
    container: Container, clock: FakeClock
) -> None:
    _record(container, 5)
    _tamper(container, delete(AuditEvent).where(AuditEvent.id <= 2))  # checkpoint unmoved
    assert container.verify_audit().problem == "event 1 is missing"
    clock.advance(days=THREE_YEARS + 1)
    assert container.retention.purge() == {}  # the cut starts where the chain breaks
    assert container.verify_audit().problem == "event 1 is missing"


def test_an_altered_old_event_stops_the_cut_before_it(
    container: Container, clock: FakeClock
) -> None:
    _record(container, 5)
    _tamper(container, update(AuditEvent).where(AuditEvent.id == 3).values(actor="someone"))
    clock.advance(days=THREE_YEARS + 1)
    assert container.retention.purge() == {"audit_events": 2}
    assert container.verify_audit().problem == "event 3 was altered"


# -- the command ------------------------------------------------------------------------
def test_audit_verify_says_how_many_events_it_checked_and_from_which_checkpoint(
    container: Container, clock: FakeClock
) -> None:
    settings = container.settings
    args = ["audit", "verify", "--db", settings.database_url]
    args += ["--data-dir", str(settings.data_dir)]
    _record(container, 3)
    before = CliRunner().invoke(app, args)
    assert before.exit_code == 0, before.output
    assert "3 events checked from the start of the log" in before.output
    clock.advance(days=THREE_YEARS + 1)
    _record(container, 1)  # id 4, young
    container.retention.purge()  # cuts 1-3; 5 records it
    with container.uow.read() as session:
        base_hash = session.scalar(select(AuditHead.base_hash))
    assert base_hash is not None
    after = CliRunner().invoke(app, args)
    assert after.exit_code == 0, after.output
    assert f"2 events checked from checkpoint event 3 (hash {base_hash.hex()}" in after.output
    _tamper(container, delete(AuditEvent).where(AuditEvent.id == 4))
    broken = CliRunner().invoke(app, args)
    assert broken.exit_code == 1
    assert "from checkpoint event 3" in broken.output
    assert "event 4 is missing" in broken.output


# -- the migration ------------------------------------------------------------------------
def test_the_migration_starts_an_existing_chain_at_genesis_and_keeps_its_cuts(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'before-0006.db'}")
    try:
        upgrade(engine, "0005")
        upgrade(engine)
        with engine.connect() as conn:
            head = conn.execute(select(AuditHead.base_id, AuditHead.base_hash)).one()
        assert tuple(head) == (0, audit.GENESIS)
        with engine.begin() as conn:
            conn.execute(update(AuditHead).values(base_id=3))
        with pytest.raises(RuntimeError, match="event 3"):
            downgrade(engine, "0005")
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(AuditHead)) == 1
    finally:
        engine.dispose()
