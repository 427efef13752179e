"""The audit log: append-only, each event carrying the hash of the one before.

``record`` is called inside the transaction of the change it records. ``verify`` walks
the chain from its checkpoint and names the first event that was edited, removed or
reordered. ``cut`` is retention: it removes the oldest events, always a prefix of the
chain that verifies, and moves the checkpoint to the newest event removed, in the
caller's transaction; what remains is proven from the checkpoint on.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mayknow.audit.models import GENESIS, AuditEvent, AuditHead
from mayknow.db.ops import affected
from mayknow.shared.clock import as_utc

__all__ = ["GENESIS", "HEAD_ID", "Cut", "Verdict", "cut", "events_about", "record", "verify"]

HEAD_ID = 1
log = logging.getLogger("mayknow.audit")


def _digest(
    prev: bytes,
    event_id: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str | None,
    details: str,
) -> bytes:
    body = json.dumps(
        [event_id, as_utc(at).isoformat(timespec="microseconds"), actor, action, subject, details],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(prev + body.encode()).digest()


def _locked_head(session: Session) -> AuditHead:
    head = session.get(AuditHead, HEAD_ID, with_for_update=True)
    if head is None:  # the migration creates it; a bare metadata.create_all may not
        head = AuditHead(id=HEAD_ID, last_id=0, last_hash=GENESIS, base_id=0, base_hash=GENESIS)
        session.add(head)
    return head


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    subject: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Append one event. ``details`` must hold no phone number, name, city or body."""
    head = _locked_head(session)
    text = json.dumps(dict(details or {}), sort_keys=True, ensure_ascii=False)
    event_id = head.last_id + 1
    digest = _digest(head.last_hash, event_id, at, actor, action, subject, text)
    session.add(
        AuditEvent(
            id=event_id,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            details=text,
            prev_hash=head.last_hash,
            hash=digest,
        )
    )
    head.last_id, head.last_hash = event_id, digest
    session.flush()


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    problem: str = ""
    base_id: int = 0  # the checkpoint the walk started from: events up to it were removed
    base_hash: bytes = GENESIS


@dataclass(frozen=True)
class _Walk:
    last_id: int
    last_hash: bytes
    checked: int
    problem: str


def _walk(events: Iterable[AuditEvent], base_id: int, base_hash: bytes) -> _Walk:
    """Follow the chain from the checkpoint; stop at the first event that breaks it."""
    prev_id, prev, checked = base_id, base_hash, 0
    for event in events:
        expected_id = prev_id + 1
        if event.id < expected_id:  # ids are unique and sorted: only the first can be
            return _Walk(prev_id, prev, checked, f"event {event.id} precedes the checkpoint")
        if event.id != expected_id:
            return _Walk(prev_id, prev, checked, f"event {expected_id} is missing")
        if event.prev_hash != prev:
            problem = f"event {event.id} does not follow event {prev_id}"
            return _Walk(prev_id, prev, checked, problem)
        digest = _digest(
            prev, event.id, event.at, event.actor, event.action, event.subject, event.details
        )
        if digest != event.hash:
            return _Walk(prev_id, prev, checked, f"event {event.id} was altered")
        prev_id, prev, checked = event.id, digest, checked + 1
    return _Walk(prev_id, prev, checked, "")


def _one_snapshot(session: Session) -> None:
    """PostgreSQL: read the head and walk the events in one snapshot, so an append or a
    cut committed meanwhile is not mistaken for tampering (SQLite reads one anyway)."""
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def verify(session: Session) -> Verdict:
    _one_snapshot(session)
    head = session.get(AuditHead, HEAD_ID)
    base_id, base_hash = (head.base_id, head.base_hash) if head else (0, GENESIS)
    query = select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000)
    with closing(session.scalars(query)) as events:
        walk = _walk(events, base_id, base_hash)
    problem = walk.problem
    if not problem and head and (head.last_id, head.last_hash) != (walk.last_id, walk.last_hash):
        problem = f"the newest events after event {walk.last_id} were removed"
    return Verdict(not problem, walk.checked, problem, base_id, base_hash)


@dataclass(frozen=True)
class Cut:
    removed: int
    base_id: int  # the checkpoint after the cut: the newest event removed, ever


def cut(session: Session, before: datetime) -> Cut:
    """Remove the events recorded before ``before`` that open the chain, and move the
    checkpoint past them, in the caller's transaction.

    Only a prefix goes: the events from the checkpoint up to (not including) the first
    one recorded at or after ``before``. The prefix is verified first and is cut only as
    far as it verifies, so retention never erases the evidence of tampering.
    """
    head = _locked_head(session)  # one cut (and no append) at a time
    base_id = head.base_id
    first_young = session.scalar(  # walks the primary key from the checkpoint, no further
        select(AuditEvent.id)
        .where(AuditEvent.id > base_id, AuditEvent.at >= before)
        .order_by(AuditEvent.id)
        .limit(1)
    )
    end = head.last_id if first_young is None else first_young - 1
    if end <= base_id:
        return Cut(0, base_id)
    query = (
        select(AuditEvent)
        .where(AuditEvent.id > base_id, AuditEvent.id <= end)
        .order_by(AuditEvent.id)
        .execution_options(yield_per=1000)
    )
    with closing(session.scalars(query)) as events:
        walk = _walk(events, base_id, head.base_hash)
    if walk.problem:
        log.warning("audit retention stops at event %d: %s", walk.last_id, walk.problem)
    if walk.last_id == base_id:
        return Cut(0, base_id)
    removed = affected(
        session,
        delete(AuditEvent).where(AuditEvent.id > base_id, AuditEvent.id <= walk.last_id),
    )
    head.base_id, head.base_hash = walk.last_id, walk.last_hash
    session.flush()
    return Cut(removed, walk.last_id)


def events_about(session: Session, subject: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(AuditEvent).where(AuditEvent.subject == subject).order_by(AuditEvent.id)
    )
    return [
        {"at": as_utc(r.at).isoformat(), "action": r.action, "details": json.loads(r.details)}
        for r in rows
    ]
